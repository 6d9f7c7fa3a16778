"""Importing special-group residents: preview, then all or nothing, row-level
errors, raw rows deleted once applied, the template."""

import io

import pytest
from django.urls import reverse

from center.models import AuditEntry
from requests.models import Resident, ResidentGroup, ResidentImport
from requests.services import residents as registry
from tests.factories import CommunityFactory, ResidentFactory, special_group

pytestmark = pytest.mark.django_db

HEADER = "姓名,电话,社区,地址,特殊群体,免费服务,紧急联系人,联系人关系,联系人电话\n"


def _csv(community, *rows):
    lines = [HEADER]
    for name, phone, groups in rows:
        lines.append(
            f"{name},{phone},{community.code},某路1号,{groups},是,王小红,女儿,13900009999\n"
        )
    return "".join(lines).encode("utf-8")


def _upload(client, content, name="residents.csv"):
    f = io.BytesIO(content)
    f.name = name
    return client.post(reverse("requests:resident_import"), {"file": f})


def test_preview_then_apply_writes_every_row_and_purges_the_raw_rows(
    client, station_manager, community
):
    client.force_login(station_manager)
    content = _csv(
        community,
        ("张大爷", "13800001111", "独居老人"),
        ("李奶奶", "13800002222", "空巢老人、低保户"),
    )
    response = _upload(client, content)
    batch = ResidentImport.objects.get()
    assert response.status_code == 302 and batch.status == "previewed"
    assert not Resident.objects.exists()  # the preview writes nothing but the batch
    preview = client.get(
        reverse("requests:resident_import_preview", args=[batch.pk])
    ).content.decode()
    assert "138****1111" in preview and "13800001111" not in preview
    client.post(reverse("requests:resident_import_apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "applied" and batch.created_count == 2
    assert batch.rows == [] and batch.rows_purged_at is not None
    li = Resident.objects.get(name="李奶奶")
    assert li.is_special and li.is_free and li.community == community
    assert set(li.groups.values_list("group__code", flat=True)) == {"empty-nest", "minimum-living"}
    assert li.phones.get().number == "13800002222"
    assert li.contacts.get().phone == "13900009999"
    assert AuditEntry.objects.filter(action="requests.resident.created").count() == 2


def test_one_bad_row_rejects_the_whole_file_with_messages(
    client, station_manager, community, other_station
):
    far = CommunityFactory()
    other_station.communities.add(far)
    ResidentFactory(name="重复", phone="13800003333", community=community)
    rows = [
        ("好人", "13800001111", "独居老人"),
        ("", "12345", "独居老人"),  # no name, bad phone
        ("重复", "13800003333", "独居老人"),  # already registered
        ("敏感", "13800004444", "残疾人"),  # sensitive: needs consent first
        ("没组", "13800005555", "外星人"),  # unknown group
    ]
    content = _csv(community, *rows) + f"远方,13800006666,{far.code},路,独居老人,否,,,\n".encode()
    client.force_login(station_manager)
    _upload(client, content)
    batch = ResidentImport.objects.get()
    assert batch.status == "rejected"
    by_row = {e["row"]: " ".join(e["messages"]) for e in batch.errors}
    assert set(by_row) == {3, 4, 5, 6, 7}
    assert "12345" not in str(batch.errors) or "123****" in str(batch.errors)
    assert "13800003333" not in str(batch.errors)  # masked in the errors
    response = client.post(reverse("requests:resident_import_apply", args=[batch.pk]))
    assert response.status_code == 302
    assert Resident.objects.count() == 1  # only the one registered before


def test_apply_checks_again(client, station_manager, community):
    client.force_login(station_manager)
    _upload(client, _csv(community, ("张大爷", "13800001111", "独居老人")))
    batch = ResidentImport.objects.get()
    ResidentFactory(name="张大爷", phone="13800001111", community=community)  # registered since
    client.post(reverse("requests:resident_import_apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "rejected" and Resident.objects.count() == 1
    assert not ResidentGroup.objects.exists()


def test_only_the_uploader_applies_and_others_do_not_see_it(
    client, station_manager, community, other_station
):
    from center.models import Role
    from tests.factories import UserFactory

    client.force_login(station_manager)
    _upload(client, _csv(community, ("张大爷", "13800001111", "独居老人")))
    batch = ResidentImport.objects.get()
    other = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    client.force_login(other)
    assert (
        client.get(reverse("requests:resident_import_preview", args=[batch.pk])).status_code == 404
    )
    assert (
        client.post(reverse("requests:resident_import_apply", args=[batch.pk])).status_code == 404
    )
    assert not Resident.objects.exists()


def test_operator_and_outsider_cannot_import(client, operator, outsider):
    for user in (operator, outsider):
        client.force_login(user)
        assert client.get(reverse("requests:resident_import")).status_code == 403
        assert (
            client.get(reverse("requests:resident_import_template", args=["csv"])).status_code
            == 403
        )


def test_templates_and_missing_columns(client, station_manager):
    client.force_login(station_manager)
    csv_t = client.get(reverse("requests:resident_import_template", args=["csv"]))
    assert csv_t.content.decode("utf-8-sig").startswith("姓名,电话,社区")
    xlsx = client.get(reverse("requests:resident_import_template", args=["xlsx"]))
    assert xlsx.content[:2] == b"PK"
    response = _upload(client, "姓名,电话\n张,13800001111\n".encode())
    assert response.status_code == 200 and not ResidentImport.objects.exists()


def test_xlsx_import(client, station_manager, community):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "电话", "社区", "特殊群体"])
    book.active.append(["王大爷", "13800007777", community.name, "特困人员"])
    out = io.BytesIO()
    book.save(out)
    client.force_login(station_manager)
    _upload(client, out.getvalue(), name="r.xlsx")
    batch = ResidentImport.objects.get()
    registry.import_apply(actor=station_manager, batch=batch)
    assert Resident.objects.get().groups.get().group == special_group("extreme-hardship")


def test_unapplied_rows_are_purged_after_the_retention(station_manager, community, settings):
    import datetime

    from django.utils import timezone

    batch = registry.import_preview(
        actor=station_manager,
        filename="a.csv",
        content=_csv(community, ("张大爷", "13800001111", "独居老人")),
    )
    later = timezone.now() + datetime.timedelta(days=settings.LIANXIN["IMPORT_RETENTION_DAYS"] + 1)
    assert registry.import_rows_purge(now=later) == 1
    batch.refresh_from_db()
    assert batch.rows == [] and batch.rows_purged_at is not None


def test_the_resident_import_purge_is_a_daily_task():
    from center.celery import BEAT_SCHEDULE
    from requests import tasks

    assert any(
        e["task"] == "requests.tasks.purge_resident_import_rows" for e in BEAT_SCHEDULE.values()
    )
    assert tasks.purge_resident_import_rows.delay().get() == 0


def test_row_errors_mask_numbers_in_shifted_columns(station_manager, community):
    # One column too few: the phone lands in 社区, the ID number in 特殊群体.
    content = (
        "姓名,电话,社区,地址,特殊群体\n"
        "错位,13912340001,13912340001,,11010519491231002X\n"
        "13800007777,13800007777,13800007777,,独居老人\n"
    ).encode()
    rows = registry.import_parse("r.csv", content)
    _clean, errors = registry.import_check(rows, station_manager)
    text = str(errors)
    assert "13912340001" not in text and "139****0001" in text
    assert "11010519491231002X" not in text and "110105********002X" in text
    assert "13800007777" not in text and "138****7777" in text  # a phone typed as the name
