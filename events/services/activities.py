"""Other activities (micro-wish drives, holiday visits, emergency call-ups)
and their participants: create, update, cancel, mark held; add a volunteer,
call volunteers up by area and/or specialty, the volunteer's answer, and
attendance, which credits the hours once (``HoursEntry.Source.ACTIVITY``).

Each function: one transaction, the rows locked, the rule checked (a
ValidationError a user can read), the write, an audit entry, notifications
written in the same transaction (delivered after commit by ``notify``).

Who: the managers of the organising station (its subtree, as
``center.roles.station_ids_for`` says) and center managers write; operators
read only. ``actor=None`` is the system (the demo data) and may do anything.

Lock order, always: the activity, then its participations. Every service
that touches a participation locks the activity first, so a call-up, a
cancellation and the answers of the volunteers never wait on each other in
a circle, and nobody answers an activity that was cancelled meanwhile.
"""

import datetime
from decimal import ROUND_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import apply_changes, audit, jsonable
from center.models import Area, Station, User
from center.notifications import notify
from center.roles import ALL, is_manager, station_ids_for
from volunteers import services as volunteer_services
from volunteers.models import HoursEntry, Volunteer
from volunteers.selectors import eligible_q, provider_can_serve

from ..models import Activity, Participation
from .signups import SERVICE_TZ

# At most this many volunteers are invited by one call-up (the manager calls
# again for more): one request writes a bounded number of rows and messages.
CALL_UP_MAX = 300
MAX_HOURS = Decimal("24")
QUARTER = Decimal("0.25")

# The fields a manager edits (activity_update); once the activity is held,
# the ones the credited hours depend on are fixed.
ACTIVITY_FIELDS = (
    "title",
    "kind",
    "date",
    "starts_at",
    "ends_at",
    "station",
    "organizer",
    "place",
    "area",
    "specialty",
    "notes",
)
FIXED_WHEN_HELD = ("date", "starts_at", "ends_at", "station")


def call_up_max() -> int:
    return int(settings.LIANXIN.get("ACTIVITY_CALL_UP_MAX", CALL_UP_MAX))


# --- Who may ------------------------------------------------------------------------


def check_manages(actor: User | None, station: Station | int) -> None:
    """A station manager writes for the stations in their scope, a center
    manager for any; anyone else is refused (the views refuse them first)."""
    if actor is None:
        return
    if not is_manager(actor):
        raise PermissionDenied
    ids = station_ids_for(actor)
    station_id = getattr(station, "pk", station)
    if ids is not ALL and station_id not in ids:
        raise PermissionDenied


def _locked_activity(activity: Activity | int) -> Activity:
    # of=("self",): the activity only, not the station joined in.
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("station")
        .get(pk=getattr(activity, "pk", activity))
    )


def _locked_participation(participation: Participation) -> tuple[Activity, Participation]:
    activity = _locked_activity(participation.activity_id)
    participation = (
        Participation.objects.select_for_update(of=("self",))
        .select_related("volunteer")
        .get(pk=participation.pk)
    )
    return activity, participation


# --- Rules on the model's values (the templates ask the same) ------------------------


def can_cancel(activity: Activity) -> bool:
    return activity.status == Activity.Status.PLANNED


def can_mark_held(activity: Activity, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return activity.status == Activity.Status.PLANNED and activity.date <= today


def can_call_up(activity: Activity, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return activity.status == Activity.Status.PLANNED and activity.date >= today


def can_add(activity: Activity) -> bool:
    return activity.status != Activity.Status.CANCELLED


def can_record(activity: Activity, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return activity.status != Activity.Status.CANCELLED and activity.date <= today


def can_respond(activity: Activity, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return activity.status == Activity.Status.PLANNED and activity.date >= today


# Participations whose attendance is still to be recorded.
OPEN = (
    Participation.Status.INVITED,
    Participation.Status.JOINED,
    Participation.Status.DECLINED,
)
RECORDED = (Participation.Status.ATTENDED, Participation.Status.ABSENT)


def _check_times(data: dict) -> None:
    starts, ends, date = data.get("starts_at"), data.get("ends_at"), data.get("date")
    if starts and ends and ends <= starts:
        raise ValidationError({"ends_at": _("The end must be after the start.")})
    if date and starts and timezone.localtime(starts, SERVICE_TZ).date() != date:
        raise ValidationError({"starts_at": _("The start must be on the activity's date.")})


def _clean_title(data: dict) -> None:
    for name in ("title", "organizer"):
        if name in data:
            data[name] = (data[name] or "").strip()
            if not data[name]:
                raise ValidationError({name: _("This field is required.")})


# --- Activities ---------------------------------------------------------------------


@transaction.atomic
def activity_create(
    *,
    actor: User | None,
    station: Station,
    title: str,
    kind: str,
    date: datetime.date,
    organizer: str,
    place: str = "",
    area: Area | None = None,
    specialty=None,
    starts_at: datetime.datetime | None = None,
    ends_at: datetime.datetime | None = None,
    notes: str = "",
) -> Activity:
    """Plan an activity of ``station`` (a manager of it, or a center
    manager). Past dates are allowed: an activity held before it was entered
    is planned, then marked held. Inverse: ``activity_cancel`` (the row stays,
    cancelled, for the record)."""
    check_manages(actor, station)
    data = {"title": title, "organizer": organizer, "date": date}
    data.update(starts_at=starts_at, ends_at=ends_at)
    _clean_title(data)
    _check_times(data)
    if kind not in Activity.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of activity.")})
    activity = Activity.objects.create(
        title=data["title"],
        kind=kind,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
        station=station,
        organizer=data["organizer"],
        place=(place or "").strip(),
        area=area,
        specialty=specialty,
        notes=notes or "",
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit(
        actor=actor,
        action="events.activity.created",
        target=activity,
        data={"station": station.pk, "kind": kind, "date": date.isoformat()},
    )
    return activity


@transaction.atomic
def activity_update(*, actor: User | None, activity: Activity, data: dict) -> Activity:
    """Change what a manager may change (``ACTIVITY_FIELDS``; a new station
    must be in the manager's scope too). A cancelled activity is not edited;
    a held one keeps its date, times and station (the hours credited to its
    participants were recorded on them). Inverse: another update."""
    activity = _locked_activity(activity)
    check_manages(actor, activity.station_id)
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("A cancelled activity can no longer be changed."))
    data = {k: v for k, v in data.items() if k in ACTIVITY_FIELDS}
    if "station" in data and data["station"] is not None:
        check_manages(actor, data["station"])
    _clean_title(data)
    merged = {
        "date": data.get("date", activity.date),
        "starts_at": data.get("starts_at", activity.starts_at),
        "ends_at": data.get("ends_at", activity.ends_at),
    }
    _check_times(merged)
    if "kind" in data and data["kind"] not in Activity.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of activity.")})
    if activity.status == Activity.Status.HELD:
        moved = [
            name
            for name in FIXED_WHEN_HELD
            if name in data and getattr(activity, name) != data[name]
        ]
        if moved:
            raise ValidationError(
                _(
                    "The activity has been held: its date, times and station can no "
                    "longer be changed."
                )
            )
    changed = apply_changes(activity, data, ACTIVITY_FIELDS)
    if changed:
        activity.save(update_fields=list(changed))
        audit(
            actor=actor, action="events.activity.updated", target=activity, data=jsonable(changed)
        )
    return activity


@transaction.atomic
def activity_cancel(*, actor: User | None, activity: Activity, reason: str = "") -> Activity:
    """Cancel a planned activity and tell its invited and joined volunteers
    (those with a login: an inbox message, once each). Their participations
    are kept as they were, for the record. Inverse: none; plan a new
    activity (the cancelled one stays in the list)."""
    activity = _locked_activity(activity)
    check_manages(actor, activity.station_id)
    if not can_cancel(activity):
        raise ValidationError(_("Only a planned activity can be cancelled."))
    activity.status = Activity.Status.CANCELLED
    activity.save(update_fields=["status"])
    reason = (reason or "").strip()[:200]
    told = 0
    for p in (
        Participation.objects.filter(
            activity=activity,
            status__in=(Participation.Status.INVITED, Participation.Status.JOINED),
        )
        .select_related("volunteer__user")
        .order_by("pk")
    ):
        user = p.volunteer.user
        if user is None:
            continue
        notify(
            recipient=user,
            key=f"events.activity.cancelled.{activity.pk}.{p.volunteer_id}",
            kind="events.activity",
            message="events.activity.cancelled",
            params={"title": activity.title, "date": activity.date.isoformat(), "reason": reason},
        )
        told += 1
    audit(
        actor=actor,
        action="events.activity.cancelled",
        target=activity,
        data={"reason": reason, "told": told},
    )
    return activity


@transaction.atomic
def activity_mark_held(
    *, actor: User | None, activity: Activity, people_served: int, notes: str | None = None
) -> Activity:
    """Record that a planned activity took place (on or after its date), with
    the number of people served and notes (kept as they were when ``notes``
    is None). Attendance is recorded per participant
    (``participation_record``). Inverse: none; the figures are corrected by
    ``activity_update`` (notes) or marking again is refused."""
    activity = _locked_activity(activity)
    check_manages(actor, activity.station_id)
    if activity.status != Activity.Status.PLANNED:
        raise ValidationError(_("Only a planned activity can be marked as held."))
    if activity.date > timezone.localdate():
        raise ValidationError(
            _("The activity is on %(date)s: it can be marked as held from that day on.")
            % {"date": activity.date.isoformat()}
        )
    try:
        people_served = int(people_served)
    except (TypeError, ValueError):
        people_served = -1
    if people_served < 0:
        raise ValidationError(
            {"people_served": _("Enter the number of people served (0 or more).")}
        )
    activity.status = Activity.Status.HELD
    activity.people_served = people_served
    fields = ["status", "people_served"]
    if notes is not None:
        activity.notes = notes
        fields.append("notes")
    activity.save(update_fields=fields)
    audit(
        actor=actor,
        action="events.activity.held",
        target=activity,
        data={"people_served": people_served},
    )
    return activity


# --- Participants ---------------------------------------------------------------------


def _invite_message(activity: Activity, volunteer: Volunteer) -> None:
    user = volunteer.user
    if user is None:  # no login yet: staff call them (SMS once that channel exists)
        return
    notify(
        recipient=user,
        key=f"events.activity.invited.{activity.pk}.{volunteer.pk}",
        kind="events.activity",
        message="events.activity.invited",
        params={
            "title": activity.title,
            "date": activity.date.isoformat(),
            "organizer": activity.organizer,
            "place": activity.place or activity.station.name,
        },
    )


def not_in_reach_message(number: str) -> str:
    return _("No volunteer of the stations you manage has the number or mobile %(n)s.") % {
        "n": number
    }


@transaction.atomic
def participation_add(
    *, actor: User | None, activity: Activity, volunteer: Volunteer
) -> Participation:
    """Staff add a named volunteer who can serve on the activity's date: as
    joined (they agreed already, by phone or in person), told by an inbox
    message. A station manager names the volunteers of their own stations
    only (a call-up reaches others by area or specialty); a center manager
    anyone. Planned or held activities (someone who came uninvited is added,
    then their attendance recorded). Inverse: the volunteer declines
    (``participation_respond``) or is recorded absent."""
    activity = _locked_activity(activity)
    check_manages(actor, activity.station_id)
    volunteer = Volunteer.objects.select_related("user").get(pk=volunteer.pk)
    if actor is not None:
        ids = station_ids_for(actor)
        if ids is not ALL and volunteer.station_id not in ids:
            raise ValidationError(not_in_reach_message(volunteer.volunteer_no))
    if not can_add(activity):
        raise ValidationError(_("This activity is cancelled: nobody can be added."))
    if not provider_can_serve(volunteer, on=activity.date):
        raise ValidationError(
            _("%(name)s cannot serve at the moment and cannot take part.")
            % {"name": volunteer.name}
        )
    if Participation.objects.filter(activity=activity, volunteer=volunteer).exists():
        raise ValidationError(
            _("%(name)s is already among the participants.") % {"name": volunteer.name}
        )
    participation = Participation.objects.create(
        activity=activity,
        volunteer=volunteer,
        status=Participation.Status.JOINED,
        responded_at=timezone.now(),
    )
    if activity.status == Activity.Status.PLANNED:
        _invite_message(activity, volunteer)
    audit(
        actor=actor,
        action="events.participation.added",
        target=participation,
        data={"activity": activity.pk, "volunteer": volunteer.pk},
    )
    return participation


def call_up_candidates(activity: Activity, *, actor: User | None = None):
    """The volunteers a call-up of ``activity`` by ``actor`` would invite, in
    the order they are invited: able to serve on its date; living in its
    area (a district, street or community: the community of the volunteer
    within that subtree) and/or having its specialty; with neither set, the
    volunteers of the organising station; never one already a participant.
    A station manager calls up the volunteers of their own stations only
    (the invitees are listed on the activity by name: another station's
    volunteers are theirs to mobilise); a center manager, the city.
    Those of the organising station first, then by volunteer number."""
    qs = Volunteer.objects.filter(eligible_q(on=activity.date))
    ids = station_ids_for(actor) if actor is not None else None
    if ids is not None:
        qs = qs.filter(station_id__in=ids)
    if activity.area_id is None and activity.specialty_id is None:
        qs = qs.filter(station_id=activity.station_id)
    if activity.area_id is not None:
        area = activity.area_id
        subtree = Area.objects.filter(
            Q(pk=area) | Q(parent_id=area) | Q(parent__parent_id=area)
        ).values("pk")
        qs = qs.filter(community_id__in=subtree)
    if activity.specialty_id is not None:
        through = Volunteer.specialties.through
        qs = qs.filter(
            Exists(
                through.objects.filter(
                    volunteer_id=OuterRef("pk"), specialty_id=activity.specialty_id
                )
            )
        )
    return qs.exclude(
        Exists(Participation.objects.filter(activity_id=activity.pk, volunteer_id=OuterRef("pk")))
    ).order_by(
        Case(
            When(station_id=activity.station_id, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "volunteer_no",
    )


@transaction.atomic
def activity_call_up(
    *, actor: User | None, activity: Activity, limit: int | None = None
) -> tuple[int, bool]:
    """Invite the volunteers ``call_up_candidates`` finds, at most
    ``call_up_max()`` at a time, each told by an inbox message (once per
    activity and volunteer). Returns (how many were invited, whether more
    matched: call again for the next ones). Under the activity's row lock, so
    two call-ups at once never invite anyone twice. Planned activities from
    today on. Inverse: none; an invited volunteer declines, or staff record
    them absent."""
    activity = _locked_activity(activity)
    check_manages(actor, activity.station_id)
    if not can_call_up(activity):
        raise ValidationError(
            _("Volunteers can only be called up for a planned activity that is still to come.")
        )
    cap = max(1, min(limit or call_up_max(), call_up_max()))
    found = list(call_up_candidates(activity, actor=actor).select_related("user")[: cap + 1])
    more = len(found) > cap
    found = found[:cap]
    Participation.objects.bulk_create(
        [
            Participation(activity=activity, volunteer=v, status=Participation.Status.INVITED)
            for v in found
        ]
    )
    for volunteer in found:
        _invite_message(activity, volunteer)
    audit(
        actor=actor,
        action="events.activity.called_up",
        target=activity,
        data={
            "invited": len(found),
            "more": more,
            "area": activity.area_id,
            "specialty": activity.specialty_id,
        },
    )
    return len(found), more


def _check_volunteer_or_manager(actor: User | None, participation: Participation, station_id):
    if actor is None:
        return
    if participation.volunteer.user_id is not None and participation.volunteer.user_id == actor.pk:
        return
    check_manages(actor, station_id)


@transaction.atomic
def participation_respond(
    *, actor: User | None, participation: Participation, join: bool
) -> Participation:
    """The volunteer's answer (or staff passing it on): join or decline a
    planned activity that is still to come. Invited → joined or declined; a
    change of mind (joined ↔ declined) is allowed until the day. Inverse:
    answering the other way."""
    activity, participation = _locked_participation(participation)
    _check_volunteer_or_manager(actor, participation, activity.station_id)
    if not can_respond(activity):
        raise ValidationError(_("This activity is no longer open for answers."))
    if participation.status in RECORDED:
        raise ValidationError(_("The attendance is already recorded."))
    status = Participation.Status.JOINED if join else Participation.Status.DECLINED
    if participation.status == status:
        raise ValidationError(
            _("You have already joined this activity.")
            if join
            else _("You have already declined this activity.")
        )
    was = participation.status
    participation.status = status
    participation.responded_at = timezone.now()
    participation.save(update_fields=["status", "responded_at"])
    audit(
        actor=actor,
        action="events.participation.responded",
        target=participation,
        data={"was": was, "now": status},
    )
    return participation


@transaction.atomic
def participation_join(
    *, actor: User | None, activity: Activity, volunteer: Volunteer
) -> Participation:
    """A volunteer joins, uninvited, a planned activity of their own home
    station that is still to come (the station's activities are open to its
    volunteers; a call-up reaches the others). An existing invitation or a
    declined answer becomes joined. Inverse: ``participation_respond``
    with join=False."""
    activity = _locked_activity(activity)
    volunteer = Volunteer.objects.get(pk=volunteer.pk)
    if actor is not None and volunteer.user_id != actor.pk:
        check_manages(actor, activity.station_id)
    if activity.station_id != volunteer.station_id:
        raise ValidationError(_("Only the volunteers of the organising station can join directly."))
    if not can_respond(activity):
        raise ValidationError(_("This activity is no longer open for answers."))
    if not provider_can_serve(volunteer, on=activity.date):
        raise ValidationError(_("You cannot serve at the moment and cannot take part."))
    participation = (
        Participation.objects.select_for_update(of=("self",))
        .filter(activity=activity, volunteer=volunteer)
        .first()
    )
    if participation is not None:
        if participation.status == Participation.Status.JOINED:
            raise ValidationError(_("You have already joined this activity."))
        if participation.status in RECORDED:
            raise ValidationError(_("The attendance is already recorded."))
        was = participation.status
        participation.status = Participation.Status.JOINED
        participation.responded_at = timezone.now()
        participation.save(update_fields=["status", "responded_at"])
    else:
        was = ""
        participation = Participation.objects.create(
            activity=activity,
            volunteer=volunteer,
            status=Participation.Status.JOINED,
            responded_at=timezone.now(),
        )
    audit(
        actor=actor,
        action="events.participation.joined",
        target=participation,
        data={"was": was},
    )
    return participation


def clean_hours(value) -> Decimal:
    """Hours as entered: more than 0, at most 24, rounded up to the quarter
    hour (the rule of ``volunteers.services.hours_between``)."""
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        hours = Decimal(-1)
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise ValidationError({"hours": _("Enter the hours served: more than 0, at most 24.")})
    return (hours / QUARTER).to_integral_value(rounding=ROUND_UP) * QUARTER


def default_hours(activity: Activity) -> Decimal | None:
    """The hours of the activity's time span, when it has one."""
    if activity.starts_at and activity.ends_at:
        return volunteer_services.hours_between(activity.starts_at, activity.ends_at)
    return None


@transaction.atomic
def participation_record(
    *,
    actor: User | None,
    participation: Participation,
    attended: bool,
    hours: Decimal | str | None = None,
) -> Participation:
    """Record whether the participant came, on or after the activity's date
    (planned or held, not cancelled). Attended credits ``hours`` (default:
    the activity's time span) once, as activity hours at the organising
    station on the activity's date; ``hours_record`` is idempotent on
    ``participation:<pk>`` besides. Recording again is refused: hours are
    never credited twice. Inverse: none; wrong hours are corrected by a
    manual entry with a reason."""
    activity, participation = _locked_participation(participation)
    check_manages(actor, activity.station_id)
    name = participation.volunteer.name
    if participation.status in RECORDED:
        raise ValidationError(_("The attendance of %(name)s is already recorded.") % {"name": name})
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("This activity is cancelled: there is no attendance to record."))
    if activity.date > timezone.localdate():
        raise ValidationError(
            _("The activity is on %(date)s: attendance can be recorded from that day on.")
            % {"date": activity.date.isoformat()}
        )
    entry = None
    if attended:
        if hours in (None, ""):
            hours = default_hours(activity)
            if hours is None:
                raise ValidationError(
                    {"hours": _("Enter the hours %(name)s served.") % {"name": name}}
                )
        hours = clean_hours(hours)
        participation.status = Participation.Status.ATTENDED
        participation.hours = hours
        entry = volunteer_services.hours_record(
            actor=actor,
            volunteer=participation.volunteer,
            date=activity.date,
            hours=hours,
            source=HoursEntry.Source.ACTIVITY,
            source_ref=f"participation:{participation.pk}",
            description=activity.title,
            station=activity.station,
        )
    else:
        participation.status = Participation.Status.ABSENT
        participation.hours = None
    participation.recorded_by = actor if getattr(actor, "pk", None) else None
    participation.save(update_fields=["status", "hours", "recorded_by"])
    audit(
        actor=actor,
        action="events.participation.recorded",
        target=participation,
        data={
            "attended": bool(attended),
            "hours": str(participation.hours) if participation.hours is not None else None,
            "entry": entry.pk if entry else None,
        },
    )
    return participation
