"""Staff's side of a service day: the venues a station sets up, the stalls at
each venue, the volunteer shifts of a stall, the stall's report (people
served, notes) and a message to everyone signed up on a day.

Each function: one transaction, the row locked, the rule checked (a
ValidationError a user can read), the write, an audit entry. Who may call:
station managers for the venues of their stations, center managers for all
(``_check_reach``); the views refuse operators (read only) before that.

A day that is over is read-only (``_check_open``), except the stall report,
which is written during or after the day.
"""

import datetime
import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import apply_changes, audit, jsonable
from center.models import Delivery, Notification, Station, User
from center.notifications import notify
from center.roles import ALL, is_manager, station_ids_for
from volunteers.models import Volunteer

from ..models import ServiceDay, Shift, SignUp, Stall, Venue
from .signups import SERVICE_TZ, _promote_first_waiting

VENUE_FIELDS = ("station", "kind", "name", "address", "latitude", "longitude")
STALL_FIELDS = ("item", "service", "team", "organization", "merchant")
MAX_CAPACITY = 200
MAX_MESSAGE = 300
ACTIVE = (SignUp.Status.CONFIRMED, SignUp.Status.WAITING)


# --- Rules shared by the functions below -------------------------------------------


def _check_reach(actor: User | None, station: Station | int) -> None:
    """A manager changes only what their stations run (the system, actor
    None, anything)."""
    if actor is None:
        return
    station_id = getattr(station, "pk", station)
    ids = station_ids_for(actor)
    if not is_manager(actor) or (ids is not ALL and station_id not in ids):
        raise ValidationError(_("You may only change the service day of your own stations."))


def _check_open(day: ServiceDay) -> None:
    if day.date < _today():
        raise ValidationError(
            _("This service day is over: its venues, stalls and shifts can no longer be changed.")
        )


def _today() -> datetime.date:
    return timezone.localdate(timezone=SERVICE_TZ)


def _active_signups(**lookup) -> bool:
    return SignUp.objects.filter(status__in=ACTIVE, **lookup).exists()


def _lock_shifts(**lookup) -> None:
    """Lock the shifts about to be deleted, so that no sign-up (which locks
    its shift first) slips in between the check and the delete."""
    list(Shift.objects.select_for_update(of=("self",)).filter(**lookup).values_list("pk"))


def _audit_changes(actor, action: str, target, before: dict[str, Any], changed: dict[str, Any]):
    audit(
        actor=actor,
        action=action,
        target=target,
        data={
            "before": jsonable({k: before[k] for k in changed}),
            "after": jsonable(changed),
        },
    )


# --- Venues ----------------------------------------------------------------------


def _clean_venue(data: dict[str, Any]) -> dict[str, Any]:
    data = {k: data[k] for k in VENUE_FIELDS if k in data}
    for name in ("name", "address"):
        if name in data:
            data[name] = (data[name] or "").strip()
            if not data[name]:
                raise ValidationError({name: _("This field is required.")})
    if (data.get("latitude") is None) != (data.get("longitude") is None):
        raise ValidationError({"longitude": _("Give both latitude and longitude, or neither.")})
    return data


@transaction.atomic
def venue_create(*, actor: User | None, day: ServiceDay, data: dict[str, Any]) -> Venue:
    """A venue of ``data["station"]`` on ``day`` (a square, a market, a
    community, the station itself). Inverse: ``venue_delete``."""
    day = ServiceDay.objects.select_for_update().get(pk=day.pk)
    _check_open(day)
    data = _clean_venue(data)
    if data.get("station") is None:
        raise ValidationError({"station": _("Choose the station that runs this venue.")})
    _check_reach(actor, data["station"])
    venue = Venue.objects.create(day=day, **data)
    audit(
        actor=actor,
        action="events.venue.created",
        target=venue,
        data={"day": day.pk, **jsonable(data)},
    )
    return venue


@transaction.atomic
def venue_update(*, actor: User | None, venue: Venue, data: dict[str, Any]) -> Venue:
    """Change a venue's station, kind, name, address or location; the audit
    entry keeps what it was. A venue with stalls run by a team or merchant of
    its station keeps its station."""
    venue = Venue.objects.select_for_update().select_related("day").get(pk=venue.pk)
    _check_open(venue.day)
    _check_reach(actor, venue.station_id)
    data = _clean_venue(data)
    if "station" in data:
        if data["station"] is None:
            raise ValidationError({"station": _("Choose the station that runs this venue.")})
        _check_reach(actor, data["station"])
        if (
            data["station"].pk != venue.station_id
            and venue.stalls.filter(Q(team__isnull=False) | Q(merchant__isnull=False)).exists()
        ):
            raise ValidationError(
                {
                    "station": _(
                        "Stalls here are run by a team or merchant of this station: "
                        "change them before moving the venue to another station."
                    )
                }
            )
    before = {f: getattr(venue, f) for f in VENUE_FIELDS}
    changed = apply_changes(venue, data, VENUE_FIELDS)
    if changed:
        venue.save(update_fields=list(changed))
        _audit_changes(actor, "events.venue.updated", venue, before, changed)
    return venue


@transaction.atomic
def venue_delete(*, actor: User | None, venue: Venue) -> None:
    """Remove a venue and its stalls and shifts; refused while anyone is
    signed up (or waiting) for one of its shifts: cancel those first. Inverse:
    ``venue_create`` (a new venue; the audit entry keeps what it was)."""
    venue = Venue.objects.select_for_update().select_related("day").get(pk=venue.pk)
    _check_open(venue.day)
    _check_reach(actor, venue.station_id)
    _lock_shifts(stall__venue=venue)
    if _active_signups(shift__stall__venue=venue):
        raise ValidationError(
            _(
                "Volunteers are signed up for shifts at this venue: "
                "cancel their sign-ups before deleting it."
            )
        )
    audit(
        actor=actor,
        action="events.venue.deleted",
        target=venue,
        data={"day": venue.day_id, **jsonable({f: getattr(venue, f) for f in VENUE_FIELDS})},
    )
    venue.delete()


# --- Stalls ----------------------------------------------------------------------


def _clean_stall(venue: Venue, data: dict[str, Any]) -> dict[str, Any]:
    data = {k: data.get(k) for k in STALL_FIELDS}
    data["service"] = (data["service"] or "").strip()
    if not data["service"]:
        if data["item"] is None:
            raise ValidationError(
                {"service": _("Choose a service item or name the stall's service.")}
            )
        data["service"] = data["item"].name[:100]
    runners = [k for k in ("team", "organization", "merchant") if data[k] is not None]
    if len(runners) > 1:
        raise ValidationError(
            _("A stall is run by the station, or by one team, organization or merchant.")
        )
    team, merchant = data["team"], data["merchant"]
    if team is not None:
        under = Station.objects.filter(
            Q(pk=venue.station_id)
            | Q(parent_id=venue.station_id)
            | Q(parent__parent_id=venue.station_id),
            pk=team.station_id,
        )
        if not under.exists():
            raise ValidationError({"team": _("The team must belong to the venue's station.")})
    if merchant is not None and not merchant.stations.filter(pk=venue.station_id).exists():
        raise ValidationError({"merchant": _("The merchant must serve the venue's station.")})
    return data


@transaction.atomic
def stall_create(*, actor: User | None, venue: Venue, data: dict[str, Any]) -> Stall:
    """A stall at ``venue``: a catalogue item or a named service (磨刀、理发…),
    run by the venue's station or by one of its teams, an organization or one
    of its merchants. Inverse: ``stall_delete``."""
    venue = Venue.objects.select_for_update().select_related("day").get(pk=venue.pk)
    _check_open(venue.day)
    _check_reach(actor, venue.station_id)
    data = _clean_stall(venue, data)
    stall = Stall.objects.create(venue=venue, **data)
    audit(
        actor=actor,
        action="events.stall.created",
        target=stall,
        data={"venue": venue.pk, **jsonable(data)},
    )
    return stall


def _locked_stall(stall: Stall) -> Stall:
    return (
        Stall.objects.select_for_update(of=("self",)).select_related("venue__day").get(pk=stall.pk)
    )


@transaction.atomic
def stall_update(*, actor: User | None, stall: Stall, data: dict[str, Any]) -> Stall:
    """Change what a stall offers or who runs it (``data``: every field of
    the form; a runner left out is emptied); the audit entry keeps what it
    was."""
    stall = _locked_stall(stall)
    _check_open(stall.venue.day)
    _check_reach(actor, stall.venue.station_id)
    data = _clean_stall(stall.venue, data)
    before = {f: getattr(stall, f) for f in STALL_FIELDS}
    changed = apply_changes(stall, data, STALL_FIELDS)
    if changed:
        stall.save(update_fields=list(changed))
        _audit_changes(actor, "events.stall.updated", stall, before, changed)
    return stall


@transaction.atomic
def stall_delete(*, actor: User | None, stall: Stall) -> None:
    """Remove a stall and its shifts; refused while anyone is signed up (or
    waiting) for one of them. Inverse: ``stall_create``."""
    stall = _locked_stall(stall)
    _check_open(stall.venue.day)
    _check_reach(actor, stall.venue.station_id)
    _lock_shifts(stall=stall)
    if _active_signups(shift__stall=stall):
        raise ValidationError(
            _(
                "Volunteers are signed up for shifts at this stall: "
                "cancel their sign-ups before deleting it."
            )
        )
    audit(
        actor=actor,
        action="events.stall.deleted",
        target=stall,
        data={"venue": stall.venue_id, **jsonable({f: getattr(stall, f) for f in STALL_FIELDS})},
    )
    stall.delete()


@transaction.atomic
def stall_report_update(
    *, actor: User | None, stall: Stall, people_served: int, notes: str
) -> Stall:
    """The stall's report: how many people it served and notes, entered
    during or after the day (never before; a past day too). Corrected by
    calling it again; the audit entry keeps what it said before."""
    stall = _locked_stall(stall)
    _check_reach(actor, stall.venue.station_id)
    if stall.venue.day.date > _today():
        raise ValidationError(_("People served are entered on the service day or after it."))
    if people_served is None or people_served < 0:
        raise ValidationError({"people_served": _("People served cannot be negative.")})
    if people_served > 100000:
        raise ValidationError({"people_served": _("That is more people than a stall can serve.")})
    data = {"people_served": people_served, "notes": (notes or "").strip()}
    before = {f: getattr(stall, f) for f in data}
    changed = apply_changes(stall, data, data)
    if changed:
        stall.save(update_fields=list(changed))
        _audit_changes(actor, "events.stall.reported", stall, before, changed)
    return stall


# --- Shifts ----------------------------------------------------------------------


def _times(day: ServiceDay, start: datetime.time, end: datetime.time):
    if start is None or end is None:
        raise ValidationError(_("Give the shift's start and end times."))
    starts_at = datetime.datetime.combine(day.date, start, tzinfo=SERVICE_TZ)
    ends_at = datetime.datetime.combine(day.date, end, tzinfo=SERVICE_TZ)
    if ends_at <= starts_at:
        raise ValidationError({"end": _("The shift must end after it starts.")})
    return starts_at, ends_at


def _check_capacity(capacity: int) -> None:
    if capacity is None or capacity < 1:
        raise ValidationError({"capacity": _("A shift needs at least one place.")})
    if capacity > MAX_CAPACITY:
        raise ValidationError(
            {"capacity": _("At most %(n)s places per shift.") % {"n": MAX_CAPACITY}}
        )


@transaction.atomic
def shift_create(
    *,
    actor: User | None,
    stall: Stall,
    start: datetime.time,
    end: datetime.time,
    capacity: int,
) -> Shift:
    """Volunteer places at ``stall`` from ``start`` to ``end`` (Asia/Shanghai)
    on the stall's day. Inverse: ``shift_delete``."""
    stall = _locked_stall(stall)
    _check_open(stall.venue.day)
    _check_reach(actor, stall.venue.station_id)
    starts_at, ends_at = _times(stall.venue.day, start, end)
    _check_capacity(capacity)
    shift = Shift.objects.create(
        stall=stall, starts_at=starts_at, ends_at=ends_at, capacity=capacity
    )
    audit(
        actor=actor,
        action="events.shift.created",
        target=shift,
        data={
            "stall": stall.pk,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "capacity": capacity,
        },
    )
    return shift


@transaction.atomic
def shift_update(
    *,
    actor: User | None,
    shift: Shift,
    start: datetime.time,
    end: datetime.time,
    capacity: int,
) -> Shift:
    """Change a shift's times or places. Places never go below those taken
    (cancel sign-ups first); more places go to the waiting list in turn (as
    ``signup_cancel`` hands a freed place on, and they are told)."""
    shift = (
        Shift.objects.select_for_update(of=("self",))
        .select_related("stall__venue__day", "stall__venue__station")
        .get(pk=shift.pk)
    )
    day = shift.stall.venue.day
    _check_open(day)
    _check_reach(actor, shift.stall.venue.station_id)
    starts_at, ends_at = _times(day, start, end)
    _check_capacity(capacity)
    if capacity < shift.taken:
        raise ValidationError(
            {
                "capacity": _(
                    "%(taken)s places are taken: the shift cannot have fewer places. "
                    "Cancel sign-ups first."
                )
                % {"taken": shift.taken}
            }
        )
    data = {"starts_at": starts_at, "ends_at": ends_at, "capacity": capacity}
    before = {f: getattr(shift, f) for f in data}
    changed = apply_changes(shift, data, data)
    promoted = []
    if changed:
        shift.save(update_fields=list(changed))
        while shift.taken < shift.capacity:
            signup = _promote_first_waiting(actor, shift)
            if signup is None:
                break
            promoted.append(signup.pk)
            shift.taken += 1
        if promoted:
            shift.save(update_fields=["taken"])
        audit(
            actor=actor,
            action="events.shift.updated",
            target=shift,
            data={
                "before": jsonable({k: _iso(before[k]) for k in changed}),
                "after": jsonable({k: _iso(v) for k, v in changed.items()}),
                "promoted": promoted,
            },
        )
    return shift


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else value


@transaction.atomic
def shift_delete(*, actor: User | None, shift: Shift) -> None:
    """Remove a shift; refused while anyone is signed up or waiting for it
    (cancel those first). Inverse: ``shift_create``."""
    shift = (
        Shift.objects.select_for_update(of=("self",))
        .select_related("stall__venue__day")
        .get(pk=shift.pk)
    )
    _check_open(shift.stall.venue.day)
    _check_reach(actor, shift.stall.venue.station_id)
    if _active_signups(shift=shift):
        raise ValidationError(
            _("Volunteers are signed up for this shift: cancel their sign-ups before deleting it.")
        )
    audit(
        actor=actor,
        action="events.shift.deleted",
        target=shift,
        data={
            "stall": shift.stall_id,
            "starts_at": shift.starts_at.isoformat(),
            "ends_at": shift.ends_at.isoformat(),
            "capacity": shift.capacity,
        },
    )
    shift.delete()


# --- A message to everyone on a day ----------------------------------------------


def _day_signups(*, actor: User | None, day: ServiceDay, **lookup):
    signups = SignUp.objects.filter(shift__stall__venue__day=day, status__in=ACTIVE, **lookup)
    if actor is not None:
        ids = station_ids_for(actor)
        if ids is not ALL:
            signups = signups.filter(shift__stall__venue__station_id__in=ids)
    return signups


def day_message_recipients(*, actor: User | None, day: ServiceDay):
    """The logins of the volunteers with a confirmed or waiting sign-up at a
    venue of ``day`` the actor runs (every venue for a center manager or the
    system): one query, each login once."""
    signups = _day_signups(actor=actor, day=day, volunteer__user__isnull=False)
    return User.objects.filter(pk__in=signups.values("volunteer__user_id")).order_by("pk")


def day_message_phones(*, actor: User | None, day: ServiceDay):
    """(volunteer id, mobile) of the volunteers signed up like those of
    ``day_message_recipients`` who have no login: they are told by SMS."""
    signups = _day_signups(actor=actor, day=day, volunteer__user__isnull=True)
    return (
        Volunteer.objects.filter(pk__in=signups.values("volunteer_id"))
        .order_by("pk")
        .values_list("pk", "mobile")
    )


@transaction.atomic
def day_message_send(*, actor: User | None, day: ServiceDay, text: str) -> int:
    """Tell every volunteer who is signed up (confirmed or waiting) at a
    venue of ``day`` in the actor's stations ``text`` (``events.day.message``):
    one message each, by their login's channels (inbox, SMS/email as they
    chose), or by SMS on their mobile when they have no login.

    Idempotent: the key carries the day and a hash of the sender and the
    text (the message's id), so the same message posted twice tells nobody
    twice; returns how many were told this time (0 for a repeat). The SMS
    leave after commit at the sms queue's rate (``center.delivery``).
    Inverse: none (a message once sent is sent).
    """
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError({"text": _("Write the message.")})
    if len(text) > MAX_MESSAGE:
        raise ValidationError(
            {"text": _("Keep the message under %(n)s characters.") % {"n": MAX_MESSAGE}}
        )
    if actor is not None and not is_manager(actor):
        raise ValidationError(_("Only managers may message the volunteers of a day."))
    day = ServiceDay.objects.select_for_update().get(pk=day.pk)
    if day.date < _today():
        raise ValidationError(_("This service day is over: there is nobody left to tell."))
    sender = getattr(actor, "pk", None) or 0
    digest = hashlib.sha256(f"{day.pk}|{sender}|{text}".encode()).hexdigest()[:16]
    prefix = f"events.day.message.{day.pk}.{digest}."
    already = set(
        Notification.objects.filter(key__startswith=prefix).values_list("recipient_id", flat=True)
    )
    params = {"date": day.date.isoformat(), "text": text}
    told = 0
    for user in day_message_recipients(actor=actor, day=day).only("pk").iterator():
        if user.pk in already:
            continue
        notify(
            recipient=user,
            key=f"{prefix}{user.pk}",
            kind="events.day_message",
            message="events.day.message",
            params=params,
        )
        told += 1
    # Without a login: an SMS to their mobile, keyed per volunteer. Who was
    # told is looked up by exact keys (the outbox is large), a batch at a time.
    phones = list(day_message_phones(actor=actor, day=day))
    for start in range(0, len(phones), 1000):
        batch = phones[start : start + 1000]
        sent = set(
            Delivery.objects.filter(
                key__in=[f"{prefix}v{pk}:{Delivery.Channel.SMS}" for pk, _mobile in batch]
            ).values_list("key", flat=True)
        )
        for pk, mobile in batch:
            if f"{prefix}v{pk}:{Delivery.Channel.SMS}" in sent:
                continue
            notify(
                recipient=None,
                phone=mobile,
                key=f"{prefix}v{pk}",
                kind="events.day_message",
                message="events.day.message",
                params=params,
            )
            told += 1
    audit(
        actor=actor,
        action="events.day.messaged",
        target=day,
        data={"message": digest, "told": told, "text": text},
    )
    return told
