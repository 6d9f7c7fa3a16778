"""Reads of the public record (纪实): the periods (month, quarter, year), the
figures the center reports publicly for a period, its highlights, and the
candidates a manager may pick a highlight from.

How the figures are counted (the page says the same in its "how counted" note;
a period's boundaries are dates, the stored dates being Asia/Shanghai dates):

- Events held = service days in the period with at least one venue (a day
  counts once however many venues it had) + activities HELD dated in the
  period, up to today. Broken down into service days, venues (服务点), stalls and the held
  activities by kind.
- Participations = service-day sign-ups checked in (``checked_in_at`` set,
  status confirmed) on days in the period + activity participations ATTENDED
  of activities dated in the period.
- Hours = ``HoursEntry.hours`` credited by attendance (a sign-up's
  check-out, an attended participation: ``EVENT_CREDITS``) dated in
  the period, verified entries only (``verified_at`` set: only verified hours
  count anywhere else either; the service-day and activity credits are
  verified when recorded). Order, care-visit, post-duty and manual hours are
  not events and do not count.
- People served = ``Stall.people_served`` of the stalls on days in the period
  + ``Activity.people_served`` of the activities HELD in the period.

Every figure is one aggregate query filtered first on an indexed date
(``ServiceDay.date`` unique, ``activity_date``, ``HoursEntry.date``), never a
loop over rows: five queries for a period however big the city.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from center.roles import is_center_manager, scope_by_station, station_ids_for
from volunteers.models import HoursEntry

from .models import Activity, EventPhoto, Highlight, Participation, ServiceDay, SignUp, Stall, Venue

Kind = Highlight.Period

# The center has kept its record since 2003; a year outside this range is a typo.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_PERIOD = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2})|-Q(?P<quarter>[1-4]))?", re.ASCII)

# The figures of a closed period, kept this long (seconds). A late correction
# (people served typed in a week later, a check-in fixed, hours verified late)
# shows after at most this long.
CLOSED_PERIOD_CACHE_SECONDS = 24 * 60 * 60
OPEN_PERIOD_CACHE_SECONDS = 10 * 60
HOURS_SOURCES = (HoursEntry.Source.SERVICE_DAY, HoursEntry.Source.ACTIVITY)
# The hours attendance credits: a sign-up's check-out (``SignUp.hours_ref``)
# and an attended participation.
EVENT_CREDITS = Q(source=HoursEntry.Source.SERVICE_DAY, source_ref__startswith="shift:") | Q(
    source=HoursEntry.Source.ACTIVITY, source_ref__startswith="participation:"
)


@dataclass(frozen=True)
class Period:
    """A month, a quarter or a year of the record: ``start`` and ``end``
    (inclusive) are dates. ``kind`` is a ``Highlight.Period`` value."""

    kind: str
    start: datetime.date
    end: datetime.date

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def quarter(self) -> int:
        return (self.start.month - 1) // 3 + 1

    @property
    def key(self) -> str:
        """As in the URL: ``2026-11``, ``2026-Q4``, ``2026``."""
        if self.kind == Kind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == Kind.QUARTER:
            return f"{self.year}-Q{self.quarter}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == Kind.MONTH:
            return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.start.month}
        if self.kind == Kind.QUARTER:
            return _("Q%(quarter)d %(year)d") % {"year": self.year, "quarter": self.quarter}
        return _("Year %(year)d") % {"year": self.year}

    def __str__(self) -> str:
        return self.key

    def is_closed(self, today: datetime.date | None = None) -> bool:
        """Over: it ended before today."""
        return self.end < (today or timezone.localdate())

    def has_started(self, today: datetime.date | None = None) -> bool:
        return self.start <= (today or timezone.localdate())

    def previous(self) -> Period | None:
        before = self.start - datetime.timedelta(days=1)
        if before.year < FIRST_YEAR:
            return None
        return period_of(self.kind, before)

    def next(self) -> Period | None:
        after = self.end + datetime.timedelta(days=1)
        if after.year > LAST_YEAR:
            return None
        return period_of(self.kind, after)

    def months(self) -> list[Period]:
        """The months in it (a month: itself)."""
        return [month_period(self.year, m) for m in range(self.start.month, self.end.month + 1)]

    def quarters(self) -> list[Period]:
        """The quarters of a year; of a quarter or a month, the one holding it."""
        if self.kind == Kind.YEAR:
            return [quarter_period(self.year, q) for q in range(1, 5)]
        return [quarter_period(self.year, self.quarter)]

    def parents(self) -> list[Period]:
        """The quarter and the year holding a month; the year holding a quarter."""
        if self.kind == Kind.MONTH:
            return [quarter_period(self.year, self.quarter), year_period(self.year)]
        if self.kind == Kind.QUARTER:
            return [year_period(self.year)]
        return []


def month_period(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(Kind.MONTH, datetime.date(year, month, 1), datetime.date(year, month, last))


def quarter_period(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    last = calendar.monthrange(year, first + 2)[1]
    return Period(Kind.QUARTER, datetime.date(year, first, 1), datetime.date(year, first + 2, last))


def year_period(year: int) -> Period:
    return Period(Kind.YEAR, datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def period_of(kind: str, day: datetime.date) -> Period:
    """The period of ``kind`` that holds ``day``."""
    if kind == Kind.MONTH:
        return month_period(day.year, day.month)
    if kind == Kind.QUARTER:
        return quarter_period(day.year, (day.month - 1) // 3 + 1)
    if kind == Kind.YEAR:
        return year_period(day.year)
    raise ValueError(kind)


def parse_period(s: str) -> Period | None:
    """``2026-11`` / ``2026-Q4`` / ``2026`` as a Period, written exactly so
    (one URL per period); None if malformed or out of range."""
    match = _PERIOD.fullmatch(s or "")
    if not match:
        return None
    year = int(match["year"])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    if match["month"]:
        month = int(match["month"])
        return month_period(year, month) if 1 <= month <= 12 else None
    if match["quarter"]:
        return quarter_period(year, int(match["quarter"]))
    return year_period(year)


def period_from_string(s: str) -> Period:
    """The period a URL names; 404 (no error page detail) for anything else."""
    period = parse_period(s)
    if period is None:
        raise Http404
    return period


def current_period(kind: str = Kind.YEAR) -> Period:
    return period_of(kind, timezone.localdate())


# --- Totals ------------------------------------------------------------------------------


@dataclass
class Totals:
    """The public figures of a period (see the module docstring)."""

    service_days: int = 0
    venues: int = 0
    stalls: int = 0
    activities_held: int = 0
    # (Activity.Kind value, activities held, people served), by kind.
    activities_by_kind: list[tuple[str, int, int]] = field(default_factory=list)
    signups_checked_in: int = 0
    participations_attended: int = 0
    hours: Decimal = Decimal("0")
    stall_people_served: int = 0
    activity_people_served: int = 0

    @property
    def events_held(self) -> int:
        return self.service_days + self.activities_held

    @property
    def participations(self) -> int:
        return self.signups_checked_in + self.participations_attended

    @property
    def people_served(self) -> int:
        return self.stall_people_served + self.activity_people_served

    def kinds(self) -> list[dict]:
        """The held activities by kind, labelled in the reader's language."""
        return [
            {"kind": kind, "label": Activity.Kind(kind).label, "held": n, "people_served": served}
            for kind, n, served in self.activities_by_kind
        ]


def _cache_key(period: Period) -> str:
    return f"events:record:totals:v1:{period.key}"


def record_totals(period: Period) -> Totals:
    """The figures of ``period``, from the cache: kept a day once the period
    is over (see CLOSED_PERIOD_CACHE_SECONDS for late corrections), ten
    minutes while it is open (``OPEN_PERIOD_CACHE_SECONDS``: the public page
    of the current year took ~100 ms to compute at city size, and anyone may
    open it). Five aggregate queries when computed, none from the cache."""
    cached = cache.get(_cache_key(period))
    if cached is not None:
        return cached
    totals = _compute_totals(period)
    ttl = CLOSED_PERIOD_CACHE_SECONDS if period.is_closed() else OPEN_PERIOD_CACHE_SECONDS
    cache.set(_cache_key(period), totals, ttl)
    return totals


def _compute_totals(period: Period) -> Totals:
    # Held: up to today (a coming day or activity of an open period is not yet).
    span = (period.start, min(period.end, timezone.localdate()))
    totals = Totals()
    if span[1] < span[0]:
        totals.hours = Decimal("0")
        return totals
    # 1. Service days: venues of the days in the period (the unique date index
    # picks the days) and their stalls. A day without a venue has no row here,
    # so it is not counted; the stall join adds one row per stall (none for a
    # venue without stalls), so venues and days are counted distinct.
    days = Venue.objects.filter(day__date__range=span).aggregate(
        n_days=Count("day", distinct=True),
        n_venues=Count("id", distinct=True),
        n_stalls=Count("stalls"),
        served=Sum("stalls__people_served"),
    )
    totals.service_days = days["n_days"]
    totals.venues = days["n_venues"]
    totals.stalls = days["n_stalls"]
    totals.stall_people_served = days["served"] or 0
    # 2. Sign-ups checked in on those days.
    totals.signups_checked_in = SignUp.objects.filter(
        shift__stall__venue__day__date__range=span,
        status=SignUp.Status.CONFIRMED,
        checked_in_at__isnull=False,
    ).count()
    # 3. Activities held, by kind (index activity_date).
    by_kind = (
        Activity.objects.filter(date__range=span, status=Activity.Status.HELD)
        .values("kind")
        .annotate(n=Count("id"), served=Sum("people_served"))
        .order_by("kind")
    )
    totals.activities_by_kind = [(r["kind"], r["n"], r["served"] or 0) for r in by_kind]
    totals.activities_held = sum(n for _k, n, _s in totals.activities_by_kind)
    totals.activity_people_served = sum(s for _k, _n, s in totals.activities_by_kind)
    # 4. Participations attended, of the activities dated in the period.
    totals.participations_attended = Participation.objects.filter(
        activity__date__range=span, status=Participation.Status.ATTENDED
    ).count()
    # 5. Verified hours of service days and activities (HoursEntry.date index).
    # Only the credits of attendance (their references): an hours row merely
    # labelled "service day" (a manual entry, old imported data) is not an event's.
    totals.hours = HoursEntry.objects.filter(
        EVENT_CREDITS, date__range=span, verified_at__isnull=False
    ).aggregate(total=Sum("hours"))["total"] or Decimal("0")
    return totals


# --- Highlights --------------------------------------------------------------------------


def _with_subjects(qs):
    """Highlights with what the public page shows of their subject: the
    service day (and its people served), the stall with its venue, day and
    station, the activity with its station; publishable photos only."""
    day_served = (
        Stall.objects.filter(venue__day=OuterRef("service_day"))
        .values("venue__day")
        .annotate(total=Sum("people_served"))
        .values("total")
    )
    public = EventPhoto.objects.filter(publishable=True).order_by("created_at", "id")
    return (
        qs.select_related(
            "service_day",
            "stall__venue__day",
            "stall__venue__station",
            "activity__station",
        )
        .annotate(day_people_served=Subquery(day_served))
        .prefetch_related(
            Prefetch("stall__photos", queryset=public, to_attr="public_photos"),
            Prefetch("activity__photos", queryset=public, to_attr="public_photos"),
        )
    )


def record_highlights(period: Period) -> dict:
    """The highlights chosen for ``period`` (``own``) and those of the shorter
    periods within it (``within``: a quarter's months; a year's quarters and
    months), in the period's order; each carries ``record_period`` and
    ``photos`` (publishable only). One query, plus one per kind of subject
    with photos (at most two)."""
    within = []
    if period.kind == Kind.QUARTER:
        within = [Kind.MONTH]
    elif period.kind == Kind.YEAR:
        within = [Kind.MONTH, Kind.QUARTER]
    qs = Highlight.objects.filter(period_start__range=(period.start, period.end)).filter(
        Q(period=period.kind, period_start=period.start) | Q(period__in=within)
    )
    own, inner = [], []
    for h in _with_subjects(qs).order_by("period_start", "period", "position", "id"):
        h.record_period = period_of(h.period, h.period_start)
        subject = h.stall or h.activity
        h.photos = getattr(subject, "public_photos", []) if subject else []
        (own if h.period == period.kind else inner).append(h)
    return {"own": own, "within": inner}


def highlight_candidates(*, user, period: Period, limit: int = 10) -> dict:
    """What a manager may pick as a highlight of ``period``: the stalls of its
    service days and its held activities with the most people served, of the
    stations the manager sees (a station manager: theirs; a center manager:
    all), and for center managers the service days themselves (city-wide).
    Each list capped at ``limit``; three queries at most."""
    span = (period.start, period.end)
    stalls = scope_by_station(
        Stall.objects.filter(venue__day__date__range=span), user, "venue__station"
    ).select_related("venue__day", "venue__station")
    activities = scope_by_station(
        Activity.objects.filter(date__range=span, status=Activity.Status.HELD), user
    ).select_related("station")
    days = []
    if is_center_manager(user):
        days = list(
            ServiceDay.objects.filter(date__range=span, venues__isnull=False)
            .distinct()
            .order_by("date")[:limit]
        )
    return {
        "stalls": list(stalls.order_by("-people_served", "venue__day__date", "id")[:limit]),
        "activities": list(activities.order_by("-people_served", "-date", "id")[:limit]),
        "days": days,
    }


def get_highlight_for_manager(*, user, pk: int) -> Highlight:
    """A highlight the manager may remove or move: of a stall or activity of
    their stations (a station manager), any (a center manager); 404 otherwise.
    A whole service day's highlight is city-wide: center managers only."""
    qs = Highlight.objects.select_related(
        "stall__venue__station", "activity__station", "service_day"
    )
    if not is_center_manager(user):
        ids = station_ids_for(user) or frozenset()
        qs = qs.filter(Q(stall__venue__station__in=ids) | Q(activity__station__in=ids))
    try:
        return qs.get(pk=pk)
    except Highlight.DoesNotExist:
        raise Http404 from None


def get_subject_for_manager(*, user, kind: str, pk: int):
    """The stall, activity or service day a manager names as a highlight's
    subject, within what they may choose (see highlight_candidates); 404
    otherwise."""
    if kind == "stall":
        qs = scope_by_station(
            Stall.objects.select_related("venue__day", "venue__station"), user, "venue__station"
        )
    elif kind == "activity":
        qs = scope_by_station(Activity.objects.select_related("station"), user)
    elif kind == "day" and is_center_manager(user):
        qs = ServiceDay.objects.all()
    else:
        raise Http404
    try:
        return qs.get(pk=pk)
    except qs.model.DoesNotExist:
        raise Http404 from None
