"""Star levels from accumulated verified hours (thresholds in settings)."""

from decimal import Decimal

from django.conf import settings


def thresholds() -> list[int]:
    return list(settings.LIANXIN["STAR_THRESHOLDS"])


def star_level(hours: Decimal | int | float) -> int:
    return sum(1 for t in thresholds() if hours >= t)


def hours_range_for_star(level: int) -> tuple[int, int | None]:
    """[low, high) hours for a star level; level 0 is below the first threshold."""
    t = thresholds()
    low = 0 if level == 0 else t[level - 1]
    high = t[level] if level < len(t) else None
    return low, high


def star_marks(level: int) -> list[bool]:
    """One mark per star there is (settings STAR_THRESHOLDS): True when reached."""
    return [n <= level for n in range(1, len(thresholds()) + 1)]
