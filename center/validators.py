"""Validators and normalisers for Chinese identifiers (DOMAIN.md: identifier formats).

Every phone and ID field of every app (forms, imports, services, the admin)
goes through these, so that one number is stored one way: ``+86 138-1234-5678``,
``８６13812345678`` and ``13812345678`` are the same mobile. Input is NFKC-
normalised first (full-width digits become ASCII) and only ASCII digits are
accepted after that (``re.ASCII``): a full-width copy of a registered number
must not pass as a new one.
"""

import datetime
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$", re.ASCII)
# Area code (010, 02x, 0xxx) then a 7- or 8-digit local number.
LANDLINE_RE = re.compile(r"^0[1-9][0-9]{1,2}[2-9][0-9]{6,7}$", re.ASCII)
LOCAL_NUMBER_RE = re.compile(r"^[2-9][0-9]{6,7}$", re.ASCII)
_SEPARATORS = re.compile(r"[\s\-().·]")


def nfkc(value) -> str:
    """Full-width digits, letters and spaces become their ASCII forms."""
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def digits_of(value) -> str:
    """The ASCII digits of what was typed (searching by part of a number)."""
    return re.sub(r"[^0-9]", "", nfkc(value))


def normalize_phone(value) -> str:
    """One stored form per number: separators and a +86/0086/86 prefix removed;
    a local 7–8 digit landline gets the local area code (settings
    ``LOCAL_AREA_CODE``). Invalid input is returned cleaned, for the validator
    to refuse."""
    number = nfkc(_SEPARATORS.sub("", nfkc(value)))
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    else:
        if len(number) == 13 and number.startswith("86") and MOBILE_RE.match(number[2:]):
            number = number[2:]
    if LOCAL_NUMBER_RE.match(number):
        number = settings.LIANXIN["LOCAL_AREA_CODE"] + number
    return number


def normalize_mobile(value) -> str:
    """A mobile's stored form (see ``normalize_phone``)."""
    return normalize_phone(value)


def validate_mobile(value) -> None:
    if not MOBILE_RE.match(normalize_phone(value)):
        raise ValidationError(
            _("Enter a valid mainland mobile number: 11 digits starting with 13–19."),
            code="invalid_mobile",
        )


def validate_phone(value) -> None:
    """A mainland mobile, or a landline with its area code (e.g. 0573 + 8 digits)."""
    number = normalize_phone(value)
    if not (MOBILE_RE.match(number) or LANDLINE_RE.match(number)):
        raise ValidationError(
            _(
                "Enter a mobile number (11 digits starting with 13–19) or a landline "
                "with its area code, e.g. 0573 8234 5678."
            ),
            code="invalid_phone",
        )


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_RE = re.compile(r"^[0-9]{17}[0-9X]$", re.ASCII)
# GB/T 2260 province-level codes (the first two digits); 71/81/82/83: Taiwan,
# Hong Kong, Macao and the residence permits of their residents.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)


def id_check_character(first17: str) -> str:
    """GB 11643: sum of digits × weights, mod 11, mapped to 1 0 X 9 8 7 6 5 4 3 2."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalize_id_number(value) -> str:
    # NFKC again after upper(): upper-casing can leave a non-normalised string.
    return nfkc(_SEPARATORS.sub("", nfkc(value)).upper())


def validate_id_number(value) -> None:
    """A mainland resident ID number: 18 characters, a known province, a real
    birth date between 1900 and today, the right check character."""
    number = normalize_id_number(value)
    if not ID_RE.match(number):
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a digit or X."), code="id_format"
        )
    if number[:2] not in PROVINCE_CODES:
        raise ValidationError(
            _("The first two digits of an ID number are a province code; %(code)s is none.")
            % {"code": number[:2]},
            code="id_area",
        )
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date inside this ID number does not exist."), code="id_birth"
        ) from None
    if born.year < 1900 or born > timezone.localdate():
        raise ValidationError(
            _("The birth date inside this ID number is impossible."), code="id_birth"
        )
    if id_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("This ID number's check character is wrong; please check every digit."),
            code="id_check",
        )
