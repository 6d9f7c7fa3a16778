"""The weathervane (风向标): where demand rose, and what people asked for that
the catalogue does not have. Definitions (with their SQL meaning):
``docs/metrics.md`` "Weathervane"; numbers at city size: ``docs/performance.md``.

- **Demand** is the work orders received (every ``kind``, cancelled ones
  too), per service item and per community, in a period and in two periods
  to compare it with: the one of the same length just before, and the same
  dates a year earlier. Days are Asia/Shanghai days (``local_bounds``).
- **Rises** are ranked by number (current − comparison) or by percentage;
  a percentage is given only when the comparison period had at least
  ``min_volume()`` orders, so 1 → 3 is "+2", never "+200 %" at the top.
- **Unmatched requests** (``requests.UnmatchedRequest``) of the period are
  grouped by their normalized words (``normalize_words``) and category; a
  call counts 1, a community-talk suggestion counts its ``mentions``.

Scope: ``center.roles.station_ids_for``. The city (center managers and
operators) reads a snapshot (``reports.DashboardSnapshot``, key
``weathervane:city:<period>``) refreshed hourly by
``reports.tasks.refresh_weathervane``; a station manager's few stations are
computed live through the index ``order_station`` (station, -received_at).
"""

from __future__ import annotations

import calendar
import datetime
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from center.roles import ALL, station_ids_for
from reports.models import DashboardSnapshot
from reports.selectors import local_bounds
from requests.models import ServiceRequest, UnmatchedRequest, unmatched_words

# The periods one may choose: a calendar month (default: the last complete
# one) or the last 7 / 30 complete days (ending yesterday: today is not over).
MONTH, DAYS_7, DAYS_30 = "month", "d7", "d30"
PERIOD_KINDS = (MONTH, DAYS_7, DAYS_30)
WINDOW_DAYS = {DAYS_7: 7, DAYS_30: 30}
# What the rises are measured against, and how they are ranked.
VS_PREVIOUS, VS_YEAR = "previous", "year"
BY_COUNT, BY_PERCENT = "count", "percent"

SNAPSHOT_PREFIX = "weathervane:city:"
# Rows kept: the top of each ranking (communities: the union over the four
# rankings, so any ranking's top is complete), the most frequent unmatched
# groups, and a ceiling on the distinct unmatched texts read for one period.
TOP = 20
UNMATCHED_GROUPS = 100
UNMATCHED_ROWS_CAP = 20_000
PLACES_PER_GROUP = 3
# How far back a month may be chosen: each month's city snapshot is computed
# once (1–2 s at city size) and kept, so a GET may not ask for any month since
# 2000; two years covers "the same period last year" of every month shown.
MONTHS_BACK = 24


def min_volume() -> int:
    """Orders the comparison period must have for a percentage rise to be
    given (and ranked): ``settings.LIANXIN["WEATHERVANE_MIN_VOLUME"]``,
    default 10."""
    return int(settings.LIANXIN.get("WEATHERVANE_MIN_VOLUME", 10))


def local_today() -> datetime.date:
    """Today in the center's zone (``settings.TIME_ZONE``), whatever zone is active."""
    return timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))


def _year_back(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year - 1, day=28)


def _month_end(first: datetime.date) -> datetime.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


@dataclass(frozen=True)
class Period:
    """Days ``start``..``end``, both included (Asia/Shanghai days)."""

    kind: str
    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        """The snapshot key's tail: ``m:2026-03`` or ``d7:2026-03-31`` (the last day)."""
        if self.kind == MONTH:
            return f"m:{self.start:%Y-%m}"
        return f"{self.kind}:{self.end.isoformat()}"

    def previous(self) -> Period:
        """The same number of days just before (for March: 29 Jan – 28 Feb,
        31 days; a calendar month before would have 28 and look like a 10 % rise)."""
        end = self.start - datetime.timedelta(days=1)
        return Period(self.kind, end - datetime.timedelta(days=self.days - 1), end)

    def year_earlier(self) -> Period:
        """The same dates a year earlier (a month: the same calendar month)."""
        if self.kind == MONTH:
            first = _year_back(self.start)
            return Period(self.kind, first, _month_end(first))
        return Period(self.kind, _year_back(self.start), _year_back(self.end))

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat()}


def last_complete_month(today: datetime.date | None = None) -> Period:
    first = (today or local_today()).replace(day=1)
    previous_first = (first - datetime.timedelta(days=1)).replace(day=1)
    return Period(MONTH, previous_first, _month_end(previous_first))


def period_for(
    kind: str | None = None, month: str | None = None, today: datetime.date | None = None
) -> Period:
    """The period asked for by a page's parameters; anything unknown, not yet
    complete (this month, a future month) or more than ``MONTHS_BACK``
    months back gives the last complete month."""
    today = today or local_today()
    if kind in WINDOW_DAYS:
        end = today - datetime.timedelta(days=1)
        return Period(kind, end - datetime.timedelta(days=WINDOW_DAYS[kind] - 1), end)
    default = last_complete_month(today)
    if month:
        try:
            first = datetime.datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            return default
        earliest = default.start
        for _ in range(MONTHS_BACK - 1):
            earliest = (earliest - datetime.timedelta(days=1)).replace(day=1)
        if earliest <= first <= default.start:
            return Period(MONTH, first, _month_end(first))
    return default


def standard_periods(today: datetime.date | None = None) -> list[Period]:
    """What the hourly task keeps fresh: the default month and the two windows."""
    today = today or local_today()
    return [
        last_complete_month(today),
        period_for(DAYS_7, today=today),
        period_for(DAYS_30, today=today),
    ]


# --- Rises ---------------------------------------------------------------------------


def rise(current: int, base: int, floor: int) -> dict:
    """``diff`` = current − base; ``pct`` = diff / base × 100, only when
    ``base >= floor`` (else None: too few to compare); ``new`` when nothing
    was asked for before and something is now."""
    return {
        "base": base,
        "diff": current - base,
        "pct": round((current - base) * 100 / base, 1) if base >= floor and base > 0 else None,
        "new": base == 0 and current > 0,
    }


def rank(rows: list[dict], *, vs: str, by: str, floor: int, limit: int = TOP) -> list[dict]:
    """The rows whose demand rose against ``vs`` (``previous`` or ``year``),
    most first: by number (ties: more orders now, then name) or by
    percentage, among rows with at least ``floor`` orders in the comparison
    period (ties: the larger number, then name). Each row returned carries
    ``rise`` for both comparisons and ``vs``, the chosen one."""
    out = []
    for row in rows:
        rises = {
            VS_PREVIOUS: rise(row["current"], row["previous"], floor),
            VS_YEAR: rise(row["current"], row["year"], floor),
        }
        chosen = rises[vs]
        if chosen["diff"] <= 0 or (by == BY_PERCENT and chosen["pct"] is None):
            continue
        out.append({**row, "rise": rises, "vs": chosen})
    if by == BY_PERCENT:
        out.sort(key=lambda r: (-r["vs"]["pct"], -r["vs"]["diff"], r["name"], r["id"]))
    else:
        out.sort(key=lambda r: (-r["vs"]["diff"], -r["current"], r["name"], r["id"]))
    return out[:limit]


# --- Unmatched words -------------------------------------------------------------------


def normalize_words(text: str) -> str:
    """The grouping key (``requests.models.unmatched_words``, kept on each
    row as ``words``): one rule for the groups here and the list's filter."""
    return unmatched_words(text)


def _top(counter: Counter, n: int = PLACES_PER_GROUP) -> list[list]:
    return [
        [name, count] for name, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    ]


def _unmatched(ids, period: Period) -> dict:
    """Groups of the period's unmatched requests (by normalized words and
    category) with calls, talk mentions, their total and where they came
    from; and the totals per category. One query: the rows grouped by their
    exact words, category, source and place, merged here by the
    normalized words."""
    qs = UnmatchedRequest.objects.filter(
        occurred_on__gte=period.start, occurred_on__lte=period.end
    ).order_by()
    if ids is not ALL:
        qs = qs.filter(station_id__in=ids)
    rows = list(
        qs.values(
            "text",
            "category_id",
            "category__name",
            "source",
            "community__name",
            "station__name",
        )
        .annotate(n=Count("id"), mentions=Sum("mentions"))
        .order_by("-n", "text")[: UNMATCHED_ROWS_CAP + 1]
    )
    truncated = len(rows) > UNMATCHED_ROWS_CAP
    groups: dict[tuple, dict] = {}
    for row in rows[:UNMATCHED_ROWS_CAP]:
        talk = row["source"] == UnmatchedRequest.Source.TALK
        weight = (row["mentions"] or 0) if talk else row["n"]
        key = (normalize_words(row["text"]), row["category_id"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "key": key[0],
                "category_id": row["category_id"],
                "category": row["category__name"] or "",
                "calls": 0,
                "talks": 0,
                "mentions": 0,
                "variants": Counter(),
                "communities": Counter(),
                "stations": Counter(),
            }
        if talk:
            group["talks"] += row["n"]
            group["mentions"] += weight
        else:
            group["calls"] += weight
        group["variants"][row["text"].strip()] += weight
        if row["community__name"]:
            group["communities"][row["community__name"]] += weight
        if row["station__name"]:
            group["stations"][row["station__name"]] += weight

    categories: dict = defaultdict(
        lambda: {"groups": 0, "calls": 0, "talks": 0, "mentions": 0, "total": 0}
    )
    out = []
    for group in groups.values():
        total = group["calls"] + group["mentions"]
        variants = group.pop("variants")
        # Shown as the words most often used (ties: the first in code-point order).
        group["text"] = sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        group["variants"] = len(variants)
        group["total"] = total
        group["communities"] = _top(group["communities"])
        group["stations"] = _top(group["stations"])
        out.append(group)
        cat = categories[(group["category_id"], group["category"])]
        cat["groups"] += 1
        for name in ("calls", "talks", "mentions"):
            cat[name] += group[name]
        cat["total"] += total
    out.sort(key=lambda g: (-g["total"], -g["calls"], g["text"], g["category"]))
    per_category = [
        {"category_id": cid, "category": name, **figures}
        for (cid, name), figures in categories.items()
    ]
    per_category.sort(key=lambda c: (-c["total"], c["category"]))
    return {
        "groups": out[:UNMATCHED_GROUPS],
        "group_count": len(out),
        "categories": per_category,
        "total": sum(c["total"] for c in per_category),
        "truncated": truncated,
    }


# --- Demand ----------------------------------------------------------------------------


def _demand(ids, period: Period) -> dict:
    """Orders received per item and per community in the period, the one
    before and a year earlier: two grouped queries over the three ranges
    (the period and the one before are adjacent: one range)."""
    previous, year = period.previous(), period.year_earlier()
    cur_from, cur_to = local_bounds(period.start, period.end)
    prev_from, _prev_to = local_bounds(previous.start, previous.end)
    year_from, year_to = local_bounds(year.start, year.end)
    in_cur = Q(received_at__gte=cur_from, received_at__lt=cur_to)
    in_prev = Q(received_at__gte=prev_from, received_at__lt=cur_from)
    in_year = Q(received_at__gte=year_from, received_at__lt=year_to)
    orders = ServiceRequest.objects.filter(
        Q(received_at__gte=prev_from, received_at__lt=cur_to) | in_year
    ).order_by()
    if ids is not ALL:
        orders = orders.filter(station_id__in=ids)
    counts = {
        "current": Count("id", filter=in_cur),
        "previous": Count("id", filter=in_prev),
        "year": Count("id", filter=in_year),
    }
    items = [
        {
            "id": row["item_id"],
            "name": row["item__name"],
            "category": row["item__category__name"],
            "current": row["current"],
            "previous": row["previous"],
            "year": row["year"],
        }
        for row in orders.values("item_id", "item__name", "item__category__name").annotate(**counts)
    ]
    items.sort(key=lambda r: (-r["current"], r["name"], r["id"]))
    communities = [
        {
            "id": row["community_id"],
            "name": row["community__name"],
            "street": row["community__parent__name"] or "",
            "current": row["current"],
            "previous": row["previous"],
            "year": row["year"],
        }
        for row in orders.filter(community__isnull=False)
        .values("community_id", "community__name", "community__parent__name")
        .annotate(**counts)
    ]
    # Keep the communities any ranking can show (the city has ~1,100).
    floor = min_volume()
    by_id = {row["id"]: row for row in communities}
    kept: dict[int, dict] = {}
    for vs in (VS_PREVIOUS, VS_YEAR):
        for by in (BY_COUNT, BY_PERCENT):
            for row in rank(communities, vs=vs, by=by, floor=floor):
                kept[row["id"]] = by_id[row["id"]]
    totals = {name: sum(row[name] for row in items) for name in ("current", "previous", "year")}
    return {
        "items": items,
        "communities": sorted(kept.values(), key=lambda r: r["id"]),
        "community_count": len(communities),
        "totals": totals,
    }


def compute(ids, period: Period) -> dict:
    """Everything the page shows for the stations ``ids`` (ALL: the city),
    JSON-safe so that it can be kept in a snapshot. Three queries."""
    return {
        "period": period.as_dict(),
        "previous": period.previous().as_dict(),
        "year": period.year_earlier().as_dict(),
        "min_volume": min_volume(),
        **_demand(ids, period),
        "unmatched": _unmatched(ids, period),
    }


def snapshot_key(period: Period) -> str:
    return SNAPSHOT_PREFIX + period.key


def snapshot_refresh(period: Period) -> DashboardSnapshot:
    """Compute the city's weathervane for ``period`` and keep it (insert or
    replace the row of its key). A derived copy of the orders, not a state
    change: no audit entry; running it twice gives the same figures."""
    started = time.perf_counter()
    data = compute(ALL, period)
    duration = round((time.perf_counter() - started) * 1000)
    snapshot, _created = DashboardSnapshot.objects.update_or_create(
        key=snapshot_key(period),
        defaults={"data": data, "computed_at": timezone.now(), "duration_ms": duration},
    )
    return snapshot


def snapshots_refresh(today: datetime.date | None = None) -> list[str]:
    """The hourly job: refresh the standard periods' snapshots and drop the
    day-window ones of past days (a chosen month's snapshot stays: its
    figures barely move once the month is over)."""
    periods = standard_periods(today)
    keys = [snapshot_refresh(period).key for period in periods]
    windows = Q()
    for kind in WINDOW_DAYS:
        windows |= Q(key__startswith=f"{SNAPSHOT_PREFIX}{kind}:")
    DashboardSnapshot.objects.filter(windows).exclude(key__in=keys).delete()
    return keys


def weathervane(*, user, period: Period) -> dict:
    """The weathervane for ``user``'s stations: the city's snapshot for
    center managers and operators (computed once and kept if missing),
    computed live for a station manager; empty for anyone else.
    Adds ``as_of`` (when the figures were computed) and ``live``."""
    ids = station_ids_for(user)
    if ids is ALL:
        snapshot = DashboardSnapshot.objects.filter(key=snapshot_key(period)).first()
        if snapshot is None:
            snapshot = snapshot_refresh(period)
        return {**snapshot.data, "as_of": snapshot.computed_at, "live": False, "city": True}
    if not ids:
        data = {
            "period": period.as_dict(),
            "previous": period.previous().as_dict(),
            "year": period.year_earlier().as_dict(),
            "min_volume": min_volume(),
            "items": [],
            "communities": [],
            "community_count": 0,
            "totals": {"current": 0, "previous": 0, "year": 0},
            "unmatched": {
                "groups": [],
                "group_count": 0,
                "categories": [],
                "total": 0,
                "truncated": False,
            },
        }
    else:
        data = compute(ids, period)
    return {**data, "as_of": timezone.now(), "live": True, "city": False}
