"""Reads of the call log and the unmatched requests (issue 14, part A), each
scoped to the stations the user may see: operators and center managers the
city, a station manager the calls and needs counted at their stations (a
call counted city-wide only, with no station, is not theirs), anyone else
nothing."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from center.models import User
from center.roles import ALL, station_ids_for

from ..models import CallLog, ServiceRequest, UnmatchedRequest


def _scoped(qs: QuerySet, user) -> QuerySet:
    ids = station_ids_for(user)
    if ids is ALL:
        return qs
    return qs.filter(station_id__in=ids)


def call_list(*, user) -> QuerySet[CallLog]:
    """The call log, newest first, with the names each row shows (one join
    per name, on a page of 50: index lookups by primary key)."""
    return (
        _scoped(CallLog.objects.all(), user)
        .select_related("station", "category", "operator", "resident", "order")
        .only(
            "at",
            "number",
            "kind",
            "duration_seconds",
            "note",
            "station_id",
            "station__name",
            "category_id",
            "category__name",
            "operator_id",
            "operator__full_name",
            "operator__username",
            "resident_id",
            "resident__name",
            "order_id",
            "order__number",
        )
        .order_by("-at", "-id")
    )


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the center's zone (settings.TIME_ZONE)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def calls_logged_today(*, user: User) -> int:
    """How many calls ``user`` logged today (Asia/Shanghai day): one count
    on the ``call_operator`` index range (operator, -at): a few hundred rows
    at most for the busiest operator."""
    return CallLog.objects.filter(operator=user, at__gte=day_start(timezone.localdate())).count()


def resident_ids_with_number(*, user, number: str, limit: int = 6) -> list[int]:
    """Residents the user may see who have exactly this phone number (the
    console's lookup, whole number): ``residentphone`` by its number index."""
    from ..models import ResidentPhone
    from . import resident_list

    return list(
        ResidentPhone.objects.filter(number=number, resident__in=resident_list(user=user))
        .order_by("resident_id")
        .values_list("resident_id", flat=True)
        .distinct()[:limit]
    )


def caller_orders(*, user, resident_id: int, limit: int = 5) -> list[ServiceRequest]:
    """A caller's latest orders the user may see (open ones first), for the
    call panel's "which order is the call about"."""
    from . import order_list

    rows = list(
        order_list(user=user)
        .filter(resident_id=resident_id)
        .select_related(None)
        .select_related("item")
        .only("number", "status", "received_at", "resident_id", "station_id", "item__name")
        .order_by("-received_at", "-id")[:limit]
    )
    rows.sort(key=lambda o: (o.status not in ServiceRequest.OPEN,))
    return rows


def get_order_by_number_for_user(*, user, number: str) -> ServiceRequest | None:
    """An order the user may see by its number (exact), or None."""
    from . import order_list

    number = (number or "").strip().upper()
    if not number:
        return None
    return order_list(user=user).filter(number=number).first()


def unmatched_list(*, user) -> QuerySet[UnmatchedRequest]:
    """Needs no catalogue item matched and community-talk suggestions, newest first."""
    return (
        _scoped(UnmatchedRequest.objects.all(), user)
        .select_related("category", "community__parent", "station", "recorded_by")
        .order_by("-occurred_on", "-id")
    )
