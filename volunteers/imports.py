"""Reading and checking volunteer and merchant import files (CSV or xlsx).

``parse`` turns a file into rows of strings keyed by field name (Chinese or
English headers); ``check_*`` returns the rows ready to write and the
row-level errors. The write, all-or-nothing, is ``services.import_apply``.
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from center.accounts import mobiles_taken
from center.masking import mask_id_number, mask_mobile
from center.models import Role, Specialty, Station
from center.roles import ALL, station_ids_for
from center.validators import (
    normalize_id_number,
    normalize_mobile,
    validate_id_number,
    validate_mobile,
)

from .models import Merchant, Organization, Volunteer

VOLUNTEER_HEADERS = {
    "name": ("姓名", "name"),
    "mobile": ("手机号", "mobile"),
    "id_number": ("身份证号", "id_number"),
    "is_party_member": ("党员", "party_member"),
    "party_branch": ("党支部", "party_branch"),
    "kind": ("类型", "kind"),
    "organization": ("工作单位", "organization"),
    "station": ("站点编号", "station"),
    "specialties": ("专长", "specialties"),
}
MERCHANT_HEADERS = {
    "name": ("名称", "name"),
    "kind": ("类型", "kind"),
    "licence_no": ("营业执照号", "licence_no"),
    "contact_name": ("联系人", "contact_name"),
    "mobile": ("手机号", "mobile"),
    "address": ("地址", "address"),
    "staff_count": ("员工数", "staff_count"),
    "stations": ("服务站点编号", "stations"),
}
REQUIRED = {
    "volunteers": ("name", "mobile", "station"),
    "merchants": ("name", "kind", "licence_no", "contact_name", "mobile", "stations"),
}
# Column names as the preview shows them, in the reader's language (the file's
# own headers are the Chinese ones above; English ones are accepted too).
COLUMN_LABELS = {
    "volunteers": {
        "name": gettext_lazy("full name"),
        "mobile": gettext_lazy("Mobile"),
        "id_number": gettext_lazy("ID number"),
        "is_party_member": gettext_lazy("Party member"),
        "party_branch": gettext_lazy("party branch"),
        "kind": gettext_lazy("Kind"),
        "organization": gettext_lazy("Employer"),
        "station": gettext_lazy("Station code"),
        "specialties": gettext_lazy("Specialties"),
    },
    "merchants": {
        "name": gettext_lazy("Name"),
        "kind": gettext_lazy("Kind"),
        "licence_no": gettext_lazy("Business licence number"),
        "contact_name": gettext_lazy("contact person"),
        "mobile": gettext_lazy("Mobile"),
        "address": gettext_lazy("Address"),
        "staff_count": gettext_lazy("Staff"),
        "stations": gettext_lazy("Station codes"),
    },
}
YES = {"是", "y", "yes", "true", "1", "党员"}
MAX_ROWS = 20000
# Longest cell read: longer ones are refused (row-level), never cut silently.
MAX_CELL = 500
# What of an xlsx file is read at most (a decompression bomb is small on the
# wire): the sheet's declared width, the columns read, the unzipped size, and
# blank rows tolerated past MAX_ROWS (formatting Excel kept below the table).
MAX_COLUMNS = 40
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024
BLANK_TAIL = 1000

# Phone-like and ID-like runs in a cell repeated by a row error (a shifted
# column puts a mobile where a community or a station code was expected).
_NUMBER_LIKE = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<id>[0-9]{17}[0-9Xx]|[0-9]{15})"
    r"|(?P<phone>(?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}"
    r"|0[0-9]{2,3}[ -]?[0-9]{7,8}|[0-9]{7,8})"
    r")(?![0-9Xx])"
)


def masked_cell(value) -> str:
    """A cell's text for a row error, phone-like and ID-like numbers masked
    (``center.masking``): "13912340001" → "139****0001"."""

    def mask(match: re.Match) -> str:
        digits = re.sub(r"[^0-9Xx]", "", match.group())
        if match.group("id"):
            return mask_id_number(digits)
        if len(digits) == 13 and digits.startswith("86"):  # +86 138 …: the mobile
            digits = digits[2:]
        return mask_mobile(digits)

    return _NUMBER_LIKE.sub(mask, str(value or ""))


def _header_map(header: list[str], spec: dict[str, tuple[str, ...]]) -> dict[int, str]:
    lookup = {alias.lower(): field for field, aliases in spec.items() for alias in aliases}
    return {
        i: lookup[h.strip().lower()]
        for i, h in enumerate(header)
        if h and h.strip().lower() in lookup
    }


def _too_large() -> ValidationError:
    return ValidationError(
        _(
            "This Excel sheet is too large: at most %(rows)s rows and %(cols)s columns. "
            "Delete anything below or to the right of the table and upload it again."
        )
        % {"rows": MAX_ROWS, "cols": MAX_COLUMNS}
    )


def _xlsx_rows(content: bytes) -> list[list[str]]:
    """The active sheet's rows, read within the caps: the unzipped size and
    the declared dimensions are checked before any row is read; rows are read
    one at a time, at most MAX_COLUMNS wide, and reading stops past MAX_ROWS
    (a row with content there refuses the file, never cut silently)."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValidationError(_("This Excel file cannot be read.")) from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise _too_large()
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ValidationError(_("This Excel file cannot be read.")) from exc
    try:
        sheet = book.active
        if sheet is None:
            raise ValidationError(_("This Excel file cannot be read."))
        if (sheet.max_column or 0) > MAX_COLUMNS or (sheet.max_row or 0) > (
            MAX_ROWS + 1 + BLANK_TAIL
        ):
            raise _too_large()
        # The declared size may be missing or wrong: read what is there, capped here.
        sheet.reset_dimensions()
        rows = []
        for n, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            cells = ["" if c is None else str(c).strip() for c in row]
            if n > MAX_ROWS + 1:  # the header and MAX_ROWS rows
                if any(cells):
                    raise ValidationError(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
                if n > MAX_ROWS + 1 + BLANK_TAIL:
                    raise _too_large()
                continue
            rows.append(cells)
    except ValidationError:
        raise
    except Exception as exc:  # a damaged sheet fails while its rows are read
        raise ValidationError(_("This Excel file cannot be read.")) from exc
    finally:
        book.close()
    return rows


def _raw_rows(name: str, content: bytes) -> list[list[str]]:
    if name.lower().endswith(".xlsx"):
        return _checked_cells(_xlsx_rows(content))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("This CSV file is neither UTF-8 nor GB18030 text."))
    # No cell may exceed the csv module's own limit (a 500 before): cap it and refuse.
    csv.field_size_limit(MAX_CELL * 4)
    try:
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ValidationError(
            _("This CSV file cannot be read: a value is too long or a quote is not closed.")
        ) from exc
    return _checked_cells(rows)


def _checked_cells(rows: list[list[str]]) -> list[list[str]]:
    """Full-width characters become ASCII (NFKC); NUL and other control
    characters refuse the file (the database cannot store NUL)."""
    out = []
    for row in rows:
        cells = [unicodedata.normalize("NFKC", c) for c in row]
        if any(ch in cell for cell in cells for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08"):
            raise ValidationError(
                _("The file contains control characters (such as NUL): save it again as text.")
            )
        out.append(cells)
    return out


def _length_problems(row: dict[str, str], model) -> list[str]:
    """Values longer than their column (or than MAX_CELL): a row-level message."""
    problems = []
    for field, value in row.items():
        if field in {"mobile", "id_number"}:
            continue  # checked after normalisation (spaces and +86 may make them longer)
        try:
            limit = model._meta.get_field(field).max_length or MAX_CELL
        except FieldDoesNotExist:  # not a model field (station codes, specialties)
            limit = MAX_CELL
        if len(value) > limit:
            problems.append(
                _("%(field)s is longer than %(n)s characters") % {"field": field, "n": limit}
            )
    return problems


def parse(kind: str, name: str, content: bytes) -> list[dict[str, str]]:
    spec = VOLUNTEER_HEADERS if kind == "volunteers" else MERCHANT_HEADERS
    raw = [r for r in _raw_rows(name, content) if any(r)]
    if not raw:
        raise ValidationError(_("The file is empty."))
    columns = _header_map(raw[0], spec)
    missing = [spec[f][0] for f in REQUIRED[kind] if f not in columns.values()]
    if missing:
        raise ValidationError(_("Missing columns: %(columns)s") % {"columns": "、".join(missing)})
    if len(raw) - 1 > MAX_ROWS:
        raise ValidationError(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
    return [
        {field: (row[i] if i < len(row) else "") for i, field in columns.items()} for row in raw[1:]
    ]


def _messages(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _mobile_problems(mobile: str, row: int, taken: set[str], seen: dict[str, int]) -> list[str]:
    """A valid mainland mobile, not registered yet, not repeated earlier in the file."""
    try:
        validate_mobile(mobile)
    except ValidationError as exc:
        return [_messages(exc)]
    first = seen.setdefault(mobile, row)
    if mobile in taken:
        return [_("mobile %(m)s is already registered") % {"m": mask_mobile(mobile)}]
    if first != row:
        return [_("mobile %(m)s repeats row %(r)s") % {"m": mask_mobile(mobile), "r": first}]
    return []


def _stations_by_code(user, codes: Iterable[str]) -> dict[str, Station]:
    qs = Station.objects.filter(code__in=set(codes), is_active=True)
    ids = station_ids_for(user)
    if ids is not ALL:
        qs = qs.filter(pk__in=ids)
    return {s.code: s for s in qs}


def check_volunteers(rows: list[dict[str, str]], user) -> tuple[list[dict], list[dict]]:
    """Return (clean rows, errors). Each error: {"row": n, "messages": [...]} (n as in the file)."""
    mobiles = [normalize_mobile(r.get("mobile", "")) for r in rows]
    id_numbers = [normalize_id_number(r.get("id_number", "")) for r in rows]
    # A number held by another volunteer, or by a login that cannot be theirs (staff).
    taken_mobiles = set(
        Volunteer.objects.filter(mobile__in=mobiles).values_list("mobile", flat=True)
    ) | mobiles_taken(mobiles, role=Role.VOLUNTEER)
    taken_ids = set(
        Volunteer.objects.filter(id_number__in=[i for i in id_numbers if i]).values_list(
            "id_number", flat=True
        )
    )
    stations = _stations_by_code(user, (r.get("station", "") for r in rows))
    orgs = {
        o.name: o.pk
        for o in Organization.objects.filter(name__in={r.get("organization", "") for r in rows})
    }
    specialties = {s.name: s.pk for s in Specialty.objects.all()}
    seen_mobiles, seen_ids = {}, {}
    clean, errors = [], []
    for n, (row, mobile, id_number) in enumerate(
        zip(rows, mobiles, id_numbers, strict=True), start=2
    ):
        problems = _length_problems(row, Volunteer)
        if not row.get("name"):
            problems.append(_("name is missing"))
        problems += _mobile_problems(mobile, n, taken_mobiles, seen_mobiles)
        if id_number:
            try:
                validate_id_number(id_number)
            except ValidationError as exc:
                problems.append(_("ID number: %(e)s") % {"e": _messages(exc)})
            else:
                if id_number in taken_ids:
                    problems.append(_("this ID number is already registered"))
                elif id_number in seen_ids:
                    problems.append(_("ID number repeats row %(r)s") % {"r": seen_ids[id_number]})
                seen_ids.setdefault(id_number, n)
        station = stations.get(row.get("station", ""))
        if station is None:
            problems.append(
                _("unknown station %(code)s (or not one of yours)")
                % {"code": masked_cell(row.get("station", ""))}
            )
        kind = (
            Volunteer.Kind.IN_SERVICE
            if row.get("kind", "") in {"在职党员", "in_service"}
            else Volunteer.Kind.COMMUNITY
        )
        org = orgs.get(row.get("organization", ""))
        if kind == Volunteer.Kind.IN_SERVICE and org is None:
            problems.append(
                _("in-service member: unknown employer %(org)s")
                % {"org": masked_cell(row.get("organization", ""))}
            )
        wanted = [
            s.strip() for s in row.get("specialties", "").replace("，", ",").split(",") if s.strip()
        ]
        unknown = [s for s in wanted if s not in specialties]
        if unknown:
            problems.append(
                _("unknown specialties: %(s)s") % {"s": masked_cell("、".join(unknown))}
            )
        if problems:
            errors.append({"row": n, "messages": problems})
            continue
        clean.append(
            {
                "name": row["name"],
                "mobile": mobile,
                "id_number": id_number or None,
                "is_party_member": row.get("is_party_member", "是").lower() in YES,
                "party_branch": row.get("party_branch", ""),
                "kind": kind,
                "organization_id": org if kind == Volunteer.Kind.IN_SERVICE else None,
                "station_id": station.pk,
                "specialty_ids": [specialties[s] for s in wanted],
            }
        )
    return clean, errors


def check_merchants(rows: list[dict[str, str]], user) -> tuple[list[dict], list[dict]]:
    mobiles = [normalize_mobile(r.get("mobile", "")) for r in rows]
    taken_mobiles = set(
        Merchant.objects.filter(mobile__in=mobiles).values_list("mobile", flat=True)
    ) | mobiles_taken(mobiles, role=Role.MERCHANT)
    taken_licences = set(
        Merchant.objects.filter(licence_no__in=[r.get("licence_no", "") for r in rows]).values_list(
            "licence_no", flat=True
        )
    )
    codes = {
        c.strip()
        for r in rows
        for c in r.get("stations", "").replace("，", ",").split(",")
        if c.strip()
    }
    stations = _stations_by_code(user, codes)
    kinds = {
        "加盟商": Merchant.Kind.FRANCHISE,
        "franchise": Merchant.Kind.FRANCHISE,
        "个体户": Merchant.Kind.INDIVIDUAL,
        "individual": Merchant.Kind.INDIVIDUAL,
    }
    seen_mobiles, seen_licences = {}, {}
    clean, errors = [], []
    for n, (row, mobile) in enumerate(zip(rows, mobiles, strict=True), start=2):
        problems = _length_problems(row, Merchant)
        for field in REQUIRED["merchants"]:
            if not row.get(field):
                problems.append(_("%(column)s is missing") % {"column": MERCHANT_HEADERS[field][0]})
        kind = kinds.get(row.get("kind", ""))
        if row.get("kind") and kind is None:
            problems.append(_("type must be 加盟商 or 个体户"))
        problems += _mobile_problems(mobile, n, taken_mobiles, seen_mobiles)
        licence = row.get("licence_no", "")
        if licence in taken_licences:
            problems.append(_("licence %(l)s is already registered") % {"l": masked_cell(licence)})
        elif licence and licence in seen_licences:
            problems.append(
                _("licence %(l)s repeats row %(r)s")
                % {"l": masked_cell(licence), "r": seen_licences[licence]}
            )
        seen_licences.setdefault(licence, n)
        wanted = [
            c.strip() for c in row.get("stations", "").replace("，", ",").split(",") if c.strip()
        ]
        unknown = [c for c in wanted if c not in stations]
        if unknown:
            problems.append(
                _("unknown station %(code)s (or not one of yours)")
                % {"code": masked_cell("、".join(unknown))}
            )
        try:
            staff = int(row.get("staff_count") or 1)
            if staff < 1:
                raise ValueError
        except ValueError:
            problems.append(_("staff must be a whole number of at least 1"))
            staff = 1
        if problems:
            errors.append({"row": n, "messages": problems})
            continue
        clean.append(
            {
                "name": row["name"],
                "kind": kind,
                "licence_no": licence,
                "contact_name": row["contact_name"],
                "mobile": mobile,
                "address": row.get("address", ""),
                "staff_count": staff,
                "station_ids": [stations[c].pk for c in wanted],
            }
        )
    return clean, errors


# --- What the pages show ------------------------------------------------------------


def preview_fields(kind: str, keys: Iterable[str]) -> list[str]:
    """The columns a batch has, in the order of the template file (the stored
    rows come back from the database with their keys in another order)."""
    spec = VOLUNTEER_HEADERS if kind == "volunteers" else MERCHANT_HEADERS
    keys = set(keys)
    return [f for f in spec if f in keys]


def column_labels(kind: str, fields: Iterable[str]) -> list[str]:
    """The preview's column headers, in the reader's language."""
    labels = COLUMN_LABELS["volunteers" if kind == "volunteers" else "merchants"]
    return [capfirst(str(labels.get(f, f))) for f in fields]


def template_file(kind: str, fmt: str) -> bytes:
    """An empty file to fill in, with the expected headers (the Chinese ones
    ``parse`` reads first): CSV with a BOM (so Excel reads UTF-8), or xlsx."""
    spec = VOLUNTEER_HEADERS if kind == "volunteers" else MERCHANT_HEADERS
    headers = [aliases[0] for aliases in spec.values()]
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(headers)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    out = io.StringIO()
    csv.writer(out).writerow(headers)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
