"""The monthly report (issue 14): for a month or any date range, per station
× service category, the calls, the order figures of ``docs/metrics.md``,
complaints and sanctions; then volunteers added, hours served, star-level
changes, micro-wishes fulfilled, service-day stalls and people served, and
activities held. Every section is defined, with its SQL meaning, in
``docs/metrics.md`` ("Monthly report sections").

``monthly_report`` returns one ``Report``: a summary and a list of
``Section`` (columns with a kind: text, int, decimal, percent, minutes, date;
rows as dicts). The print page, the xlsx and the CSV all draw the same
structure (``reports.exports``), so the three cannot disagree.

Scoped like every read (``center.roles.station_ids_for``): center managers
the city, station managers their stations; rows with no station ("未归属")
only in a city-wide report. A fixed number of queries whatever the number of
rows (counted in ``tests/reports/test_report_selector.py``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.models import ServiceCategory, Station
from center.roles import ALL, station_ids_for
from events.models import Activity, Venue
from requests.models import CallLog, MicroWish, UnmatchedRequest
from volunteers.models import Complaint, HoursEntry, Sanction, Volunteer
from volunteers.stars import thresholds

from .models import ReportExport
from .selectors import local_bounds, order_rates_for

# Longest range a report covers (a page view or one export task): a year and
# a day, so that a leap year fits. Longer spans are several reports.
MAX_DAYS = 366

TEXT, INT, DECIMAL, PERCENT, MINUTES, DATE = "text", "int", "decimal", "percent", "minutes", "date"

# Rows of the first section: a category of a station, a station's total over
# its categories (where complaints and sanctions are given: they have no
# category), and the total over every station of the report.
CELL, STATION_TOTAL, GRAND_TOTAL = "cell", "station", "total"


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation
    kind: str = INT
    width: int = 10  # characters, for the xlsx


@dataclass
class Section:
    key: str
    title: Any
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)


@dataclass
class Report:
    start: datetime.date
    end: datetime.date
    # None: the city; else the station ids covered (the user's ∩ asked for).
    station_ids: frozenset[int] | None
    summary: list[tuple[Any, Any, str]]  # (label, value, kind)
    sections: list[Section]
    generated_at: datetime.datetime

    @property
    def is_city(self) -> bool:
        return self.station_ids is None

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def unassigned_label() -> str:
    return str(_("Unassigned"))  # 未归属: a call or complaint with no station or category


def _station_columns() -> list[Column]:
    return [
        Column("station_code", _("Station code"), TEXT, 14),
        Column("station", _("Station"), TEXT, 24),
    ]


def order_columns() -> list[Column]:
    return [
        *_station_columns(),
        Column("category", _("Service category"), TEXT, 14),
        Column("calls", _("Calls"), INT, 8),
        Column("enquiries", _("Enquiries"), INT, 8),
        Column("unmatched", _("Unmatched requests"), INT, 10),
        Column("received", _("Orders received"), INT, 10),
        Column("cancelled", _("Cancelled"), INT, 8),
        Column("completed", _("Completed"), INT, 8),
        Column("resolution_rate", _("Resolution rate"), PERCENT, 10),
        Column("dispatched", _("Dispatched"), INT, 8),
        Column("response_rate", _("Response rate"), PERCENT, 10),
        Column("median_take_minutes", _("Median minutes to take"), MINUTES, 12),
        Column("arrivals", _("Arrivals reported"), INT, 10),
        Column("arrivals_unreported", _("Arrivals not reported"), INT, 10),
        Column("arrival_share", _("Share arrived within 10 minutes"), PERCENT, 12),
        Column("median_arrival_minutes", _("Median minutes to arrive"), MINUTES, 12),
        Column("follow_ups", _("Follow-ups"), INT, 8),
        Column("satisfaction_rate", _("Satisfaction rate"), PERCENT, 10),
        Column("complaints", _("Complaints"), INT, 8),
        Column("complaints_valid", _("Valid complaints"), INT, 10),
        Column("warnings", _("Warnings"), INT, 8),
        Column("yellow_cards", _("Yellow cards"), INT, 8),
        Column("red_cards", _("Red cards"), INT, 8),
    ]


ORDER_FIGURES = (
    "received",
    "cancelled",
    "completed",
    "resolution_rate",
    "dispatched",
    "response_rate",
    "median_take_minutes",
    "arrivals",
    "arrivals_unreported",
    "arrival_share",
    "median_arrival_minutes",
    "follow_ups",
    "satisfaction_rate",
)
STATION_ONLY = ("complaints", "complaints_valid", "warnings", "yellow_cards", "red_cards")
SANCTION_KEYS = {
    Sanction.Level.WARNING: "warnings",
    Sanction.Level.YELLOW: "yellow_cards",
    Sanction.Level.RED: "red_cards",
}


def _narrow(user, station_ids) -> frozenset[int] | None:
    """The stations of the report: the user's (``center.roles``), narrowed to
    ``station_ids`` when given (never beyond). None = the city."""
    ids = station_ids_for(user)
    if station_ids is not None:
        wanted = frozenset(int(pk) for pk in station_ids)
        ids = wanted if ids is ALL else ids & wanted
    return ids


def _in_scope(qs, ids, path: str = "station_id"):
    return qs if ids is ALL else qs.filter(**{f"{path}__in": ids})


def monthly_report(
    *,
    user,
    start: datetime.date,
    end: datetime.date,
    station_ids=None,
) -> Report:
    """Every section of the report for ``start``..``end`` (both included,
    Asia/Shanghai days), for the stations ``user`` may see, narrowed to
    ``station_ids`` when given.

    Queries, whatever the number of rows (``docs/metrics.md``): the user's
    stations (station managers), the order figures (``order_rates_for``: on
    PostgreSQL the orders by cell, station and total in one scan and their
    latest follow-ups), calls, unmatched requests, complaints, sanctions,
    volunteers added, hours by station, volunteers with hours in total, star
    changes, wishes, service days, activities, the categories and the
    stations named: 15 on PostgreSQL, one more for a station manager (their
    stations)."""
    return report_for_scope(_narrow(user, station_ids), start=start, end=end)


def report_for_scope(ids: frozenset[int] | None, *, start: datetime.date, end: datetime.date):
    """``monthly_report`` for stations already scoped (None: the city): what
    the export task writes for the scope frozen on its ``ReportExport``."""
    now = timezone.now()
    if ids is not ALL and not ids:
        return _assemble(start, end, frozenset(), {}, {}, _empty_rates(), now, empty=True)

    since, until = local_bounds(start, end)
    rates = order_rates_for(ids, start=start, end=end, by_category=True)
    raw = {
        "calls": _calls(ids, since, until),
        "unmatched": _unmatched(ids, start, end),
        "complaints": _complaints(ids, since, until),
        "sanctions": _sanctions(ids, since, until),
        "volunteers": _volunteers_added(ids, since, until),
        "hours": _hours(ids, start, end),
        "stars": _star_changes(ids, start, end),
        "wishes": _wishes(ids, since, until),
        "days": _service_days(ids, start, end),
        "activities": _activities(ids, start, end),
    }
    names = _names(rates, raw)
    return _assemble(start, end, ids, raw, names, rates, now)


def expand_stations(ids) -> frozenset[int]:
    """The stations ``ids`` and those under them (the tree is center →
    branch → service point, two levels): asking for a branch reports on its
    service points too. One query."""
    ids = [int(pk) for pk in ids]
    return frozenset(
        Station.objects.filter(
            Q(pk__in=ids) | Q(parent__in=ids) | Q(parent__parent__in=ids)
        ).values_list("pk", flat=True)
    )


def _empty_rates() -> dict:
    from .selectors import _figures

    return {"stations": {}, "total": _figures({}, None), "cells": {}}


# --- The queries -------------------------------------------------------------------------


def _calls(ids, since, until) -> dict:
    """Calls (every kind) and enquiries by (station, category); CallLog's
    index ``call_at`` (``-at``) city-wide, ``call_station`` for stations."""
    qs = _in_scope(CallLog.objects.filter(at__gte=since, at__lt=until), ids)
    rows = (
        qs.order_by()
        .values("station_id", "category_id")
        .annotate(calls=Count("id"), enquiries=Count("id", filter=Q(kind=CallLog.Kind.ENQUIRY)))
    )
    return {(r["station_id"], r["category_id"]): r for r in rows}


def _unmatched(ids, start, end) -> dict:
    """Unmatched requests recorded for days in the range (both sources:
    hotline calls and community talks), by (station, category)."""
    qs = _in_scope(UnmatchedRequest.objects.filter(occurred_on__range=(start, end)), ids)
    rows = qs.order_by().values("station_id", "category_id").annotate(n=Count("id"))
    return {(r["station_id"], r["category_id"]): r["n"] for r in rows}


def _complaints(ids, since, until) -> dict:
    """Complaints recorded in the range by ``Complaint.station``, and those
    ruled valid (as ruled now)."""
    qs = _in_scope(Complaint.objects.filter(recorded_at__gte=since, recorded_at__lt=until), ids)
    rows = (
        qs.order_by()
        .values("station_id")
        .annotate(
            complaints=Count("id"),
            complaints_valid=Count("id", filter=Q(status=Complaint.Status.VALID)),
        )
    )
    return {r["station_id"]: r for r in rows}


def _sanctions(ids, since, until) -> dict:
    """Sanctions imposed in the range (``created_at``), not revoked since, by
    level, at their complaint's station."""
    qs = Sanction.objects.filter(created_at__gte=since, created_at__lt=until).exclude(
        status=Sanction.Status.REVOKED
    )
    qs = _in_scope(qs, ids, "complaint__station_id")
    rows = (
        qs.order_by()
        .values(station_id=F("complaint__station_id"))
        .annotate(
            **{key: Count("id", filter=Q(level=level)) for level, key in SANCTION_KEYS.items()}
        )
    )
    return {r["station_id"]: r for r in rows}


def _volunteers_added(ids, since, until) -> dict:
    qs = _in_scope(Volunteer.objects.filter(created_at__gte=since, created_at__lt=until), ids)
    return dict(
        qs.order_by().values("station_id").annotate(n=Count("id")).values_list("station_id", "n")
    )


def _hours(ids, start, end) -> dict:
    """Verified hours dated in the range by the recording station, and the
    number of distinct volunteers credited (per station and in total: a
    volunteer credited by two stations is one in the total)."""
    qs = _in_scope(
        HoursEntry.objects.filter(date__range=(start, end), verified_at__isnull=False), ids
    ).order_by()
    rows = qs.values("station_id").annotate(
        hours=Sum("hours"), entries=Count("id"), volunteers=Count("volunteer_id", distinct=True)
    )
    total = qs.aggregate(volunteers=Count("volunteer_id", distinct=True))["volunteers"]
    return {"stations": {r["station_id"]: r for r in rows}, "volunteers": total}


def _level_sql(column: str) -> tuple[str, list]:
    """The star level of ``column`` hours in SQL (``volunteers.stars.star_level``)."""
    ts = thresholds()
    if not ts:
        return "0", []
    params: list = []
    for level in range(len(ts), 0, -1):
        params += [ts[level - 1], level]
    whens = " ".join(f"WHEN {column} >= %s THEN %s" for _t in ts)
    return f"CASE {whens} ELSE 0 END", params


def _star_changes(ids, start, end) -> dict:
    """Volunteers whose star level moved with the hours of the range, by home
    station and (from, to) level. A volunteer's hours after the range's
    credits = ``verified_hours`` (the ledger's verified total) − verified
    hours dated after ``end``; before them = that − verified hours dated in
    the range. Only volunteers with verified hours dated in the range are
    read (index on ``HoursEntry.date``, entries from ``start`` on)."""
    h, v = HoursEntry._meta.db_table, Volunteer._meta.db_table
    before_sql, before_params = _level_sql("v.verified_hours - s.from_start")
    after_sql, after_params = _level_sql("v.verified_hours - s.after_end")
    scope, scope_params = "", []
    if ids is not ALL:
        scope = "WHERE v.station_id IN ({})".format(", ".join(["%s"] * len(ids)))
        scope_params = sorted(ids)
    sql = f"""
        SELECT station_id, before_level, after_level, COUNT(*) FROM (
            SELECT v.station_id, {before_sql} AS before_level, {after_sql} AS after_level
            FROM (
                SELECT volunteer_id,
                       SUM(hours) AS from_start,
                       SUM(CASE WHEN date > %s THEN hours ELSE 0 END) AS after_end
                FROM {h}
                WHERE verified_at IS NOT NULL AND date >= %s
                GROUP BY volunteer_id
                HAVING SUM(CASE WHEN date <= %s THEN hours ELSE 0 END) > 0
            ) s JOIN {v} v ON v.id = s.volunteer_id
            {scope}
        ) t
        WHERE before_level <> after_level
        GROUP BY station_id, before_level, after_level
    """
    params = [*before_params, *after_params, end, start, end, *scope_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(r[0], int(r[1]), int(r[2])): r[3] for r in cursor.fetchall()}


def _wishes(ids, since, until) -> dict:
    """Micro-wishes fulfilled in the range (``fulfilled_at``; a confirmed
    wish keeps it), by the wish's station, and what was spent on them."""
    qs = _in_scope(
        MicroWish.objects.filter(fulfilled_at__gte=since, fulfilled_at__lt=until), ids
    ).order_by()
    rows = qs.values("station_id").annotate(fulfilled=Count("id"), spent=Sum("spent_total"))
    return {r["station_id"]: r for r in rows}


def _service_days(ids, start, end) -> dict:
    """Per service day in the range and station: venues, stalls, people
    served (``Stall.people_served``, as the stations reported them)."""
    qs = _in_scope(Venue.objects.filter(day__date__range=(start, end)), ids).order_by()
    rows = qs.values("station_id", date=F("day__date")).annotate(
        n_venues=Count("id", distinct=True),
        n_stalls=Count("stalls"),
        served=Sum("stalls__people_served"),
    )
    return {
        (r["date"], r["station_id"]): {
            "venues": r["n_venues"],
            "stalls": r["n_stalls"],
            "people_served": r["served"],
        }
        for r in rows
    }


def _activities(ids, start, end) -> dict:
    """Activities held (status ``held``) dated in the range, by organising
    station and kind (index ``activity_date``)."""
    qs = _in_scope(
        Activity.objects.filter(date__range=(start, end), status=Activity.Status.HELD), ids
    ).order_by()
    rows = qs.values("station_id", "kind").annotate(
        held=Count("id"), people_served=Sum("people_served")
    )
    return {(r["station_id"], r["kind"]): r for r in rows}


def _names(rates: dict, raw: dict) -> dict:
    """Names of the categories (all: a handful) and of the stations that have
    a row (one query each)."""
    station_ids = set(rates["stations"]) | {s for s, _c in rates["cells"]}
    station_ids |= {s for s, _c in raw["calls"]} | {s for s, _c in raw["unmatched"]}
    for key in ("complaints", "sanctions", "volunteers", "wishes"):
        station_ids |= set(raw[key])
    station_ids |= set(raw["hours"]["stations"])
    station_ids |= {s for s, _a, _b in raw["stars"]} | {s for _d, s in raw["days"]}
    station_ids |= {s for s, _k in raw["activities"]}
    station_ids.discard(None)
    stations = {
        pk: (code, name)
        for pk, code, name in Station.objects.filter(pk__in=station_ids).values_list(
            "pk", "code", "name"
        )
    }
    categories = {
        pk: (i, name)
        for i, (pk, name) in enumerate(
            ServiceCategory.objects.order_by("sort_order", "code").values_list("pk", "name")
        )
    }
    return {"stations": stations, "categories": categories}


# --- The sections ------------------------------------------------------------------------


def _station_fields(names: dict, station_id) -> dict:
    if station_id is None:
        return {"station_code": "", "station": unassigned_label()}
    code, name = names["stations"].get(station_id, ("", str(station_id)))
    return {"station_code": code, "station": name}


def _station_key(names: dict):
    """Stations by code; the unassigned row last."""
    return lambda pk: (pk is None, names["stations"].get(pk, ("",))[0] if pk else "")


def _category_key(names: dict):
    return lambda pk: (pk is None, names["categories"].get(pk, (0,))[0] if pk else 0)


def _category_name(names: dict, pk) -> str:
    return unassigned_label() if pk is None else names["categories"].get(pk, (0, str(pk)))[1]


def _order_rows(rates: dict, raw: dict, names: dict) -> tuple[list[dict], dict]:
    calls, unmatched = raw["calls"], raw["unmatched"]
    complaints, sanctions = raw["complaints"], raw["sanctions"]
    cells = set(rates["cells"]) | set(calls) | set(unmatched)
    stations = {s for s, _c in cells} | set(complaints) | set(sanctions)
    by_station: dict = {}
    for s, c in cells:
        by_station.setdefault(s, set()).add(c)
    rows: list[dict] = []
    grand = {"calls": 0, "enquiries": 0, "unmatched": 0, **dict.fromkeys(STATION_ONLY, 0)}
    for s in sorted(stations, key=_station_key(names)):
        station = _station_fields(names, s)
        sub = {"calls": 0, "enquiries": 0, "unmatched": 0}
        for c in sorted(by_station.get(s, ()), key=_category_key(names)):
            call = calls.get((s, c), {})
            row = {
                "kind": CELL,
                **station,
                "category": _category_name(names, c),
                "calls": call.get("calls", 0),
                "enquiries": call.get("enquiries", 0),
                "unmatched": unmatched.get((s, c), 0),
                **_order_figures(rates["cells"].get((s, c))),
                # Complaints and sanctions have no category: on the station's total row.
                **dict.fromkeys(STATION_ONLY),
            }
            for key in sub:
                sub[key] += row[key]
            rows.append(row)
        extra = {key: (complaints.get(s) or {}).get(key, 0) for key in STATION_ONLY[:2]}
        extra |= {key: (sanctions.get(s) or {}).get(key, 0) for key in STATION_ONLY[2:]}
        rows.append(
            {
                "kind": STATION_TOTAL,
                **station,
                "category": str(_("All categories")),
                **sub,
                **_order_figures(rates["stations"].get(s)),
                **extra,
            }
        )
        for key in grand:
            grand[key] += {**sub, **extra}[key]
    total = {
        "kind": GRAND_TOTAL,
        "station_code": "",
        "station": str(_("Total")),
        "category": str(_("All categories")),
        **grand,
        **_order_figures(rates["total"]),
    }
    rows.append(total)
    return rows, total


def _order_figures(figures: dict | None) -> dict:
    if figures is None:
        from .selectors import _figures

        figures = _figures({}, None)
    return {key: figures[key] for key in ORDER_FIGURES}


def _total_row(columns: list[Column], rows: list[dict], **fixed) -> dict:
    """The sum of the numeric columns of ``rows`` (texts blank)."""
    total = {"kind": GRAND_TOTAL}
    for col in columns:
        if col.kind in (INT, DECIMAL):
            total[col.key] = sum((r[col.key] or 0) for r in rows)
        else:
            total[col.key] = ""
    total["station"] = str(_("Total"))
    total.update(fixed)
    return total


def _simple_section(key, title, columns, rows) -> Section:
    rows = [{"kind": CELL, **r} for r in rows]
    return Section(key, title, columns, [*rows, _total_row(columns, rows)])


def _assemble(start, end, ids, raw, names, rates, now, empty: bool = False) -> Report:
    if empty:
        raw = {
            "calls": {},
            "unmatched": {},
            "complaints": {},
            "sanctions": {},
            "volunteers": {},
            "hours": {"stations": {}, "volunteers": 0},
            "stars": {},
            "wishes": {},
            "days": {},
            "activities": {},
        }
        names = {"stations": {}, "categories": {}}
    skey = _station_key(names)
    order_rows, total = _order_rows(rates, raw, names)

    volunteers = _simple_section(
        "volunteers",
        _("Volunteers added"),
        [*_station_columns(), Column("added", _("Volunteers added"), INT, 12)],
        [
            {**_station_fields(names, s), "added": n}
            for s, n in sorted(raw["volunteers"].items(), key=lambda kv: skey(kv[0]))
        ],
    )

    hours_columns = [
        *_station_columns(),
        Column("volunteers", _("Volunteers credited"), INT, 12),
        Column("entries", _("Hours entries"), INT, 10),
        Column("hours", _("Hours served"), DECIMAL, 12),
    ]
    hours = _simple_section(
        "hours",
        _("Hours served"),
        hours_columns,
        [
            {
                **_station_fields(names, s),
                "volunteers": r["volunteers"],
                "entries": r["entries"],
                "hours": r["hours"] or Decimal("0"),
            }
            for s, r in sorted(raw["hours"]["stations"].items(), key=lambda kv: skey(kv[0]))
        ],
    )
    # A volunteer credited by two stations is one volunteer in the total.
    hours.rows[-1]["volunteers"] = raw["hours"]["volunteers"]

    stars = _simple_section(
        "stars",
        _("Star-level changes"),
        [
            *_station_columns(),
            Column("from_level", _("Stars before"), INT, 10),
            Column("to_level", _("Stars after"), INT, 10),
            Column("volunteers", _("Volunteers"), INT, 10),
        ],
        [
            {**_station_fields(names, s), "from_level": a, "to_level": b, "volunteers": n}
            for (s, a, b), n in sorted(
                raw["stars"].items(), key=lambda kv: (skey(kv[0][0]), kv[0][1], kv[0][2])
            )
        ],
    )
    stars.rows[-1]["from_level"] = stars.rows[-1]["to_level"] = None

    wishes = _simple_section(
        "wishes",
        _("Micro-wishes fulfilled"),
        [
            *_station_columns(),
            Column("fulfilled", _("Wishes fulfilled"), INT, 12),
            Column("spent", _("Spent (yuan)"), DECIMAL, 12),
        ],
        [
            {**_station_fields(names, s), "fulfilled": r["fulfilled"], "spent": r["spent"] or 0}
            for s, r in sorted(raw["wishes"].items(), key=lambda kv: skey(kv[0]))
        ],
    )

    days = _simple_section(
        "service_days",
        _("Service-day stalls"),
        [
            Column("date", _("Date"), DATE, 12),
            *_station_columns(),
            Column("venues", _("Venues"), INT, 8),
            Column("stalls", _("Stalls"), INT, 8),
            Column("people_served", _("People served"), INT, 10),
        ],
        [
            {
                "date": d,
                **_station_fields(names, s),
                "venues": r["venues"],
                "stalls": r["stalls"],
                "people_served": r["people_served"] or 0,
            }
            for (d, s), r in sorted(raw["days"].items(), key=lambda kv: (kv[0][0], skey(kv[0][1])))
        ],
    )
    days.rows[-1]["date"] = None

    kinds = dict(Activity.Kind.choices)
    activities = _simple_section(
        "activities",
        _("Activities held"),
        [
            *_station_columns(),
            Column("activity_kind", _("Kind of activity"), TEXT, 16),
            Column("held", _("Activities held"), INT, 10),
            Column("people_served", _("People served"), INT, 10),
        ],
        [
            {
                **_station_fields(names, s),
                "activity_kind": str(kinds.get(k, k)),
                "held": r["held"],
                "people_served": r["people_served"] or 0,
            }
            for (s, k), r in sorted(
                raw["activities"].items(), key=lambda kv: (skey(kv[0][0]), kv[0][1])
            )
        ],
    )

    sections = [
        Section("orders", _("Stations × categories"), order_columns(), order_rows),
        volunteers,
        hours,
        stars,
        wishes,
        days,
        activities,
    ]
    t = {s.key: s.rows[-1] for s in sections[1:]}
    summary = [
        (_("Calls"), total["calls"], INT),
        (_("Enquiries"), total["enquiries"], INT),
        (_("Unmatched requests"), total["unmatched"], INT),
        (_("Orders received"), total["received"], INT),
        (_("Cancelled"), total["cancelled"], INT),
        (_("Completed"), total["completed"], INT),
        (_("Resolution rate"), total["resolution_rate"], PERCENT),
        (_("Response rate"), total["response_rate"], PERCENT),
        (_("Median minutes to take"), total["median_take_minutes"], MINUTES),
        (_("Share arrived within 10 minutes"), total["arrival_share"], PERCENT),
        (_("Median minutes to arrive"), total["median_arrival_minutes"], MINUTES),
        (_("Arrivals not reported"), total["arrivals_unreported"], INT),
        (_("Satisfaction rate"), total["satisfaction_rate"], PERCENT),
        (_("Complaints"), total["complaints"], INT),
        (_("Valid complaints"), total["complaints_valid"], INT),
        (_("Warnings"), total["warnings"], INT),
        (_("Yellow cards"), total["yellow_cards"], INT),
        (_("Red cards"), total["red_cards"], INT),
        (_("Volunteers added"), t["volunteers"]["added"], INT),
        (_("Hours served"), t["hours"]["hours"], DECIMAL),
        (_("Volunteers credited"), t["hours"]["volunteers"], INT),
        (_("Volunteers whose star level changed"), t["stars"]["volunteers"], INT),
        (_("Wishes fulfilled"), t["wishes"]["fulfilled"], INT),
        (_("Service-day stalls"), t["service_days"]["stalls"], INT),
        (_("People served at stalls"), t["service_days"]["people_served"], INT),
        (_("Activities held"), t["activities"]["held"], INT),
        (_("People served at activities"), t["activities"]["people_served"], INT),
    ]
    return Report(
        start=start,
        end=end,
        station_ids=None if ids is ALL else frozenset(ids),
        summary=summary,
        sections=sections,
        generated_at=now,
    )


# --- Report files ----------------------------------------------------------------------------

# The files page lists this many of the newest files the user may fetch.
EXPORT_PAGE = 50


def _may_fetch(export: ReportExport, ids) -> bool:
    if ids is ALL:
        return True
    return export.station_ids is not None and set(export.station_ids) <= ids


def export_list(*, user) -> list[ReportExport]:
    """The newest report files ``user`` may fetch, with who asked for them:
    center managers every file; a station manager the files whose stations
    all lie within theirs (a city-wide file, or one that also covers another
    station, is not theirs); anyone else none. One query (plus the
    manager's stations): on PostgreSQL ``station_ids <@ [theirs]``; the
    table stays small (``reports.services.exports_purge``)."""
    from center.roles import is_manager

    if not is_manager(user):
        return []
    ids = station_ids_for(user)
    qs = ReportExport.objects.select_related("requested_by").order_by("-created_at", "-id")
    if ids is ALL:
        return list(qs[:EXPORT_PAGE])
    if not ids:
        return []
    qs = qs.filter(station_ids__isnull=False)
    if connection.vendor == "postgresql":
        return list(qs.filter(station_ids__contained_by=sorted(ids))[:EXPORT_PAGE])
    # SQLite has no JSON containment: check the newest few hundred here.
    return [e for e in qs[: EXPORT_PAGE * 10] if _may_fetch(e, ids)][:EXPORT_PAGE]


def get_export_for_user(*, user, pk: int) -> ReportExport:
    """One report file ``user`` may fetch (as ``export_list``), else 404."""
    from center.roles import is_manager

    export = ReportExport.objects.select_related("requested_by").filter(pk=pk).first()
    if export is None or not is_manager(user) or not _may_fetch(export, station_ids_for(user)):
        raise Http404
    return export


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of ``month``'s month."""
    first = month.replace(day=1)
    nxt = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, nxt - datetime.timedelta(days=1)


def previous_month(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or timezone.localdate()
    return month_bounds(today.replace(day=1) - datetime.timedelta(days=1))


__all__ = [
    "MAX_DAYS",
    "Column",
    "Report",
    "Section",
    "expand_stations",
    "export_list",
    "get_export_for_user",
    "monthly_report",
    "report_for_scope",
    "month_bounds",
    "previous_month",
]
