"""Reads of the staff's service-day pages, scoped to the user who asks: a
station manager sees the venues, stalls, shifts and sign-ups of their
stations (another station's is 404), center managers and operators the
whole city. The day itself is city-wide: every staff member sees every day,
with the counts of their own scope."""

import datetime

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from center.masking import mask_mobile
from center.models import Station
from center.roles import ALL, scope_by_station, station_ids_for
from volunteers.models import HoursEntry

from .models import ServiceDay, Shift, SignUp, Stall, Venue

ACTIVE = (SignUp.Status.CONFIRMED, SignUp.Status.WAITING)
RECENT_DAYS = 92  # the list shows the days of the last three months, and all coming ones
MAX_VENUES = 300  # one day's venues on one page, at most


def _scoped(qs: QuerySet, user, path: str) -> QuerySet:
    return scope_by_station(qs, user, path)


def _per_day(qs: QuerySet, value) -> Coalesce:
    """One number per day from ``qs`` (rows of the day's venues in the
    user's scope): a correlated subquery, so the list costs one query
    however many days and rows."""
    return Coalesce(
        Subquery(
            qs.filter(day_ref=OuterRef("pk"))
            .order_by()
            .values("day_ref")
            .annotate(n=value)
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def day_list(*, user, today: datetime.date | None = None) -> QuerySet[ServiceDay]:
    """Coming service days (soonest first), then those of the last three
    months (latest first), each with the counts of the user's scope:
    ``venue_count``, ``stall_count``, ``places``, ``taken``, ``waiting``."""
    today = today or timezone.localdate()
    venues = _scoped(Venue.objects.all(), user, "station").annotate(day_ref=F("day_id"))
    stalls = _scoped(Stall.objects.all(), user, "venue__station").annotate(
        day_ref=F("venue__day_id")
    )
    shifts = _scoped(Shift.objects.all(), user, "stall__venue__station").annotate(
        day_ref=F("stall__venue__day_id")
    )
    waiting = _scoped(
        SignUp.objects.filter(status=SignUp.Status.WAITING), user, "shift__stall__venue__station"
    ).annotate(day_ref=F("shift__stall__venue__day_id"))
    return (
        ServiceDay.objects.filter(date__gte=today - datetime.timedelta(days=RECENT_DAYS))
        .annotate(
            venue_count=_per_day(venues, Count("pk")),
            stall_count=_per_day(stalls, Count("pk")),
            places=_per_day(shifts, Sum("capacity")),
            taken=_per_day(shifts, Sum("taken")),
            waiting=_per_day(waiting, Count("pk")),
            is_past=Case(When(date__lt=today, then=Value(1)), default=Value(0)),
        )
        .order_by(
            "is_past",
            Case(When(is_past=0, then=F("date"))),
            F("date").desc(),
        )
    )


def get_day(*, pk) -> ServiceDay:
    """A service day (city-wide: any staff member opens any day; what the
    page lists in it is scoped)."""
    try:
        return ServiceDay.objects.get(pk=pk)
    except (ServiceDay.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def _waiting_count() -> Count:
    return Count("signups", filter=Q(signups__status=SignUp.Status.WAITING))


def day_station_summary(*, user, day: ServiceDay) -> list[dict]:
    """Per station in the user's scope with venues on ``day``: its venues,
    stalls, places and places taken — the city-wide view of a day (a center
    manager or an operator picks a station from it rather than paging
    through a thousand venues). One aggregate query."""
    venues = _scoped(Venue.objects.filter(day=day), user, "station")
    places = (
        Shift.objects.filter(stall__venue=OuterRef("pk"))
        .order_by()
        .values("stall__venue")
        .annotate(c=Sum("capacity"), t=Sum("taken"))
    )
    rows = (
        venues.annotate(
            n_stalls=Count("stalls", distinct=True),
            places=Coalesce(Subquery(places.values("c")[:1]), 0),
            taken=Coalesce(Subquery(places.values("t")[:1]), 0),
        )
        .values("station_id", "station__name", "station__code", "n_stalls", "places", "taken")
        .order_by("station__code")
    )
    by_station: dict[int, dict] = {}
    for row in rows:
        entry = by_station.setdefault(
            row["station_id"],
            {
                "pk": row["station_id"],
                "name": row["station__name"],
                "venues": 0,
                "stalls": 0,
                "places": 0,
                "taken": 0,
            },
        )
        entry["venues"] += 1
        entry["stalls"] += row["n_stalls"]
        entry["places"] += row["places"]
        entry["taken"] += row["taken"]
    return list(by_station.values())


def day_venues(*, user, day: ServiceDay, station_id: int | None = None) -> list[Venue]:
    """The venues of ``day`` in the user's scope (of one station if
    ``station_id``), by station then name, each
    with its ``stalls`` (the item and who runs it) and each stall its
    ``shifts`` in time order with ``waiting`` (how many wait). Three queries
    however many rows; at most ``MAX_VENUES`` venues."""
    shifts = Shift.objects.annotate(waiting=_waiting_count()).order_by("starts_at", "id")
    stalls = (
        Stall.objects.select_related("item", "team", "organization", "merchant")
        .prefetch_related(Prefetch("shifts", queryset=shifts))
        .order_by("id")
    )
    venues = _scoped(Venue.objects.filter(day=day), user, "station")
    if station_id is not None:
        venues = venues.filter(station_id=station_id)
    return list(
        venues.select_related("station")
        .prefetch_related(Prefetch("stalls", queryset=stalls))
        .order_by("station__name", "station_id", "name", "id")[:MAX_VENUES]
    )


def get_venue_for_user(*, user, pk) -> Venue:
    try:
        return (
            _scoped(Venue.objects.all(), user, "station")
            .select_related("day", "station")
            .get(pk=pk)
        )
    except (Venue.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def get_stall_for_user(*, user, pk) -> Stall:
    try:
        return (
            _scoped(Stall.objects.all(), user, "venue__station")
            .select_related("venue__day", "venue__station", "item")
            .get(pk=pk)
        )
    except (Stall.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def get_shift_for_user(*, user, pk) -> Shift:
    try:
        return (
            _scoped(Shift.objects.all(), user, "stall__venue__station")
            .select_related("stall__venue__day", "stall__venue__station")
            .get(pk=pk)
        )
    except (Shift.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def get_signup_for_user(*, user, pk) -> SignUp:
    try:
        return (
            _scoped(SignUp.objects.all(), user, "shift__stall__venue__station")
            .select_related("volunteer", "shift__stall__venue__day")
            .get(pk=pk)
        )
    except (SignUp.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def credited_hours(signups) -> dict[int, object]:
    """Sign-up pk → the hours its check-out credited (``hours_ref`` in the
    ledger: one per volunteer and shift): one query for all of them (index
    ``hoursentry_one_credit_per_source``)."""
    signups = [s for s in signups if s.checked_out_at is not None]
    if not signups:
        return {}
    by_ref = {s.hours_ref: s.pk for s in signups}
    rows = HoursEntry.objects.filter(
        volunteer_id__in={s.volunteer_id for s in signups},
        source=HoursEntry.Source.SERVICE_DAY,
        source_ref__in=list(by_ref),
    ).values_list("source_ref", "hours")
    return {by_ref[ref]: hours for ref, hours in rows}


def venue_roster(*, venue: Venue) -> list[Stall]:
    """The venue's stalls, each with its ``shifts`` in time order, each shift
    with ``confirmed`` (by sign-up time) and ``waiting`` (in turn) sign-ups,
    each with its volunteer and ``hours`` credited (None: not yet). Four
    queries however many rows (stalls, shifts, sign-ups, hours)."""
    signups = (
        SignUp.objects.filter(status__in=ACTIVE)
        .select_related("volunteer")
        .order_by("created_at", "id")
    )
    stalls = list(
        Stall.objects.filter(venue=venue)
        .select_related("item", "team", "organization", "merchant")
        .prefetch_related(
            Prefetch(
                "shifts",
                queryset=Shift.objects.order_by("starts_at", "id").prefetch_related(
                    Prefetch("signups", queryset=signups, to_attr="active_signups")
                ),
            )
        )
        .order_by("id")
    )
    every = [s for stall in stalls for shift in stall.shifts.all() for s in shift.active_signups]
    hours = credited_hours(every)
    now = timezone.now()
    for stall in stalls:
        for shift in stall.shifts.all():
            shift.confirmed = [s for s in shift.active_signups if s.status == "confirmed"]
            shift.waiting_list = [s for s in shift.active_signups if s.status == "waiting"]
            for s in shift.active_signups:
                _for_roster(s, shift, hours.get(s.pk), now)
    return stalls


def _for_roster(signup: SignUp, shift: Shift, hours, now) -> None:
    signup.hours = hours
    signup.masked_mobile = mask_mobile(signup.volunteer.mobile)
    # Staff cancel on the volunteer's behalf only before the shift starts.
    signup.cancel_open = shift.starts_at > now


def roster_row(*, signup: SignUp) -> SignUp:
    """One sign-up as the roster row shows it (after a check-in or out)."""
    signup = SignUp.objects.select_related("volunteer", "shift").get(pk=signup.pk)
    _for_roster(signup, signup.shift, credited_hours([signup]).get(signup.pk), timezone.now())
    return signup


def stations_for_venues(*, user) -> QuerySet:
    """The stations a user may set a venue up for."""
    qs = Station.objects.filter(is_active=True).order_by("code")
    ids = station_ids_for(user)
    return qs if ids is ALL else qs.filter(pk__in=ids)
