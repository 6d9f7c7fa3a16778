"""Volunteer and merchant imports: preview, then all-or-nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from tests.factories import OrganizationFactory, SpecialtyFactory, VolunteerFactory
from volunteers import services
from volunteers.models import ImportBatch, Merchant, Volunteer

pytestmark = pytest.mark.django_db

HEADER = "姓名,手机号,身份证号,党员,类型,工作单位,站点编号,专长\n"


def csv_file(body: str, header: str = HEADER, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "volunteers.csv", (header + body).encode(encoding), content_type="text/csv"
    )


def upload(client, kind, f):
    return client.post(reverse("volunteers:import_upload", args=[kind]), {"file": f})


def test_good_file_previews_then_imports_every_row(login, station_manager, station):
    SpecialtyFactory(name="家电维修")
    org = OrganizationFactory(name="嘉兴市民政局")
    client = login(station_manager)
    body = (
        f"张三,13700000001,11010519491231002X,是,社区志愿者,,{station.code},家电维修\n"
        f"李四,13700000002,,否,在职党员,{org.name},{station.code},\n"
    )
    response = upload(client, "volunteers", csv_file(body))
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("volunteers:import_preview", args=[batch.pk])
    assert batch.status == ImportBatch.Status.PREVIEWED and not Volunteer.objects.exists()
    preview = client.get(response["Location"]).content.decode()
    assert "张三" in preview and "李四" in preview
    client.post(reverse("volunteers:import_apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.created_count == 2
    zhang = Volunteer.objects.get(mobile="13700000001")
    assert zhang.volunteer_no == f"JX{zhang.pk:09d}" and [
        s.name for s in zhang.specialties.all()
    ] == ["家电维修"]
    li = Volunteer.objects.get(mobile="13700000002")
    assert (li.kind, li.organization, li.is_party_member) == (Volunteer.Kind.IN_SERVICE, org, False)


def test_one_bad_row_rejects_the_file_with_row_messages(
    login, station_manager, station, other_station
):
    VolunteerFactory(mobile="13700000009")
    client = login(station_manager)
    body = (
        f"张三,13700000001,11010519491231002X,是,社区志愿者,,{station.code},\n"  # row 2: fine
        f"李四,13700000002,110105194912310021,是,社区志愿者,,{station.code},\n"  # row 3: check character
        f"王五,13700000001,,是,社区志愿者,,{station.code},\n"  # row 4: repeats row 2
        f"赵六,13700000009,,是,社区志愿者,,{station.code},\n"  # row 5: already registered
        f"钱七,13700000007,,是,社区志愿者,,NOPE,\n"  # row 6: unknown station
        f"孙八,13700000008,,是,社区志愿者,,{other_station.code},\n"  # row 7: not this manager's
        f"周九,1370000,,是,在职党员,不存在的单位,{station.code},飞行\n"  # row 8: mobile, employer, specialty
    )
    upload(client, "volunteers", csv_file(body))
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REJECTED
    rows = {e["row"]: " ".join(e["messages"]) for e in batch.errors}
    assert sorted(rows) == [3, 4, 5, 6, 7, 8]
    assert "校验码" in rows[3]
    assert "第 2 行" in rows[4] or "2" in rows[4]
    assert "已登记" in rows[5]
    assert "NOPE" in rows[6] and other_station.code in rows[7]
    assert "不存在的单位" in rows[8] and "飞行" in rows[8]
    page = client.get(reverse("volunteers:import_preview", args=[batch.pk])).content.decode()
    assert "第 3 行" in page
    # Applying a rejected batch writes nothing.
    client.post(reverse("volunteers:import_apply", args=[batch.pk]))
    assert Volunteer.objects.count() == 1


def test_a_mobile_registered_after_preview_rejects_the_whole_file(station_manager, station):
    body = f"张三,13700000001,,是,社区志愿者,,{station.code},\n李四,13700000002,,是,社区志愿者,,{station.code},\n"
    batch = services.import_preview(
        actor=station_manager, kind="volunteers", filename="v.csv", content=(HEADER + body).encode()
    )
    VolunteerFactory(mobile="13700000002")
    batch = services.import_apply(actor=station_manager, batch=batch)
    assert batch.status == ImportBatch.Status.REJECTED and batch.errors[0]["row"] == 3
    assert not Volunteer.objects.filter(mobile="13700000001").exists()


def test_xlsx_and_gb18030_csv_are_read(login, station_manager, station):
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "手机号", "站点编号"])
    ws.append(["张三", 13700000001, station.code])
    buf = io.BytesIO()
    wb.save(buf)
    client = login(station_manager)
    upload(client, "volunteers", SimpleUploadedFile("v.xlsx", buf.getvalue()))
    upload(
        client,
        "volunteers",
        csv_file(
            f"李四,13700000002,{station.code}\n",
            header="姓名,手机号,站点编号\n",
            encoding="gb18030",
        ),
    )
    assert list(ImportBatch.objects.order_by("pk").values_list("status", flat=True)) == [
        "previewed",
        "previewed",
    ]
    assert [b.rows[0]["name"] for b in ImportBatch.objects.order_by("pk")] == ["张三", "李四"]


def test_missing_columns_and_wrong_file_type_are_refused(login, station_manager):
    client = login(station_manager)
    response = upload(client, "volunteers", csv_file("张三\n", header="姓名\n"))
    assert response.status_code == 200 and "缺少" in response.content.decode()
    response = upload(client, "volunteers", SimpleUploadedFile("v.txt", b"x"))
    assert response.context["form"].has_error("file")
    assert not ImportBatch.objects.exists()


def test_merchant_import_all_or_nothing(login, station_manager, station):
    client = login(station_manager)
    header = "名称,类型,营业执照号,联系人,手机号,服务站点编号,员工数\n"
    good = f"嘉兴安居家政,加盟商,91330400000000001,周,15700000001,{station.code},5\n"
    bad = f"坏商户,公司,91330400000000001,吴,15700000001,{station.code},-1\n"
    upload(client, "merchants", SimpleUploadedFile("m.csv", (header + good + bad).encode()))
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REJECTED
    assert [e["row"] for e in batch.errors] == [3]
    assert not Merchant.objects.exists()
    upload(client, "merchants", SimpleUploadedFile("m.csv", (header + good).encode()))
    batch = ImportBatch.objects.order_by("-pk").first()
    client.post(reverse("volunteers:import_apply", args=[batch.pk]))
    merchant = Merchant.objects.get()
    assert list(merchant.stations.all()) == [station] and merchant.staff_count == 5


def test_only_the_uploader_applies_and_outsiders_are_refused(
    login, station_manager, center_manager, outsider, station
):
    batch = services.import_preview(
        actor=station_manager,
        kind="volunteers",
        filename="v.csv",
        content=(HEADER + f"张三,13700000001,,是,,,{station.code},\n").encode(),
    )
    assert (
        login(center_manager).post(reverse("volunteers:import_apply", args=[batch.pk])).status_code
        == 404
    )
    assert (
        login(outsider).post(reverse("volunteers:import_apply", args=[batch.pk])).status_code == 403
    )
    assert (
        login(outsider).get(reverse("volunteers:import_upload", args=["volunteers"])).status_code
        == 403
    )
    assert not Volunteer.objects.exists()
