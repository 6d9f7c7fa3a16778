"""Reads of the dashboards and reports. Every figure is defined, with its SQL
meaning, in ``docs/metrics.md``; a change here changes that page too.

Figures are aggregated in the database, a fixed number of queries whatever
the number of orders, and scoped by ``center.roles`` like every other read.
"""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, Exists, F, FloatField, OuterRef, Q, QuerySet

from center.models import ServiceItem
from center.roles import ALL, station_ids_for
from requests.models import FollowUp, ServiceRequest

Status = ServiceRequest.Status
Satisfaction = FollowUp.Satisfaction


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``: the
    median of the non-null values (the mean of the two middle ones when their
    number is even). ``filter=`` becomes ``FILTER (WHERE ...)``."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_filter = True


def medians_supported() -> bool:
    """Medians need PostgreSQL (``percentile_cont``). On SQLite (the embedded
    development default) they are None: sorting every value in Python would
    not stay within the memory budget at city scale."""
    return connection.vendor == "postgresql"


def local_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    """``[start 00:00, the day after end 00:00)`` in the center's time zone
    (``settings.TIME_ZONE``, Asia/Shanghai), whatever zone is active: a
    report's days are Jiaxing's days. ``end`` is included."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


COUNTS = (
    "received",
    "cancelled",
    "completed",
    "dispatched",
    "taken_in_target",
    "arrivals",
    "arrivals_in_target",
    "arrivals_unreported",
    "follow_ups",
    "satisfied",
)


def _figures(counts: dict, medians: dict | None) -> dict:
    """The rates from the counts (None where the denominator is 0)."""
    f = {name: counts.get(name) or 0 for name in COUNTS}
    f["accepted"] = f["received"] - f["cancelled"]
    f["resolution_rate"] = _ratio(f["completed"], f["accepted"])
    f["response_rate"] = _ratio(f["taken_in_target"], f["dispatched"])
    f["arrival_share"] = _ratio(f["arrivals_in_target"], f["arrivals"])
    f["satisfaction_rate"] = _ratio(f["satisfied"], f["follow_ups"])
    medians = medians or {}
    f["median_take_minutes"] = _minutes(medians.get("take_median"))
    f["median_arrival_minutes"] = _minutes(medians.get("arrival_median"))
    return f


def order_rates(
    *,
    user,
    start: datetime.date,
    end: datetime.date,
    station_ids=None,
    urgency: str | None = None,
    by_category: bool = False,
) -> dict:
    """The order figures of ``docs/metrics.md`` for the orders received from
    ``start`` to ``end`` (both included, Asia/Shanghai days), per station and
    in total, for the stations ``user`` may see (``center.roles``), narrowed
    to ``station_ids`` when given and to one ``urgency`` when given.

    Returns ``{"stations": {station_id: figures}, "total": figures}``;
    ``figures`` holds the counts, the four rates (a fraction, None when
    nothing was counted) and the two medians in minutes (None on SQLite).
    ``total`` is the city for center managers and operators, the manager's
    own stations for a station manager, and counts each order once.
    ``by_category``: also ``"cells"``, ``{(station_id, category_id): figures}``
    (the category of the order's item), medians included: on PostgreSQL two
    queries in all (``_rates_by_category``), elsewhere two more (the orders
    and their latest follow-ups grouped by station and category).

    Queries, whatever the number of orders: the user's stations (station
    managers only), the orders grouped by station, their latest follow-ups
    grouped by station, and (PostgreSQL) the medians of the total, which
    cannot be summed from the stations'. The range on ``received_at`` is
    served by the index ``order_received`` (``-received_at, -id``) city-wide
    and ``order_station`` (``station, -received_at, -id``) for a set of
    stations; follow-ups join back by their ``order_id`` index."""
    ids = station_ids_for(user)
    if station_ids is not None:
        wanted = frozenset(int(pk) for pk in station_ids)
        ids = wanted if ids is ALL else ids & wanted
    return order_rates_for(ids, start=start, end=end, urgency=urgency, by_category=by_category)


def order_rates_for(
    ids: frozenset[int] | None,
    *,
    start: datetime.date,
    end: datetime.date,
    urgency: str | None = None,
    by_category: bool = False,
) -> dict:
    """``order_rates`` for a set of stations already scoped (None: the
    city): for a report file whose scope was frozen when it was asked for
    (``reports.models.ReportExport.station_ids``), written by a task that
    has no user. Callers with a user call ``order_rates``."""
    if ids is not ALL and not ids:
        empty = {"stations": {}, "total": _figures({}, None)}
        return {**empty, "cells": {}} if by_category else empty

    since, until = local_bounds(start, end)
    where = {"received_at__gte": since, "received_at__lt": until}
    if ids is not ALL:
        where["station_id__in"] = ids
    if urgency:
        where["urgency"] = urgency
    orders = ServiceRequest.objects.filter(**where).order_by()

    target = settings.LIANXIN["DISPATCH_TARGET_MINUTES"] * 60
    reported = Q(arrived_at__isnull=False, arrival_unreported=False)
    counts = {
        "received": Count("id"),
        "cancelled": Count("id", filter=Q(status=Status.CANCELLED)),
        # completed_at is set by completion and cleared by a reopen: exactly
        # the orders completed (or archived) now, each once.
        "completed": Count("id", filter=Q(completed_at__isnull=False)),
        # Dispatched now, or taken before a return or reopen sent it back
        # (a return keeps response_seconds, clears dispatched_at).
        "dispatched": Count(
            "id", filter=Q(dispatched_at__isnull=False) | Q(response_seconds__isnull=False)
        ),
        "taken_in_target": Count("id", filter=Q(response_seconds__lte=target)),
        "arrivals": Count("id", filter=reported),
        "arrivals_in_target": Count("id", filter=reported & Q(arrival_seconds__lte=target)),
        "arrivals_unreported": Count("id", filter=Q(arrival_unreported=True)),
    }
    medians = {}
    if medians_supported():
        medians = {
            "take_median": Median("response_seconds"),
            "arrival_median": Median("arrival_seconds", filter=reported),
        }
    if by_category and medians:
        return _rates_by_category(orders, counts, medians, where)
    per_station = {
        row["station_id"]: row for row in orders.values("station_id").annotate(**counts, **medians)
    }
    for row in _latest_follow_ups({f"order__{k}": v for k, v in where.items()}):
        per_station[row["station_id"]].update(row)  # a follow-up's order was counted

    stations = {pk: _figures(row, row) for pk, row in sorted(per_station.items())}
    totals = {name: sum(f[name] for f in stations.values()) for name in COUNTS}
    total_medians = orders.aggregate(**medians) if medians and stations else None
    result = {"stations": stations, "total": _figures(totals, total_medians)}
    if by_category:
        per_cell = {
            (row["station_id"], row["category_id"]): row
            for row in orders.values("station_id", category_id=F("item__category_id")).annotate(
                **counts, **medians
            )
        }
        follow_ups = {f"order__{k}": v for k, v in where.items()}
        for row in _latest_follow_ups(follow_ups, by_category=True):
            per_cell[(row["station_id"], row["category_id"])].update(row)
        result["cells"] = {key: _figures(row, row) for key, row in sorted(per_cell.items())}
    return result


def _rates_by_category(orders: QuerySet, counts: dict, medians: dict, where: dict) -> dict:
    """``order_rates_for(by_category=True)`` on PostgreSQL in two queries:
    the orders read once, grouped by ``GROUPING SETS ((station, category),
    (station), ())``, so that the cells, the stations and the total each get
    their own counts and medians from one scan (the medians cannot be
    summed); then the latest follow-ups by cell, summed for the stations and
    the total (a follow-up's order has one station and one category). An
    order always has both (its item's category), so a NULL category marks a
    station's row and a NULL station the total."""
    cells_qs = orders.values("station_id", category_id=F("item__category_id")).annotate(
        **counts, **medians
    )
    sql, params = cells_qs.query.sql_with_params()
    qn = connection.ops.quote_name
    station = f"{qn(ServiceRequest._meta.db_table)}.{qn('station_id')}"
    category = f"{qn(ServiceItem._meta.db_table)}.{qn('category_id')}"
    head, sep, _group = sql.rpartition(" GROUP BY ")
    if not sep:  # the ORM always groups here; fail loudly if that changes
        raise RuntimeError("unexpected SQL for the report's order figures")
    sql = f"{head} GROUP BY GROUPING SETS (({station}, {category}), ({station}), ())"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    cells, stations, total = {}, {}, {}
    for row in rows:
        if row["station_id"] is None:
            total = row
        elif row["category_id"] is None:
            stations[row["station_id"]] = row
        else:
            cells[(row["station_id"], row["category_id"])] = row
    for row in _latest_follow_ups({f"order__{k}": v for k, v in where.items()}, by_category=True):
        key = (row["station_id"], row["category_id"])
        for target in (cells[key], stations[key[0]], total):
            for name in ("follow_ups", "satisfied"):
                target[name] = target.get(name, 0) + row[name]
    return {
        "stations": {pk: _figures(row, row) for pk, row in sorted(stations.items())},
        "total": _figures(total, total if cells else None),
        "cells": {key: _figures(row, row) for key, row in sorted(cells.items())},
    }


def _latest_follow_ups(where: dict, *, by_category: bool = False) -> QuerySet:
    """Per station (and category): the orders followed up, and those whose
    latest follow-up was 满意 or 基本满意. A reopened order has one follow-up
    per round; only the last counts (the resident's last word), so it is
    counted once."""
    later = FollowUp.objects.filter(order_id=OuterRef("order_id"), pk__gt=OuterRef("pk"))
    group = {"station_id": F("order__station_id")}
    if by_category:
        group["category_id"] = F("order__item__category_id")
    return (
        FollowUp.objects.filter(**where)
        .filter(~Exists(later))
        .order_by()
        .values(**group)
        .annotate(
            follow_ups=Count("id"),
            satisfied=Count(
                "id",
                filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY]),
            ),
        )
    )
