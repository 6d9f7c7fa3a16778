"""Fixes from the new-user walk-through (issue 8) on the volunteers' pages: the
me page (hours pages, 撤回), imports (labels, masks, templates, punctuation)
and certificates (signatory, ID number required)."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import InServiceVolunteerFactory, PostFactory, UserFactory, VolunteerFactory
from tests.volunteers.test_imports import csv_file, upload
from volunteers import services
from volunteers.models import Certificate, HoursEntry, ImportBatch

pytestmark = pytest.mark.django_db

ID = "11010519491231002X"


def _hours(volunteer, station, n):
    for i in range(n):
        services.hours_record(
            actor=None,
            volunteer=volunteer,
            date=timezone.localdate() - datetime.timedelta(days=i),
            hours=Decimal("1"),
            source=HoursEntry.Source.ORDER,
            description=f"服务{i:02d}",
            station=station,
            source_ref=f"walk-{volunteer.pk}-{i}",
        )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- 9. The me page: hours beyond 20 rows, 撤回 for a post claim ------------------------------


def test_me_page_pages_the_hours_beyond_twenty(client, station):
    user = UserFactory(role="volunteer")
    me = VolunteerFactory(user=user, station=station)
    _hours(me, station, 25)
    client.force_login(user)
    first = client.get(reverse("volunteers:me")).content.decode()
    assert "服务00" in first and "服务19" in first and "服务20" not in first
    assert 'data-testid="hours-pages"' in first and "page=2" in first
    second = client.get(reverse("volunteers:me"), {"page": 2}).content.decode()
    assert "服务20" in second and "服务24" in second and "服务19" not in second


def test_withdrawing_a_post_claim_reads_che_hui_not_logout(client, station):
    user = UserFactory(role="volunteer")
    me = InServiceVolunteerFactory(user=user, station=station)
    claim = services.post_claim(actor=None, post=PostFactory(station=station), volunteer=me)
    client.force_login(user)
    body = client.get(reverse("volunteers:me")).content.decode()
    action = reverse("volunteers:my_post_withdraw", args=[claim.pk])
    form = body.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    assert "撤回" in form and "退出" not in form


# --- 10. Imports ---------------------------------------------------------------------------


def test_import_preview_speaks_the_ui_language_and_masks_values(client, station_manager, station):
    client.force_login(station_manager)
    body = f"张三,13700000001,{ID},是,社区志愿者,,{station.code},\n"
    response = upload(client, "volunteers", csv_file(body))
    page = client.get(response["Location"]).content.decode()
    headers = re.findall(r"<th>(.*?)</th>", page)
    assert {"姓名", "手机号", "身份证号", "党员", "工作单位"} <= set(headers)
    assert not {"name", "mobile", "id_number", "station", "kind"} & set(headers)
    assert "137****0001" in page and "13700000001" not in page
    assert "110105********002X" in page and ID not in page
    # English pages get English headers.
    client.cookies["django_language"] = "en"
    english = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert {"Full name", "Mobile", "Station code"} <= set(re.findall(r"<th>(.*?)</th>", english))


def test_import_pages_have_no_doubled_punctuation(client, station_manager, station):
    VolunteerFactory(mobile="13700000009")
    client.force_login(station_manager)
    upload_page = client.get(reverse("volunteers:import_upload", args=["volunteers"]))
    body = "李四,13700000009,123,是,社区志愿者,,NOPE,\n"
    response = upload(client, "volunteers", csv_file(body))
    preview = client.get(response["Location"])
    for page in (upload_page, preview):
        text = _text(page.content.decode())
        for doubled in ("。。", "：:", ":：", "。；", "。.", "）.", " . ", "):"):
            assert doubled not in text, (doubled, text)
    assert "第 2 行" in preview.content.decode()


def test_import_success_message_shows_once(client, station_manager, station):
    client.force_login(station_manager)
    response = upload(
        client, "volunteers", csv_file(f"张三,13700000001,,是,社区志愿者,,{station.code},\n")
    )
    batch = ImportBatch.objects.get()
    done = client.post(reverse("volunteers:import_apply", args=[batch.pk]), follow=True)
    assert done.content.decode().count("已导入 1 行") == 1
    again = client.get(response["Location"]).content.decode()
    assert again.count("已导入 1 行") == 1


@pytest.mark.parametrize("kind, first", [("volunteers", "姓名"), ("merchants", "名称")])
def test_import_templates_carry_the_expected_headers(client, station_manager, kind, first):
    client.force_login(station_manager)
    response = client.get(reverse("volunteers:import_template", args=[kind, "csv"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == first and len(rows) == 1
    response = client.get(reverse("volunteers:import_template", args=[kind, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == rows[0]
    page = client.get(reverse("volunteers:import_upload", args=[kind])).content.decode()
    assert reverse("volunteers:import_template", args=[kind, "xlsx"]) in page


def test_the_template_file_imports_once_filled(client, station_manager, station):
    client.force_login(station_manager)
    template = client.get(reverse("volunteers:import_template", args=["volunteers", "csv"]))
    header = template.content.decode("utf-8-sig")
    row = f"张三,13700000001,{ID},是,,社区志愿者,,{station.code},\n"
    response = upload(client, "volunteers", csv_file(row, header=header))
    assert ImportBatch.objects.get().status == ImportBatch.Status.PREVIEWED, response


def test_import_templates_refuse_outsiders_and_volunteers(client, outsider):
    url = reverse("volunteers:import_template", args=["volunteers", "csv"])
    for user in (outsider, UserFactory(role="volunteer")):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(UserFactory(role="center_manager", is_superuser=True, is_staff=True))
    assert client.get(reverse("volunteers:import_template", args=["nope", "csv"])).status_code in (
        403,
        404,
    )


# --- 11. Certificates ------------------------------------------------------------------------


def test_certificate_is_signed_by_the_named_person_in_charge(
    client, station_manager, station, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "CERTIFICATE_SIGNATORY": "王建国"}
    volunteer = VolunteerFactory(station=station, id_number=ID)
    _hours(volunteer, station, 1)
    certificate = services.certificate_issue(
        actor=station_manager,
        volunteer=volunteer,
        station=station,
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
    )
    client.force_login(station_manager)
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert "负责人：王建国" in page and "中心主任" not in page


def test_certificate_is_refused_without_an_id_number(client, station_manager, station):
    volunteer = VolunteerFactory(station=station, id_number=None)
    _hours(volunteer, station, 1)
    with pytest.raises(ValidationError, match="身份证号"):
        services.certificate_issue(
            actor=station_manager,
            volunteer=volunteer,
            station=station,
            period_start=timezone.localdate(),
            period_end=timezone.localdate(),
        )
    client.force_login(station_manager)
    page = client.get(volunteer.get_absolute_url()).content.decode()
    assert 'data-testid="certificate-needs-id"' in page
    response = client.post(
        reverse("volunteers:volunteer_certificate_issue", args=[volunteer.pk]),
        {
            "station": station.pk,
            "period_start": timezone.localdate().isoformat(),
            "period_end": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302 and not Certificate.objects.exists()
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("ID number" in m or "身份证号" in m for m in shown), shown
