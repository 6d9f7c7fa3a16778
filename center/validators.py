"""Validators for Chinese identifiers (DOMAIN.md: identifier formats)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_mobile(value: str) -> str:
    """Strip spaces, dashes and an optional +86/0086 prefix."""
    digits = re.sub(r"[\s-]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(normalize_mobile(value)):
        raise ValidationError(
            _("Enter a valid mainland mobile number: 11 digits starting with 13–19."),
            code="invalid_mobile",
        )


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_RE = re.compile(r"^\d{17}[\dX]$")


def id_check_character(first17: str) -> str:
    """GB 11643: sum of digits × weights, mod 11, mapped to 1 0 X 9 8 7 6 5 4 3 2."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def validate_id_number(value: str) -> None:
    """A mainland resident ID number: 18 characters, a real birth date, the right check character."""
    import datetime

    number = normalize_id_number(value)
    if not ID_RE.match(number):
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a digit or X."), code="id_format"
        )
    try:
        datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date inside this ID number does not exist."), code="id_birth"
        ) from None
    if id_check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("This ID number's check character is wrong; please check every digit."),
            code="id_check",
        )
