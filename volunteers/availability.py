"""Weekly availability: when a volunteer can usually be dispatched.

Stored as ``{"mon": [["08:00", "12:00"]], ...}``; written and read by people as
``周一 08:00-12:00；周六 09:00-17:00``. Dispatch asks ``is_available(data, when)``.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAY_NAMES = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
_ALIASES = {
    **{n: d for n, d in zip(DAY_NAMES, DAYS, strict=True)},
    **{d: d for d in DAYS},
    "周天": "sun",
    "星期日": "sun",
}
_ALIASES.update({f"星期{n[1]}": d for n, d in zip(DAY_NAMES, DAYS, strict=True)})
_PART = re.compile(r"^\s*(\S+)\s+(\d{1,2}:\d{2})\s*[-–~至]\s*(\d{1,2}:\d{2})\s*$")


def _time(value: str) -> datetime.time:
    hours, minutes = value.split(":")
    return datetime.time(int(hours), int(minutes))


def parse(text: str) -> dict[str, list[list[str]]]:
    result: dict[str, list[list[str]]] = {}
    for part in re.split(r"[;；,，\n]+", text or ""):
        if not part.strip():
            continue
        match = _PART.match(part)
        day = _ALIASES.get(match.group(1).lower()) if match else None
        if not match or day is None:
            raise ValidationError(_("Write each period as 周六 09:00-12:00, separated by ；"))
        try:
            start, end = _time(match.group(2)), _time(match.group(3))
        except ValueError:
            raise ValidationError(
                _("%(part)s is not a real time of day.") % {"part": part.strip()}
            ) from None
        if start >= end:
            raise ValidationError(_("%(part)s ends before it starts.") % {"part": part.strip()})
        result.setdefault(day, []).append([start.strftime("%H:%M"), end.strftime("%H:%M")])
    return result


def format_text(data: dict) -> str:
    parts = []
    for day, name in zip(DAYS, DAY_NAMES, strict=True):
        for start, end in (data or {}).get(day, []):
            parts.append(f"{name} {start}-{end}")
    return "；".join(parts)


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def slots(data: dict) -> list[tuple[int, int, int]]:
    """The stored form as (weekday, start minute, end minute) rows for the database."""
    return [
        (index, _minutes(start), _minutes(end))
        for index, day in enumerate(DAYS)
        for start, end in (data or {}).get(day, [])
    ]


def is_available(data: dict, when: datetime.datetime) -> bool:
    now = when.strftime("%H:%M")
    return any(start <= now < end for start, end in (data or {}).get(DAYS[when.weekday()], []))
