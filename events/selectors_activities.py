"""Reads of the activity pages, scoped to the user who asks: staff see the
activities of the stations in their scope (``center.roles.scope_by_station``;
operators and center managers the city), a volunteer their own
participations and the open activities of their home station. Each list is
a fixed number of queries, however many rows."""

import datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from center.roles import scope_by_station
from volunteers.models import Volunteer

from .models import Activity, Participation

# The order participants are listed in on an activity's page.
STATUS_ORDER = (
    Participation.Status.ATTENDED,
    Participation.Status.JOINED,
    Participation.Status.INVITED,
    Participation.Status.DECLINED,
    Participation.Status.ABSENT,
)
COMING = (Participation.Status.JOINED, Participation.Status.ATTENDED)


def _count_of(statuses) -> Coalesce:
    """A correlated count of an activity's participations in ``statuses``:
    computed for the rows of the page only (index participation_once)."""
    counted = (
        Participation.objects.filter(activity_id=OuterRef("pk"), status__in=statuses)
        .order_by()
        .values("activity_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def activity_list(
    *,
    user,
    kind: str = "",
    status: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    station=None,
) -> QuerySet[Activity]:
    """The activities ``user`` may see, latest first (index
    activity_station_date / activity_date), each with its station and
    ``coming`` (joined or attended) and ``invited`` counts."""
    qs = scope_by_station(Activity.objects.all(), user)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    if station is not None:
        qs = qs.filter(station=station)
    return (
        qs.select_related("station")
        .annotate(
            coming=_count_of(COMING),
            invited=_count_of((Participation.Status.INVITED,)),
        )
        .order_by("-date", "-id")
    )


def get_activity_for_user(*, user, pk: int) -> Activity:
    """An activity of a station in ``user``'s scope; 404 for another's."""
    return get_object_or_404(
        scope_by_station(
            Activity.objects.select_related("station", "area", "specialty", "created_by"), user
        ),
        pk=pk,
    )


def status_counts(*, activity: Activity) -> dict[str, int]:
    """Participants per status, every status present (0 when none): one query."""
    counts = dict(
        Participation.objects.filter(activity=activity)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {s: counts.get(s, 0) for s in Participation.Status.values}


def participants(*, activity: Activity, status: str = "") -> QuerySet[Participation]:
    """The activity's participants (of one status, or all), attended first,
    then joined, invited, declined, absent, by volunteer number; with the
    volunteer and their home station. Paginate it."""
    qs = Participation.objects.filter(activity=activity)
    if status:
        qs = qs.filter(status=status)
    rank = Case(
        *(When(status=s, then=Value(i)) for i, s in enumerate(STATUS_ORDER)),
        output_field=IntegerField(),
    )
    return qs.select_related("volunteer__station").order_by(rank, "volunteer__volunteer_no", "pk")


def get_participation_for_user(*, user, pk: int) -> Participation:
    """A participation of an activity in ``user``'s scope; 404 otherwise."""
    return get_object_or_404(
        scope_by_station(
            Participation.objects.select_related("activity__station", "volunteer"),
            user,
            "activity__station",
        ),
        pk=pk,
    )


# --- The volunteer's side ------------------------------------------------------------


def my_activities(*, volunteer: Volunteer, limit: int = 100) -> list[Participation]:
    """The volunteer's participations: activities still to come first (the
    soonest first), then past ones (latest first); each with its activity and
    station. One query."""
    today = timezone.localdate()
    rows = (
        Participation.objects.filter(volunteer=volunteer)
        .select_related("activity__station")
        .order_by("-activity__date", "-pk")[:limit]
    )
    rows = list(rows)
    coming = [p for p in rows if p.activity.date >= today]
    coming.reverse()
    past = [p for p in rows if p.activity.date < today]
    for p in rows:
        p.is_past = p.activity.date < today
    return coming + past


def open_activities(*, volunteer: Volunteer, limit: int = 20) -> QuerySet[Activity]:
    """Planned activities of the volunteer's home station, from today on,
    that the volunteer is not yet part of: they may join them directly
    (``services.activities.participation_join``). One query."""
    return (
        Activity.objects.filter(
            station_id=volunteer.station_id,
            status=Activity.Status.PLANNED,
            date__gte=timezone.localdate(),
        )
        .exclude(
            Exists(Participation.objects.filter(activity_id=OuterRef("pk"), volunteer=volunteer))
        )
        .select_related("station")
        .order_by("date", "id")[:limit]
    )


def get_my_participation(*, volunteer: Volunteer, pk: int) -> Participation:
    """The volunteer's own participation; 404 for anyone else's."""
    return get_object_or_404(
        Participation.objects.select_related("activity__station", "volunteer"),
        pk=pk,
        volunteer=volunteer,
    )


def get_open_activity(*, volunteer: Volunteer, pk: int) -> Activity:
    """An activity of the volunteer's home station (the only ones they may
    join directly); 404 otherwise. The service checks it is still open."""
    return get_object_or_404(
        Activity.objects.select_related("station"), pk=pk, station_id=volunteer.station_id
    )
