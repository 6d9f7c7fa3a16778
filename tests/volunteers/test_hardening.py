"""Hardening of the volunteers app: one number format, personal data kept out of
forms, previews and old imports, logged showings, no 500 on bad input."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry
from center.validators import id_check_character
from tests.factories import MerchantFactory, OrganizationFactory, VolunteerFactory
from tests.volunteers.test_imports import csv_file, upload
from volunteers import services
from volunteers.models import HoursEntry, ImportBatch, Volunteer

pytestmark = pytest.mark.django_db

ID = "33040219900101123"
ID = ID + id_check_character(ID)
FULL_WIDTH_ID = ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


def _volunteer_form(station, **extra):
    return {
        "name": "张三",
        "mobile": "+86 137-0000-0001",
        "is_party_member": "on",
        "kind": "community",
        "station": station.pk,
        **extra,
    }


def test_volunteer_form_accepts_a_plus86_mobile_and_stores_it_plain(
    login, station_manager, station
):
    client = login(station_manager)
    response = client.post(reverse("volunteers:volunteer_create"), _volunteer_form(station))
    # Saved: the page shows the new login's activation code, once.
    assert 'data-testid="activation-codes"' in response.content.decode()
    assert Volunteer.objects.get().mobile == "13700000001"


def test_a_full_width_copy_of_a_registered_id_number_is_refused(login, station_manager, station):
    VolunteerFactory(id_number=ID, station=station)
    client = login(station_manager)
    response = client.post(
        reverse("volunteers:volunteer_create"),
        _volunteer_form(station, id_number=FULL_WIDTH_ID),
    )
    assert response.status_code == 200 and Volunteer.objects.count() == 1
    assert "已存在" in response.content.decode() or "already exists" in response.content.decode()


def test_a_full_width_mobile_of_a_registered_volunteer_is_refused(login, station_manager, station):
    VolunteerFactory(mobile="13700000001", station=station)
    client = login(station_manager)
    response = client.post(
        reverse("volunteers:volunteer_create"),
        _volunteer_form(station, mobile="１３７００００００００１"),
    )
    assert response.status_code == 200 and Volunteer.objects.count() == 1


def test_edit_forms_never_send_the_stored_mobile(login, station_manager, station):
    volunteer = VolunteerFactory(mobile="13711112222", id_number=ID, station=station)
    merchant = MerchantFactory(mobile="13933334444", stations=[station])
    client = login(station_manager)
    page = client.get(reverse("volunteers:volunteer_update", args=[volunteer.pk])).content.decode()
    assert "13711112222" not in page and "137****2222" in page and ID not in page
    page = client.get(reverse("volunteers:merchant_update", args=[merchant.pk])).content.decode()
    assert "13933334444" not in page and "139****4444" in page
    # Empty keeps what is on file.
    client.post(
        reverse("volunteers:volunteer_update", args=[volunteer.pk]),
        _volunteer_form(station, mobile="", name="张三改"),
    )
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.mobile, volunteer.id_number) == ("张三改", "13711112222", ID)


def test_each_certificate_showing_is_logged(login, station_manager, station):
    volunteer = VolunteerFactory(id_number=ID, station=station)
    services.hours_record(
        actor=None,
        volunteer=volunteer,
        date=timezone.localdate(),
        hours=Decimal("2"),
        source=HoursEntry.Source.MANUAL,
        description="x",
        station=station,
        reason="x",
    )
    certificate = services.certificate_issue(
        actor=station_manager,
        volunteer=volunteer,
        station=station,
        period_start=timezone.localdate() - datetime.timedelta(days=1),
        period_end=timezone.localdate(),
    )
    before = AuditEntry.objects.filter(action="center.pii.revealed").count()
    client = login(station_manager)
    for _i in range(2):
        assert client.get(certificate.get_absolute_url()).status_code == 200
    shown = AuditEntry.objects.filter(action="center.pii.revealed").order_by("-id")[:2]
    assert AuditEntry.objects.filter(action="center.pii.revealed").count() == before + 2
    assert all(e.data["purpose"] == "certificate" and e.actor == station_manager for e in shown)


def test_admin_user_page_masks_the_list_and_logs_the_form(login, center_manager, station_manager):
    client = login(center_manager)
    listing = client.get("/admin/center/user/").content.decode()
    assert station_manager.mobile not in listing
    assert client.get(f"/admin/center/user/{station_manager.pk}/change/").status_code == 200
    entry = AuditEntry.objects.get(action="center.pii.revealed")
    assert entry.data == {"fields": ["mobile"], "purpose": "admin"}


# --- Imports ---------------------------------------------------------------------------


def test_import_preview_masks_numbers_and_applying_deletes_the_raw_rows(
    login, station_manager, station
):
    client = login(station_manager)
    upload(
        client, "volunteers", csv_file(f"张三,13700000001,{ID},是,社区志愿者,,{station.code},\n")
    )
    batch = ImportBatch.objects.get()
    page = client.get(reverse("volunteers:import_preview", args=[batch.pk])).content.decode()
    assert "13700000001" not in page and "137****0001" in page
    assert ID not in page and "330402********" in page
    client.post(reverse("volunteers:import_apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.rows == []
    assert batch.rows_purged_at is not None
    assert Volunteer.objects.get().id_number == ID


def test_unapplied_import_rows_are_purged_after_the_retention_period(
    station_manager, station, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "IMPORT_RETENTION_DAYS": 7}
    old = services.import_preview(
        actor=station_manager,
        kind="volunteers",
        filename="a.csv",
        content=("姓名,手机号,站点编号\n张三,13700000001," + station.code).encode(),
    )
    fresh = services.import_preview(
        actor=station_manager,
        kind="volunteers",
        filename="b.csv",
        content=("姓名,手机号,站点编号\n李四,13700000002," + station.code).encode(),
    )
    ImportBatch.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=8)
    )
    from volunteers.tasks import purge_import_rows

    assert purge_import_rows() == 1 and purge_import_rows() == 0
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.rows == [] and old.rows_purged_at and fresh.rows


@pytest.mark.parametrize(
    "body",
    [
        "张三," + "1" * 200000 + ",,是,社区志愿者,,BR-A,\n",  # over the csv module's field limit
        "张\x00三,13700000001,,是,社区志愿者,,BR-A,\n",
        '"张三,13700000001\n',  # an unclosed quote running to the end
    ],
)
def test_hostile_import_files_get_a_message_not_a_500(login, station_manager, station, body):
    client = login(station_manager)
    response = upload(client, "volunteers", csv_file(body))
    assert response.status_code in (200, 302)
    assert not Volunteer.objects.exists()
    if response.status_code == 302:  # read, but every row refused
        assert ImportBatch.objects.get().status == ImportBatch.Status.REJECTED


def test_an_import_value_longer_than_its_column_is_a_row_error(login, station_manager, station):
    client = login(station_manager)
    upload(
        client, "volunteers", csv_file(f"{'张' * 80},13700000001,,是,社区志愿者,,{station.code},\n")
    )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REJECTED
    assert "64" in " ".join(batch.errors[0]["messages"])


def test_import_errors_do_not_repeat_full_mobiles(login, station_manager, station):
    VolunteerFactory(mobile="13700000009")
    client = login(station_manager)
    upload(client, "volunteers", csv_file(f"张三,13700000009,,是,社区志愿者,,{station.code},\n"))
    assert "13700000009" not in str(ImportBatch.objects.get().errors)


# --- The organisation export ---------------------------------------------------------


@pytest.mark.parametrize(("year", "quarter"), [(99999, 1), (1, 1), (2026, 5), (2026, 0)])
def test_organization_export_with_a_bad_period_is_404(login, center_manager, year, quarter):
    org = OrganizationFactory()
    client = login(center_manager)
    url = reverse("volunteers:organization_export", args=[org.pk, year, quarter])
    assert client.get(url).status_code == 404
