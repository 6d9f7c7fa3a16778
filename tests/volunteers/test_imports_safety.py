"""Import files cannot exhaust the server (an xlsx decompression bomb is
refused before its rows are read), row errors mask the numbers they repeat,
and the volunteers' export cannot carry a spreadsheet formula."""

import csv
import datetime
import io
import re
import time
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import override
from openpyxl import Workbook

from requests.services import residents as registry
from tests.factories import InServiceVolunteerFactory, OrganizationFactory
from volunteers import imports, services
from volunteers.models import HoursEntry

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "手机号", "身份证号", "党员", "类型", "工作单位", "站点编号", "专长"]


def _xlsx(*rows, far: str | None = None, strip_dimension: bool = False) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    if far:
        book.active[far] = "x"
    out = io.BytesIO()
    book.save(out)
    content = out.getvalue()
    if not strip_dimension:
        return content
    # The <dimension> element is optional: a crafted file leaves it out.
    src, dst = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out_zip:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension[^>]*/>", b"", data)
            out_zip.writestr(info, data)
    return dst.getvalue()


def _refused(call) -> str:
    start = time.monotonic()
    with override("en"), pytest.raises(ValidationError) as exc:
        call()
    assert time.monotonic() - start < 5  # refused fast: no row padded to 16,384 columns
    return " ".join(exc.value.messages)


def test_a_sheet_declaring_a_far_cell_is_refused_before_reading_rows():
    content = _xlsx(HEADER, far="XFD1048576")
    assert len(content) < 10_000  # a few kilobytes on the wire
    message = _refused(lambda: imports.parse("volunteers", "v.xlsx", content))
    assert "too large" in message and str(imports.MAX_COLUMNS) in message
    # The resident import reads files the same way.
    message = _refused(lambda: registry.import_parse("r.xlsx", content))
    assert "too large" in message


def test_a_far_cell_without_a_declared_size_is_refused_without_reading_every_row():
    content = _xlsx(HEADER, far="XFD1048576", strip_dimension=True)
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(content)).read(
        "xl/worksheets/sheet1.xml"
    )
    message = _refused(lambda: imports.parse("volunteers", "v.xlsx", content))
    assert "too large" in message


def test_a_far_column_is_refused_and_rows_past_the_cap_are_never_cut_silently(monkeypatch):
    wide = _xlsx(HEADER, far="AZ2")
    assert "too large" in _refused(lambda: imports.parse("volunteers", "v.xlsx", wide))
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    rows = [HEADER] + [[f"张{i}", f"1370000000{i}"] for i in range(5)]
    long = _xlsx(*rows, strip_dimension=True)
    assert "At most 3 rows" in _refused(lambda: imports.parse("volunteers", "v.xlsx", long))
    # Within the cap it reads as before.
    assert len(imports.parse("volunteers", "v.xlsx", _xlsx(*rows[:4]))) == 3


def test_a_sheet_unzipping_past_the_cap_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_UNZIPPED_BYTES", 1000)
    content = _xlsx(HEADER, *[["张三", "13700000001"]] * 50)
    assert "too large" in _refused(lambda: imports.parse("volunteers", "v.xlsx", content))


def test_masked_cell():
    assert imports.masked_cell("13912340001") == "139****0001"
    assert imports.masked_cell("社区 +86 139-1234-0001") == "社区 139****0001"
    assert imports.masked_cell("11010519491231002X") == "110105********002X"
    assert imports.masked_cell("0573-82345678") == "0573****5678"
    # Codes and names are left as they are.
    for value in ("BR-330402001", "330402001001", "特困人员", "JX000000012"):
        assert imports.masked_cell(value) == value


def test_volunteer_row_errors_mask_numbers_in_shifted_columns(station_manager, station):
    rows = [
        {
            "name": "张三",
            "mobile": "13700000001",
            "station": "13912340001",  # a mobile where the station code belongs
            "kind": "在职党员",
            "organization": "11010519491231002X",
        }
    ]
    _clean, errors = imports.check_volunteers(rows, station_manager)
    text = " ".join(errors[0]["messages"])
    assert "13912340001" not in text and "139****0001" in text
    assert "11010519491231002X" not in text and "110105********002X" in text


def test_volunteer_export_neutralises_formulas(login, center_manager, station):
    org = OrganizationFactory(name="嘉兴市司法局")
    member = InServiceVolunteerFactory(
        station=station, organization=org, name='=HYPERLINK("http://x.example","点我")'
    )
    services.hours_record(
        actor=None,
        volunteer=member,
        date=datetime.date(2026, 8, 15),
        hours=Decimal("2"),
        source=HoursEntry.Source.ORDER,
        description="法律咨询",
        station=station,
        source_ref="o1",
    )
    url = reverse("volunteers:organization_export", args=[org.pk, 2026, 3])
    response = login(center_manager).get(url)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][1] == "'" + member.name
    for cells in rows:
        assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
