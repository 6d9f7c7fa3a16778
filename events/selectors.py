"""Reads of the service-day pages, scoped to the user who asks (STYLE.md:
selectors scope by user). The volunteer's side: the stalls near them and their
own sign-ups."""

from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from center.geo import PlanarKm
from center.roles import is_staff_role, scope_by_station, station_ids_for
from volunteers.models import Volunteer

from .models import Activity, EventPhoto, Shift, SignUp, Stall

ACTIVE = (SignUp.Status.CONFIRMED, SignUp.Status.WAITING)


def _km_from(lat, lng) -> PlanarKm:
    """Kilometres from the point to the stall's venue (the venue's own
    location, else its station's)."""
    km = PlanarKm(float(lat), float(lng))
    km.set_source_expressions(
        [
            Coalesce(F("venue__latitude"), F("venue__station__latitude")),
            Coalesce(F("venue__longitude"), F("venue__station__longitude")),
        ]
    )
    return km


def upcoming_stalls(*, volunteer: Volunteer, limit: int = 50) -> list[Stall]:
    """Stalls of the service days from today on, the next day first and, on a
    day, the nearest to the volunteer's home station first (stalls without a
    known location last). Each stall carries ``km`` (None: unknown) and its
    ``shifts`` in time order, each shift with ``places_left`` and ``mine``
    (the volunteer's active sign-up on it, or None). Three queries however
    many rows."""
    today = timezone.localdate()
    station = volunteer.station
    qs = (
        Stall.objects.filter(venue__day__date__gte=today)
        .select_related("venue__day", "venue__station")
        .prefetch_related(
            Prefetch(
                "shifts",
                queryset=Shift.objects.order_by("starts_at", "id").prefetch_related(
                    Prefetch(
                        "signups",
                        queryset=SignUp.objects.filter(volunteer=volunteer, status__in=ACTIVE),
                        to_attr="my_signups",
                    )
                ),
            )
        )
    )
    if station is not None and station.latitude is not None and station.longitude is not None:
        qs = qs.annotate(km=_km_from(station.latitude, station.longitude)).order_by(
            "venue__day__date", F("km").asc(nulls_last=True), "id"
        )
    else:
        qs = qs.annotate(km=Value(None, output_field=IntegerField())).order_by(
            "venue__day__date", "venue__name", "id"
        )
    stalls = list(qs[:limit])
    for stall in stalls:
        for shift in stall.shifts.all():
            shift.places_left = max(shift.capacity - shift.taken, 0)
            shift.mine = shift.my_signups[0] if shift.my_signups else None
    return stalls


def my_shifts(*, volunteer: Volunteer, limit: int = 100) -> QuerySet[SignUp]:
    """The volunteer's active sign-ups (confirmed or waiting): shifts still to
    come first, soonest first, then past ones, latest first. One query."""
    now = timezone.now()
    return (
        SignUp.objects.filter(volunteer=volunteer, status__in=ACTIVE)
        .select_related("shift__stall__venue__day", "shift__stall__venue__station")
        .annotate(
            is_past=Case(
                When(Q(shift__ends_at__lt=now), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by(
            "is_past", Case(When(is_past=0, then=F("shift__starts_at"))), "-shift__starts_at", "id"
        )[:limit]
    )


def get_shift_open_for_signup(*, pk: int) -> Shift:
    """A shift of a service day from today on (any station's: the day is
    city-wide and any volunteer may help at any stall); 404 otherwise."""
    return get_object_or_404(
        Shift.objects.select_related("stall__venue__day"),
        pk=pk,
        stall__venue__day__date__gte=timezone.localdate(),
    )


def get_my_signup(*, volunteer: Volunteer, pk: int) -> SignUp:
    """The volunteer's own sign-up; 404 for anyone else's."""
    return get_object_or_404(SignUp, pk=pk, volunteer=volunteer)


def get_viewable_photo(*, user, pk: int) -> EventPhoto:
    """A stall's or activity's photo: anyone's if staff marked it publishable
    (the public record); otherwise staff who see its station (another
    station's: 404, as for anyone else)."""
    photo = get_object_or_404(EventPhoto.objects.select_related("stall__venue", "activity"), pk=pk)
    if photo.publishable:
        return photo
    if not is_staff_role(user):
        raise Http404
    ids = station_ids_for(user)
    station_id = photo.stall.venue.station_id if photo.stall_id else photo.activity.station_id
    if ids is not None and station_id not in ids:
        raise Http404
    return photo


def get_managed_stall(*, user, pk: int) -> Stall:
    """A stall the user manages (its venue's station in their scope); 404
    for another station's. Non-managers are refused by the view first."""
    return get_object_or_404(
        scope_by_station(Stall.objects.select_related("venue__station"), user, "venue__station"),
        pk=pk,
    )


def get_managed_activity(*, user, pk: int) -> Activity:
    return get_object_or_404(
        scope_by_station(Activity.objects.select_related("station"), user), pk=pk
    )


def get_managed_photo(*, user, pk: int) -> EventPhoto:
    qs = EventPhoto.objects.select_related("stall__venue__station", "activity__station")
    ids = station_ids_for(user)
    if ids is not None:
        qs = qs.filter(Q(stall__venue__station__in=ids) | Q(activity__station__in=ids))
    return get_object_or_404(qs, pk=pk)
