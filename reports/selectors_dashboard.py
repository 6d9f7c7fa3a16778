"""Reads of the staff dashboards (issue 14). Every figure is defined, with its
SQL meaning, in ``docs/metrics.md`` ("Dashboards").

Two kinds of reads:

- ``ops_figures(user=...)``: the operator's / station manager's figures (today
  by hour, open orders, minutes to take and to arrive, follow-ups waiting,
  today's satisfaction, care, wishes, the next service day) for the stations
  ``user`` may see. The city's (operators, center managers) is read from the
  snapshot ``reports.snapshot`` keeps, refreshed every minute by
  ``reports.tasks.refresh_dashboard_snapshot``; a station manager's today by
  hour and open orders live (``live_figures``: a branch's day is a few
  hundred rows on the station indexes), the rest (``scope_figures``) from
  their scope's snapshot, refreshed in the background every minute.
- ``center_figures()``: the center manager's city-wide view by branch (level 2
  stations with their subtree), the three rates with 12-month trends from
  ``OrderMonthStat``, complaints and sanctions, star levels, hours: always a
  snapshot. ``branch_stations(...)`` is the live table of one branch.

Everything returned is JSON-ready (the snapshot stores it as is): dates as
ISO strings, rates as fractions or None.

The overdue list (``overdue``) is always live: it is what an operator acts
on, and three small index reads.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import ExtractHour
from django.utils import timezone

from center.models import Role, Station
from center.roles import ALL, scope_by_station, station_ids_for
from events.selectors_staff import day_list
from reports.selectors import Median, local_bounds, medians_supported
from requests.models import CallLog, FollowUp, MicroWish, OrderMonthStat, ServiceRequest
from requests.selectors import flag, order_rows, overdue_q, with_row_relations
from requests.selectors.care import overdue_pairings, silent_residents
from requests.selectors.wishes import wish_list
from volunteers.models import Complaint, HoursEntry, Sanction, Volunteer
from volunteers.stars import thresholds

Status = ServiceRequest.Status
SATISFIED = (FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.BASICALLY)
TREND_MONTHS = 12
OVERDUE_ROWS = 10
TOP_STATIONS = 5
# A station enters the top/bottom lists with at least this many orders
# dispatched this month: a rate of 1 of 1 says nothing.
RANK_MIN_DISPATCHED = 20

# The counts of OrderMonthStat the three rates need (docs/metrics.md).
RATE_COUNTS = (
    "received",
    "cancelled",
    "completed",
    "dispatched",
    "taken_in_target",
    "follow_ups",
    "satisfied",
)


class CityScope:
    """The scope a snapshot is computed in: what operators and center
    managers see (``station_ids_for`` gives ALL). Not a user: the task has
    none, and the reused selectors only ask the scope of the one they get."""

    is_authenticated = True
    is_active = True
    is_center_manager = True
    role = Role.CENTER_MANAGER
    pk = None


CITY = CityScope()


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def rates(counts: dict) -> dict:
    """The three rates of docs/metrics.md from summed counts: ratios of sums."""
    accepted = counts.get("received", 0) - counts.get("cancelled", 0)
    return {
        "response_rate": _ratio(counts.get("taken_in_target", 0), counts.get("dispatched", 0)),
        "resolution_rate": _ratio(counts.get("completed", 0), accepted),
        "satisfaction_rate": _ratio(counts.get("satisfied", 0), counts.get("follow_ups", 0)),
    }


def _scoped(qs, ids, path: str = "station_id"):
    return qs if ids is ALL else qs.filter(**{f"{path}__in": ids})


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.TIME_ZONE)


def week_start(today: datetime.date) -> datetime.date:
    """Monday of ``today``'s week (weeks run Monday to Sunday in China)."""
    return today - datetime.timedelta(days=today.weekday())


# --- The operator's / station manager's figures ---------------------------------------


def by_hour(*, ids, today: datetime.date) -> list[list[int]]:
    """Today's calls (``CallLog.at``) and orders (``received_at``) per hour of
    the day, Asia/Shanghai: ``[[hour, calls, orders], ...]`` for 0..23.
    Two grouped queries on the ranges of ``call_at``/``call_station`` and
    ``order_received``/``order_station``."""
    since, until = local_bounds(today, today)
    tz = _tz()
    calls = (
        _scoped(CallLog.objects.filter(at__gte=since, at__lt=until), ids)
        .order_by()
        .values(h=ExtractHour("at", tzinfo=tz))
        .annotate(n=Count("id"))
    )
    orders = (
        _scoped(ServiceRequest.objects.filter(received_at__gte=since, received_at__lt=until), ids)
        .order_by()
        .values(h=ExtractHour("received_at", tzinfo=tz))
        .annotate(n=Count("id"))
    )
    c = {row["h"]: row["n"] for row in calls}
    o = {row["h"]: row["n"] for row in orders}
    return [[h, c.get(h, 0), o.get(h, 0)] for h in range(24)]


def open_by_status(*, ids) -> dict[str, int]:
    """Open orders now, per status (index ``order_status`` /
    ``order_station_status``)."""
    rows = (
        _scoped(ServiceRequest.objects.filter(status__in=ServiceRequest.OPEN), ids)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
    )
    counts = {row["status"]: row["n"] for row in rows}
    return {status: counts.get(status, 0) for status in ServiceRequest.OPEN}


def take_and_arrive(*, ids, today: datetime.date) -> dict:
    """Minutes to take and to arrive for the orders received today and this
    week (Monday to today), against the target: the counts and medians of
    docs/metrics.md over those two cohorts. One aggregate over the week's
    orders (index range on ``received_at``)."""
    target = settings.LIANXIN["DISPATCH_TARGET_MINUTES"] * 60
    day_since, _until = local_bounds(today, today)
    week_since, until = local_bounds(week_start(today), today)
    reported = Q(arrived_at__isnull=False, arrival_unreported=False)
    dispatched = Q(dispatched_at__isnull=False) | Q(response_seconds__isnull=False)
    aggregates = {}
    for period, when in (("today", Q(received_at__gte=day_since)), ("week", Q())):
        aggregates.update(
            {
                f"{period}_received": Count("id", filter=when),
                f"{period}_dispatched": Count("id", filter=when & dispatched),
                f"{period}_taken": Count("id", filter=when & Q(response_seconds__isnull=False)),
                f"{period}_taken_in_target": Count(
                    "id", filter=when & Q(response_seconds__lte=target)
                ),
                f"{period}_arrivals": Count("id", filter=when & reported),
                f"{period}_arrivals_in_target": Count(
                    "id", filter=when & reported & Q(arrival_seconds__lte=target)
                ),
                f"{period}_arrivals_unreported": Count(
                    "id", filter=when & Q(arrival_unreported=True)
                ),
            }
        )
        if medians_supported():
            aggregates[f"{period}_take_median"] = Median(
                "response_seconds", filter=when & Q(response_seconds__isnull=False)
            )
            aggregates[f"{period}_arrival_median"] = Median(
                "arrival_seconds", filter=when & reported
            )
    row = (
        _scoped(
            ServiceRequest.objects.filter(received_at__gte=week_since, received_at__lt=until), ids
        )
        .order_by()
        .aggregate(**aggregates)
    )
    out = {"target_minutes": target // 60}
    for period in ("today", "week"):
        f = {
            name: row[f"{period}_{name}"] or 0
            for name in (
                "received",
                "dispatched",
                "taken",
                "taken_in_target",
                "arrivals",
                "arrivals_in_target",
                "arrivals_unreported",
            )
        }
        f["response_rate"] = _ratio(f["taken_in_target"], f["dispatched"])
        f["arrival_share"] = _ratio(f["arrivals_in_target"], f["arrivals"])
        f["median_take_minutes"] = _minutes(row.get(f"{period}_take_median"))
        f["median_arrival_minutes"] = _minutes(row.get(f"{period}_arrival_median"))
        out[period] = f
    return out


def follow_ups_waiting(*, ids) -> dict:
    """Completed orders waiting for their follow-up call (the follow-up
    queue, ``requests.selectors.follow_up_queue``): how many and since when
    the oldest (index ``order_followup_queue``: status, completed_at)."""
    row = (
        _scoped(ServiceRequest.objects.filter(status=Status.COMPLETED), ids)
        .order_by()
        .aggregate(n=Count("id"), oldest=Min("completed_at"))
    )
    return {
        "count": row["n"],
        "oldest": row["oldest"].isoformat() if row["oldest"] else None,
    }


def satisfaction_today(*, ids, today: datetime.date) -> dict:
    """Today's satisfaction: the follow-up calls recorded today
    (``FollowUp.at``, index ``followup_at``), each order's latest of them
    only, and the share 满意 or 基本满意."""
    since, until = local_bounds(today, today)
    later = FollowUp.objects.filter(order_id=OuterRef("order_id"), pk__gt=OuterRef("pk"))
    qs = FollowUp.objects.filter(at__gte=since, at__lt=until).filter(~Exists(later))
    if ids is not ALL:
        qs = qs.filter(order__station_id__in=ids)
    row = qs.order_by().aggregate(
        n=Count("id"), satisfied=Count("id", filter=Q(satisfaction__in=SATISFIED))
    )
    return {
        "follow_ups": row["n"],
        "satisfied": row["satisfied"],
        "rate": _ratio(row["satisfied"], row["n"]),
    }


def care_and_wishes(*, user, today: datetime.date) -> dict:
    """Care visits overdue (``requests.selectors.care.overdue_pairings``),
    silent special-group residents (``silent_residents``), micro-wishes
    waiting on the wall for an adopter and adopted wishes whose family was
    not contacted in time (``wish_list``): three counts."""
    now = timezone.now()
    wishes = (
        wish_list(user=user)
        .order_by()
        .aggregate(
            waiting=Count("id", filter=Q(status=MicroWish.Status.PUBLISHED)),
            contact_overdue=Count(
                "id", filter=Q(status=MicroWish.Status.ADOPTED, contact_due_at__lt=now)
            ),
        )
    )
    return {
        "visits_overdue": overdue_pairings(user=user, today=today)
        .select_related(None)
        .order_by()
        .count(),
        "silent": silent_residents(user=user, now=now)
        .select_related(None)
        .prefetch_related(None)
        .order_by()
        .count(),
        "wishes_waiting": wishes["waiting"],
        "wishes_contact_overdue": wishes["contact_overdue"],
    }


def next_service_day(*, user, today: datetime.date) -> dict | None:
    """The next service day (today's counts while it runs) with its venues,
    stalls, places, places taken (sign-ups) and waiting list in the user's
    scope (``events.selectors_staff.day_list``)."""
    day = day_list(user=user, today=today).filter(date__gte=today).first()
    if day is None:
        return None
    return {
        "pk": day.pk,
        "date": day.date.isoformat(),
        "theme": day.theme,
        "venues": day.venue_count,
        "stalls": day.stall_count,
        "places": day.places,
        "taken": day.taken,
        "waiting": day.waiting,
    }


def live_figures(*, ids, today: datetime.date) -> dict:
    """What changes by the minute and costs little: today's calls and orders
    by hour, open orders by status (a station manager's are read at every
    view, on the station indexes): three queries."""
    return {
        "today": today.isoformat(),
        "by_hour": by_hour(ids=ids, today=today),
        "open": open_by_status(ids=ids),
    }


def scope_figures(*, user, today: datetime.date) -> dict:
    """The rest, read from a snapshot of the user's scope
    (``reports.snapshot``): the week's medians (~27,000 orders city-wide),
    follow-ups, and the figures read through the residents' and service
    days' scopes (``resident_list``: for a station manager a semi-join over
    every order their stations ever had, ~0.9 s for the busiest branch at
    city scale)."""
    ids = station_ids_for(user)
    return {
        "minutes": take_and_arrive(ids=ids, today=today),
        "follow_ups_waiting": follow_ups_waiting(ids=ids),
        "satisfaction_today": satisfaction_today(ids=ids, today=today),
        "care": care_and_wishes(user=user, today=today),
        "service_day": next_service_day(user=user, today=today),
    }


def ops_figures(*, user, today: datetime.date | None = None) -> dict:
    """Every figure of the operator's dashboard but the overdue list, for the
    stations ``user`` may see (``CITY`` for the city snapshot). JSON-ready."""
    today = today or timezone.localdate()
    return {
        **live_figures(ids=station_ids_for(user), today=today),
        **scope_figures(user=user, today=today),
    }


def overdue(*, user, limit: int = OVERDUE_ROWS) -> dict:
    """The red and yellow list (``requests.selectors.overdue_q``, the orders
    list's ``?overdue=``): how many are red (past the limit) and yellow (near
    it, or urged), and the oldest ``limit`` of them with their names. Live:
    one aggregate, one page of rows, the rows' names (index
    ``order_urgency_open``)."""
    now = timezone.now()
    flagged = scope_by_station(ServiceRequest.objects.filter(overdue_q("yellow", now)), user)
    counts = flagged.order_by().aggregate(
        any=Count("id"), red=Count("id", filter=overdue_q("red", now))
    )
    # Ordered by an expression, not the column: ordered by received_at, the
    # planner may walk order_received from the oldest of 5M orders to find
    # the few open ones (1.9 s measured); this way it reads the open orders
    # (a few thousand, order_urgency_open / order_status) and sorts the top 10.
    oldest_first = ExpressionWrapper(
        F("received_at") + datetime.timedelta(0), output_field=DateTimeField()
    )
    rows = list(
        order_rows(user=user)
        .filter(overdue_q("yellow", now))
        .order_by(oldest_first.asc(), "id")[:limit]
    )
    with_row_relations(rows)
    for order in rows:
        order.flag = flag(order, now)
    return {"red": counts["red"], "yellow": counts["any"] - counts["red"], "rows": rows}


# --- The center manager's figures (always a snapshot) ------------------------------------


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """The first day of ``day``'s month, ``back`` months earlier."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def branch_of() -> tuple[dict[int, int], list[dict]]:
    """Each station's branch (level 2: a child of a root station; the root
    itself and the branches are their own), and the branches by code. One
    query over the 1,153 stations."""
    rows = list(
        Station.objects.order_by("code").values(
            "pk", "code", "name", "parent_id", "parent__parent_id"
        )
    )
    roots = {r["pk"] for r in rows if r["parent_id"] is None}
    of = {}
    for r in rows:
        if r["parent_id"] is None or r["parent_id"] in roots:
            of[r["pk"]] = r["pk"]
        elif r["parent__parent_id"] in roots:
            of[r["pk"]] = r["parent_id"]
        else:  # deeper than the three levels: counted with the grandparent's branch
            of[r["pk"]] = r["parent__parent_id"]
    branches = [
        {"pk": r["pk"], "code": r["code"], "name": r["name"], "stations": 0}
        for r in rows
        if of[r["pk"]] == r["pk"]
    ]
    size = defaultdict(int)
    for branch in of.values():
        size[branch] += 1
    for b in branches:
        b["stations"] = size[b["pk"]]
    return of, branches


def _empty_counts() -> dict:
    return dict.fromkeys(RATE_COUNTS, 0)


def center_figures(*, today: datetime.date | None = None) -> dict:
    """The center manager's view, city-wide and per branch (JSON-ready, for
    the snapshot): the three rates this month and over 12 months (sums of
    ``OrderMonthStat``, grouped by month and station: ~9,000 rows a month),
    the top and bottom stations of this month by response rate, complaints
    (``Complaint.station``) and sanctions (through their complaint's station)
    recorded this month, volunteers per star level (ranges of
    ``verified_hours``, its index) and verified hours served this month
    (``HoursEntry.date``). Seven queries."""
    today = today or timezone.localdate()
    first = month_start(today)
    months = [month_start(today, back) for back in range(TREND_MONTHS - 1, -1, -1)]
    of, branches = branch_of()
    station_names = dict(Station.objects.values_list("pk", "name"))

    # 1. OrderMonthStat summed per month × station (categories summed).
    city_trend = {m: _empty_counts() for m in months}
    branch_trend = {b["pk"]: {m: _empty_counts() for m in months} for b in branches}
    this_month = defaultdict(_empty_counts)
    rows = (
        OrderMonthStat.objects.filter(month__gte=months[0], month__lte=first)
        .order_by()
        .values("month", "station_id")
        .annotate(**{name: Sum(name) for name in RATE_COUNTS})
    )
    for row in rows:
        month, sid = row["month"], row["station_id"]
        branch = of.get(sid)
        for name in RATE_COUNTS:
            city_trend[month][name] += row[name]
            if branch is not None:
                branch_trend[branch][month][name] += row[name]
            if month == first:
                this_month[sid][name] += row[name]

    # 2. Complaints recorded this month per station and status.
    since, until = local_bounds(first, today)
    complaints = defaultdict(int)
    complaints_valid = defaultdict(int)
    city_complaints = {"total": 0, "valid": 0, "pending": 0}
    for row in (
        Complaint.objects.filter(recorded_at__gte=since, recorded_at__lt=until)
        .order_by()
        .values("station_id", "status")
        .annotate(n=Count("id"))
    ):
        branch = of.get(row["station_id"])
        city_complaints["total"] += row["n"]
        if row["status"] == Complaint.Status.VALID:
            city_complaints["valid"] += row["n"]
            complaints_valid[branch] += row["n"]
        elif row["status"] == Complaint.Status.PENDING:
            city_complaints["pending"] += row["n"]
        complaints[branch] += row["n"]

    # 3. Sanctions given this month, per level and their complaint's station.
    sanctions = defaultdict(int)
    city_sanctions = dict.fromkeys(Sanction.Level.values, 0)
    for row in (
        Sanction.objects.filter(created_at__gte=since, created_at__lt=until)
        .order_by()
        .values("level", station_id=F("complaint__station_id"))
        .annotate(n=Count("id"))
    ):
        city_sanctions[row["level"]] += row["n"]
        sanctions[of.get(row["station_id"])] += row["n"]

    # 4. Volunteers per star level (levels are ranges of verified_hours).
    levels = thresholds()
    star_case = {
        f"s{n}": Count(
            "id",
            filter=Q(verified_hours__gte=low) & (Q(verified_hours__lt=high) if high else Q()),
        )
        for n, (low, high) in enumerate(zip([0, *levels], [*levels, None], strict=True))
    }
    stars = [0] * (len(levels) + 1)
    branch_stars = defaultdict(lambda: [0] * (len(levels) + 1))
    for row in Volunteer.objects.order_by().values("station_id").annotate(**star_case):
        branch = of.get(row["station_id"])
        for n in range(len(levels) + 1):
            stars[n] += row[f"s{n}"]
            branch_stars[branch][n] += row[f"s{n}"]

    # 5. Verified hours served this month (by the service date).
    hours = defaultdict(Decimal)
    city_hours = Decimal(0)
    for row in (
        HoursEntry.objects.filter(date__gte=first, date__lte=today, verified_at__isnull=False)
        .order_by()
        .values("station_id")
        .annotate(h=Sum("hours"))
    ):
        hours[of.get(row["station_id"])] += row["h"] or 0
        city_hours += row["h"] or 0

    # Top and bottom stations this month by response rate (enough volume only).
    ranked = []
    for sid, counts in this_month.items():
        if counts["dispatched"] < RANK_MIN_DISPATCHED:
            continue
        ranked.append(
            {
                "pk": sid,
                "name": station_names.get(sid, ""),
                "branch": of.get(sid),
                **counts,
                **rates(counts),
            }
        )
    ranked.sort(key=lambda r: (-(r["response_rate"] or 0), -r["received"], r["pk"]))

    def trend(by_month: dict) -> list[list]:
        # Compact ([month, response, resolution, satisfaction]): 73 branches
        # × 12 months are read back at every view of the page.
        out = []
        for m in months:
            r = rates(by_month[m])
            out.append(
                [m.isoformat(), r["response_rate"], r["resolution_rate"], r["satisfaction_rate"]]
            )
        return out

    branch_rows = []
    for b in branches:
        counts = branch_trend[b["pk"]][first]
        branch_rows.append(
            {
                **b,
                **counts,
                **rates(counts),
                "complaints": complaints[b["pk"]],
                "complaints_valid": complaints_valid[b["pk"]],
                "sanctions": sanctions[b["pk"]],
                "hours": float(hours[b["pk"]]),
                "stars": branch_stars[b["pk"]],
                "trend": trend(branch_trend[b["pk"]]),
            }
        )
    month_counts = city_trend[first]
    return {
        "today": today.isoformat(),
        "month": first.isoformat(),
        "city": {
            **month_counts,
            **rates(month_counts),
            "trend": trend(city_trend),
            "complaints": city_complaints,
            "sanctions": city_sanctions,
            "stars": stars,
            "hours": float(city_hours),
        },
        "branches": branch_rows,
        "top": ranked[:TOP_STATIONS],
        "bottom": list(reversed(ranked[-TOP_STATIONS:])) if len(ranked) > TOP_STATIONS else [],
        "star_thresholds": levels,
    }


def branch_stations(*, branch_id: int, today: datetime.date | None = None) -> list[dict]:
    """One branch's stations (itself and its subtree) this month: the rates
    from ``OrderMonthStat`` (index ``ordermonthstat_unique``: month, station),
    complaints (``complaint_station``) and verified hours. Four queries."""
    today = today or timezone.localdate()
    first = month_start(today)
    stations = list(
        Station.objects.filter(
            Q(pk=branch_id) | Q(parent_id=branch_id) | Q(parent__parent_id=branch_id)
        )
        .order_by("code")
        .values("pk", "code", "name", "kind")
    )
    ids = [s["pk"] for s in stations]
    counts = {
        row["station_id"]: row
        for row in OrderMonthStat.objects.filter(month=first, station_id__in=ids)
        .order_by()
        .values("station_id")
        .annotate(**{name: Sum(name) for name in RATE_COUNTS})
    }
    since, until = local_bounds(first, today)
    complaints = dict(
        Complaint.objects.filter(station_id__in=ids, recorded_at__gte=since, recorded_at__lt=until)
        .order_by()
        .values("station_id")
        .annotate(n=Count("id"))
        .values_list("station_id", "n")
    )
    hours = dict(
        HoursEntry.objects.filter(
            station_id__in=ids, date__gte=first, date__lte=today, verified_at__isnull=False
        )
        .order_by()
        .values("station_id")
        .annotate(h=Sum("hours"))
        .values_list("station_id", "h")
    )
    out = []
    for s in stations:
        c = counts.get(s["pk"]) or _empty_counts()
        c = {name: c.get(name) or 0 for name in RATE_COUNTS}
        out.append(
            {
                **s,
                **c,
                **rates(c),
                "complaints": complaints.get(s["pk"], 0),
                "hours": float(hours.get(s["pk"]) or 0),
            }
        )
    return out
