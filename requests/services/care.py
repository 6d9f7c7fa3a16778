"""Pairing (结对) and care visits (上门走访), rota care (轮流照护), and a need
found on a visit turned into an order or a micro-wish.

Each state change is one function: one transaction, the row locked, the rule
checked (a ``ValidationError`` a user can read), ``save(update_fields=...)``,
one audit entry (``requests.pairing.*``, ``requests.visit.*``,
``requests.slot.*``, ``requests.rota.*``). ``Pairing.next_visit_due`` is kept
here only: start (or last visit) + cadence.
"""

import datetime
from decimal import ROUND_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import audit, pii_shown
from center.masking import mask_name
from center.models import AuditEntry, ServiceItem, User
from center.roles import ALL, is_staff_role, station_ids_for
from volunteers import services as volunteer_services
from volunteers.models import HoursEntry, Volunteer
from volunteers.selectors import provider_can_serve

from .. import selectors
from ..models import (
    CareSlot,
    CareVisit,
    Channel,
    MicroWish,
    Pairing,
    Resident,
    ResidentContact,
    ResidentPhone,
    ServiceRequest,
)
from ..models import Urgency as OrderUrgency
from ..selectors.care import NEED_ORDERED, NEED_WISHED, nameable_volunteers

MAX_CADENCE_DAYS = 365
MAX_VISIT_MINUTES = 600
MAX_DAY_MINUTES = 600  # one volunteer's visits of one day, all residents together
MAX_ROTA_SLOTS = 52
MAX_ROTA_EVERY_DAYS = 90
MAX_BACKDATE_DAYS = 366  # a visit is recorded within a year (hours are credited for it)
SLOT_EARLY_DAYS = 7  # a rota visit is made at most this many days before its due date
PHONES_BEFORE_SLOT_DAYS = 1  # a slot holder may see the numbers from the day before the visit


def _today() -> datetime.date:
    return timezone.localdate()


def _check_cadence(cadence_days: int) -> int:
    if not 1 <= int(cadence_days) <= MAX_CADENCE_DAYS:
        raise ValidationError(
            {"cadence_days": _("Visit every 1 to %(max)s days.") % {"max": MAX_CADENCE_DAYS}}
        )
    return int(cadence_days)


def _serving_volunteer(volunteer: Volunteer, *, lock: bool = False) -> Volunteer:
    """The volunteer read fresh (its status now, not a stale instance), refused
    when under sanction, removed or inactive (``provider_can_serve``); with
    ``lock``, the row locked (one volunteer's visits of a day are counted)."""
    qs = Volunteer.objects.select_for_update() if lock else Volunteer.objects
    volunteer = qs.get(pk=volunteer.pk)
    if not provider_can_serve(volunteer):
        raise ValidationError(
            _("%(volunteer)s is suspended or removed and cannot serve residents now.")
            % {"volunteer": volunteer}
        )
    return volunteer


def not_in_reach_error(number: str) -> ValidationError:
    """One message for a volunteer number (or mobile) that does not exist and
    for one the user may not name, so the forms cannot be used to probe which
    numbers exist (``forms_care.VolunteerNoField`` raises the same)."""
    return ValidationError({"volunteer": not_in_reach_message(number)})


def not_in_reach_message(number: str) -> str:
    return _("No volunteer of the stations you manage has the number or mobile %(n)s.") % {
        "n": number
    }


def _check_reach(
    *, actor: User | None, volunteer: Volunteer, resident: Resident | None = None
) -> None:
    """A station manager names only the volunteers of their own stations
    (pairing, recording a visit); for a visit (``resident`` given) also one
    paired with the resident or holding a rota slot for them. City-wide staff
    (operators, center managers) and the system (``actor=None``) name anyone.
    Checked before the volunteer's status, which is not told for another
    station's volunteer. The rule is ``selectors.care.nameable_volunteers``
    (the forms look numbers and mobiles up in it); its first clause is
    checked here without a query."""
    if actor is None or not is_staff_role(actor):
        return
    ids = station_ids_for(actor)
    if ids is ALL or volunteer.station_id in ids:
        return
    if (
        resident is not None
        and nameable_volunteers(user=actor, resident=resident).filter(pk=volunteer.pk).exists()
    ):
        return
    raise not_in_reach_error(volunteer.volunteer_no)


# --- Pairings --------------------------------------------------------------------


@transaction.atomic
def pairing_create(
    *,
    actor: User | None,
    resident: Resident,
    volunteer: Volunteer,
    cadence_days: int | None = None,
    started_on: datetime.date | None = None,
) -> Pairing:
    """Pair ``volunteer`` with ``resident`` (结对), visiting every
    ``cadence_days`` (default ``CARE_VISIT_CADENCE_DAYS``). The first visit
    is due one cadence after the start. Inverse: ``pairing_end`` (the pairing
    is kept as history; pairing the two again creates a new row).

    A station manager pairs only the volunteers of their own stations
    (``_check_reach``); the volunteer must be able to serve. The resident's
    row is locked, so two staff pairing the same member at once create one
    pairing (the partial unique index ``pairing_active_unique`` backs it)."""
    cadence = _check_cadence(
        settings.LIANXIN["CARE_VISIT_CADENCE_DAYS"] if cadence_days is None else cadence_days
    )
    started_on = started_on or _today()
    if started_on > _today() + datetime.timedelta(days=MAX_CADENCE_DAYS):
        raise ValidationError({"started_on": _("The start is too far in the future.")})
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _check_reach(actor=actor, volunteer=volunteer)
    volunteer = _serving_volunteer(volunteer)
    if Pairing.objects.filter(
        resident=resident, volunteer=volunteer, ended_on__isnull=True
    ).exists():
        raise ValidationError(
            _("%(volunteer)s is already paired with %(resident)s.")
            % {"volunteer": volunteer, "resident": resident}
        )
    pairing = Pairing(
        resident=resident,
        volunteer=volunteer,
        cadence_days=cadence,
        started_on=started_on,
        next_visit_due=started_on + datetime.timedelta(days=cadence),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            pairing.save()
    except IntegrityError as exc:  # a race past the lock (another path): same message
        raise ValidationError(
            _("%(volunteer)s is already paired with %(resident)s.")
            % {"volunteer": volunteer, "resident": resident}
        ) from exc
    audit(
        actor=actor,
        action="requests.pairing.created",
        target=pairing,
        data={"resident": resident.pk, "volunteer": volunteer.pk, "cadence_days": cadence},
    )
    return pairing


def _lock_active(pairing: Pairing) -> Pairing:
    pairing = (
        Pairing.objects.select_for_update()
        .select_related("resident", "volunteer")
        .get(pk=pairing.pk)
    )
    if not pairing.is_active:
        raise ValidationError(_("This pairing has ended."))
    return pairing


@transaction.atomic
def pairing_update(*, actor: User | None, pairing: Pairing, cadence_days: int) -> Pairing:
    """Change the visit cadence; the next visit is due one new cadence after
    the last visit (or the start, if none yet)."""
    pairing = _lock_active(pairing)
    cadence = _check_cadence(cadence_days)
    if cadence == pairing.cadence_days:
        return pairing
    previous = pairing.cadence_days
    pairing.cadence_days = cadence
    pairing.next_visit_due = (pairing.last_visit_on or pairing.started_on) + datetime.timedelta(
        days=cadence
    )
    pairing.save(update_fields=["cadence_days", "next_visit_due"])
    audit(
        actor=actor,
        action="requests.pairing.updated",
        target=pairing,
        data={"cadence_days": cadence, "was": previous},
    )
    return pairing


@transaction.atomic
def pairing_end(
    *, actor: User | None, pairing: Pairing, reason: str, ended_on: datetime.date | None = None
) -> Pairing:
    """End a pairing (the member moved, the resident passed away...). Inverse
    of ``pairing_create``: the pairing leaves the overdue lists and the 专人管
    first offer; its visits stay (history). Not reopened: pairing the two
    again is a new pairing."""
    pairing = _lock_active(pairing)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the pairing ends.")})
    ended_on = ended_on or _today()
    if ended_on < pairing.started_on or ended_on > _today():
        raise ValidationError(
            {"ended_on": _("The end is between the start of the pairing and today.")}
        )
    pairing.ended_on, pairing.end_reason = ended_on, reason[:200]
    pairing.save(update_fields=["ended_on", "end_reason"])
    audit(
        actor=actor,
        action="requests.pairing.ended",
        target=pairing,
        data={"ended_on": ended_on.isoformat()},
    )
    return pairing


# --- Care visits ------------------------------------------------------------------


def visit_hours(minutes: int) -> Decimal:
    """Minutes spent, credited as hours rounded up to quarter hours (at least one)."""
    quarters = (Decimal(minutes) / Decimal(15)).to_integral_value(rounding=ROUND_UP)
    return max(quarters, Decimal(1)) / 4


def _contact_time(visited_on: datetime.date) -> datetime.datetime:
    """When a visit counts as the resident's last contact: now for today's
    visit, noon of the day for an earlier one."""
    if visited_on >= _today():
        return timezone.now()
    return datetime.datetime.combine(
        visited_on, datetime.time(12), tzinfo=timezone.get_current_timezone()
    )


@transaction.atomic
def care_visit_record(
    *,
    actor: User | None,
    resident: Resident,
    volunteer: Volunteer,
    visited_on: datetime.date,
    minutes: int,
    found: str = "",
    pairing: Pairing | None = None,
    slot: CareSlot | None = None,
) -> CareVisit:
    """Record a care visit. Keeps: the pairing's ``last_visit_on`` and
    ``next_visit_due`` (last visit + cadence; an older visit recorded late
    moves neither back), the resident's ``last_contact_at``, the rota slot
    (done). Credits the minutes as service hours (source care visit, once per
    visit); a volunteer's own record is credited unverified, for the station
    to verify; a staff member's record is verified.

    Who: a volunteer records their own visits, of a resident they are paired
    with or a slot they hold; staff record a volunteer's visit, a station
    manager only for a volunteer of their stations or one paired with (or
    holding a slot for) the resident. The volunteer must be able to serve
    (not suspended or removed). When: not in the future, within a year, not
    before the pairing started, a slot's visit not before the slot was made
    nor more than ``SLOT_EARLY_DAYS`` before its due date; at most
    ``MAX_DAY_MINUTES`` of visits per volunteer per day.

    The resident's row is locked (the same visit posted twice, same volunteer
    and day, is refused the second time), then the volunteer's (their day's
    minutes are counted under it)."""
    if visited_on > _today():
        raise ValidationError({"visited_on": _("A visit cannot be recorded for a future date.")})
    if visited_on < _today() - datetime.timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationError({"visited_on": _("A visit more than a year ago cannot be recorded.")})
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= MAX_VISIT_MINUTES:
        raise ValidationError(
            {"minutes": _("Minutes spent: 1 to %(max)s.") % {"max": MAX_VISIT_MINUTES}}
        )
    staff = is_staff_role(actor) if actor is not None else True
    if not staff and volunteer.user_id != getattr(actor, "pk", None):
        raise ValidationError(_("You can record only your own visits."))
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if pairing is None:
        pairing = (
            Pairing.objects.filter(resident=resident, volunteer=volunteer, ended_on__isnull=True)
            .order_by("pk")
            .first()
        )
    if pairing is not None:
        pairing = _lock_active(pairing)
        if pairing.resident_id != resident.pk or pairing.volunteer_id != volunteer.pk:
            raise ValidationError(_("This pairing is not between this volunteer and resident."))
    if slot is not None:
        slot = CareSlot.objects.select_for_update().get(pk=slot.pk)
        if slot.resident_id != resident.pk:
            raise ValidationError({"slot": _("This rota slot is another resident's.")})
        if slot.visit_id is not None:
            raise ValidationError({"slot": _("This rota slot is already done.")})
        if slot.volunteer_id != volunteer.pk:
            raise ValidationError({"slot": _("This rota slot is held by someone else.")})
    if pairing is None and slot is None and not staff:
        raise ValidationError(
            _(
                "You can record visits only of residents you are paired with or hold a rota slot for."
            )
        )
    _check_reach(actor=actor, volunteer=volunteer, resident=resident)
    volunteer = _serving_volunteer(volunteer, lock=True)
    if pairing is not None and visited_on < pairing.started_on:
        raise ValidationError(
            {
                "visited_on": _(
                    "The pairing started on %(date)s: a visit before it is not its visit."
                )
                % {"date": pairing.started_on}
            }
        )
    if slot is not None:
        earliest = max(
            timezone.localdate(slot.created_at),
            slot.due_on - datetime.timedelta(days=SLOT_EARLY_DAYS),
        )
        if visited_on < earliest:
            raise ValidationError(
                {
                    "visited_on": _(
                        "This rota visit is due on %(due)s: it can be made from %(date)s on."
                    )
                    % {"due": slot.due_on, "date": earliest}
                }
            )
    if CareVisit.objects.filter(
        resident=resident, volunteer=volunteer, visited_on=visited_on
    ).exists():
        raise ValidationError(
            _("A visit of %(resident)s by %(volunteer)s on %(date)s is already recorded.")
            % {"resident": resident, "volunteer": volunteer, "date": visited_on}
        )
    day_minutes = (
        CareVisit.objects.filter(volunteer=volunteer, visited_on=visited_on).aggregate(
            total=Sum("minutes")
        )["total"]
        or 0
    )
    if day_minutes + minutes > MAX_DAY_MINUTES:
        raise ValidationError(
            {
                "minutes": _(
                    "%(volunteer)s already has %(done)s minutes of visits on %(date)s; "
                    "a day counts at most %(max)s."
                )
                % {
                    "volunteer": volunteer,
                    "done": day_minutes,
                    "date": visited_on,
                    "max": MAX_DAY_MINUTES,
                }
            }
        )
    visit = CareVisit.objects.create(
        resident=resident,
        volunteer=volunteer,
        pairing=pairing,
        visited_on=visited_on,
        minutes=minutes,
        found=(found or "").strip(),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    if pairing is not None and (
        pairing.last_visit_on is None or visited_on >= pairing.last_visit_on
    ):
        pairing.last_visit_on = visited_on
        pairing.next_visit_due = visited_on + datetime.timedelta(days=pairing.cadence_days)
        pairing.save(update_fields=["last_visit_on", "next_visit_due"])
    contact = _contact_time(visited_on)
    Resident.objects.filter(pk=resident.pk).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=contact)
    ).update(last_contact_at=contact)
    if slot is not None:
        slot.visit = visit
        slot.save(update_fields=["visit"])
    volunteer_services.hours_record(
        actor=actor,
        volunteer=volunteer,
        date=visited_on,
        hours=visit_hours(minutes),
        source=HoursEntry.Source.CARE_VISIT,
        source_ref=f"visit:{visit.pk}",
        description=_("Care visit: %(resident)s") % {"resident": mask_name(resident.name)},
        station=selectors.suggest_station(resident.community) or volunteer.station,
        verified=staff,
    )
    audit(
        actor=actor,
        action="requests.visit.recorded",
        target=visit,
        data={
            "resident": resident.pk,
            "volunteer": volunteer.pk,
            "pairing": pairing.pk if pairing else None,
            "slot": slot.pk if slot else None,
            "visited_on": visited_on.isoformat(),
            "minutes": minutes,
        },
    )
    return visit


# --- Rota care -------------------------------------------------------------------


@transaction.atomic
def rota_schedule(
    *,
    actor: User | None,
    resident: Resident,
    first_on: datetime.date,
    every_days: int,
    count: int,
) -> list[CareSlot]:
    """Schedule ``count`` visits of ``resident``, one every ``every_days`` from
    ``first_on``: each a slot one volunteer takes (``care_slot_take``). Dates
    already scheduled are kept as they are (not doubled)."""
    if first_on < _today():
        raise ValidationError({"first_on": _("The first visit cannot be in the past.")})
    if not 1 <= int(every_days) <= MAX_ROTA_EVERY_DAYS:
        raise ValidationError(
            {"every_days": _("Every 1 to %(max)s days.") % {"max": MAX_ROTA_EVERY_DAYS}}
        )
    if not 1 <= int(count) <= MAX_ROTA_SLOTS:
        raise ValidationError(
            {"count": _("Schedule 1 to %(max)s visits at a time.") % {"max": MAX_ROTA_SLOTS}}
        )
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    dates = [first_on + datetime.timedelta(days=int(every_days) * i) for i in range(int(count))]
    held = set(
        CareSlot.objects.filter(resident=resident, due_on__in=dates).values_list(
            "due_on", flat=True
        )
    )
    creator = actor if getattr(actor, "pk", None) else None
    slots = CareSlot.objects.bulk_create(
        [CareSlot(resident=resident, due_on=d, created_by=creator) for d in dates if d not in held]
    )
    audit(
        actor=actor,
        action="requests.rota.scheduled",
        target=resident,
        data={
            "slots": len(slots),
            "first_on": first_on.isoformat(),
            "every_days": int(every_days),
        },
    )
    return slots


@transaction.atomic
def care_slot_take(*, actor: User | None, slot: CareSlot, volunteer: Volunteer) -> CareSlot:
    """A volunteer takes a rota slot: exactly one winner (the slot row is
    locked; the second to arrive finds it taken). Inverse: ``care_slot_release``."""
    slot = CareSlot.objects.select_for_update().get(pk=slot.pk)
    if slot.visit_id is not None:
        raise ValidationError(_("This visit is already done."))
    if slot.volunteer_id is not None:
        if slot.volunteer_id == volunteer.pk:
            return slot
        raise ValidationError(_("Someone else took this visit first."))
    if slot.due_on < _today():
        raise ValidationError(_("This visit's date has passed."))
    volunteer = _serving_volunteer(volunteer)
    slot.volunteer, slot.taken_at = volunteer, timezone.now()
    slot.save(update_fields=["volunteer", "taken_at"])
    audit(
        actor=actor,
        action="requests.slot.taken",
        target=slot,
        data={"volunteer": volunteer.pk, "due_on": slot.due_on.isoformat()},
    )
    return slot


@transaction.atomic
def care_slot_release(
    *, actor: User | None, slot: CareSlot, volunteer: Volunteer | None = None
) -> CareSlot:
    """Give a taken slot back (the holder, or staff with ``volunteer=None``):
    it is open again for others. Inverse of ``care_slot_take``; a done slot
    (its visit recorded) cannot be released."""
    slot = CareSlot.objects.select_for_update().get(pk=slot.pk)
    if slot.visit_id is not None:
        raise ValidationError(_("This visit is already done."))
    if slot.volunteer_id is None:
        raise ValidationError(_("Nobody holds this visit."))
    if volunteer is not None and slot.volunteer_id != volunteer.pk:
        raise ValidationError(_("This visit is held by someone else."))
    previous = slot.volunteer_id
    slot.volunteer, slot.taken_at = None, None
    slot.save(update_fields=["volunteer", "taken_at"])
    audit(actor=actor, action="requests.slot.released", target=slot, data={"volunteer": previous})
    return slot


# --- The resident's numbers for a slot holder ------------------------------------------


def phones_open_from(due_on: datetime.date) -> datetime.date:
    """The first day a rota slot's holder may see the resident's numbers."""
    return due_on - datetime.timedelta(days=PHONES_BEFORE_SLOT_DAYS)


def care_phone_reveal(
    *,
    actor: User,
    volunteer: Volunteer,
    resident: Resident,
    phone_pk: int | None = None,
    contact_pk: int | None = None,
) -> str:
    """One of the resident's numbers (``phone_pk``) or an emergency contact's
    (``contact_pk``) in full for the volunteer who will visit, logged
    (``center.pii.revealed``). A paired member (the resident's named person)
    is shown them on the visit page already; a rota slot's holder taps to
    reveal, and only from ``PHONES_BEFORE_SLOT_DAYS`` before the slot's due
    date (taking slots to collect numbers gets nothing before then, and every
    number shown is logged). Raises ``DoesNotExist`` for a row that is not
    the resident's."""
    paired = Pairing.objects.filter(
        resident=resident, volunteer=volunteer, ended_on__isnull=True
    ).exists()
    if not paired:
        first_due = (
            CareSlot.objects.filter(resident=resident, volunteer=volunteer, visit__isnull=True)
            .order_by("due_on")
            .values_list("due_on", flat=True)
            .first()
        )
        if first_due is None:
            raise ValidationError(_("You hold no visit of this resident."))
        if _today() < phones_open_from(first_due):
            raise ValidationError(
                _("The numbers can be shown from %(date)s, the day before the visit.")
                % {"date": phones_open_from(first_due)}
            )
    if contact_pk is not None:
        value = ResidentContact.objects.get(resident=resident, pk=contact_pk).phone
        field = "contacts"
    else:
        value = ResidentPhone.objects.get(resident=resident, pk=phone_pk).number
        field = "phones"
    pii_shown(
        actor=actor,
        target=resident,
        fields=[field],
        purpose="pairing" if paired else "rota",
    )
    return value


# --- A need found on a visit ---------------------------------------------------------


def _lock_visit_for_need(*, actor: User | None, visit: CareVisit, action: str) -> CareVisit:
    """The visit locked, and the rules for turning its need into an order or
    a wish: once each per visit (its audit entry, found through the audit
    target index, is the record); a volunteer only for their own visit, within
    ``CARE_NEED_DAYS`` of it, while still paired with the resident (or for the
    visit of a rota slot they held). Staff may do it later, for any visit in
    their scope."""
    visit = (
        CareVisit.objects.select_for_update(of=("self",))
        .select_related("resident__community", "volunteer")
        .get(pk=visit.pk)
    )
    staff = actor is None or is_staff_role(actor)
    if not staff:
        if visit.volunteer.user_id != getattr(actor, "pk", None):
            raise ValidationError(_("Only the volunteer who made this visit can do this."))
        days = settings.LIANXIN["CARE_NEED_DAYS"]
        if visit.visited_on < _today() - datetime.timedelta(days=days):
            raise ValidationError(
                _(
                    "A need found on a visit is passed on within %(n)s days of the visit; "
                    "after that, tell the station."
                )
                % {"n": days}
            )
        still_theirs = (
            Pairing.objects.filter(
                resident_id=visit.resident_id,
                volunteer_id=visit.volunteer_id,
                ended_on__isnull=True,
            ).exists()
            or CareSlot.objects.filter(visit=visit, volunteer_id=visit.volunteer_id).exists()
        )
        if not still_theirs:
            raise ValidationError(
                _("You are no longer paired with this resident: tell the station instead.")
            )
    if AuditEntry.objects.filter(
        target_type=CareVisit._meta.label_lower, target_id=str(visit.pk), action=action
    ).exists():
        raise ValidationError(
            _("An order was already created from this visit.")
            if action == NEED_ORDERED
            else _("A micro-wish was already created from this visit.")
        )
    return visit


@transaction.atomic
def visit_need_to_order(
    *,
    actor: User | None,
    visit: CareVisit,
    item: ServiceItem,
    description: str = "",
    urgency: str = OrderUrgency.NORMAL,
) -> ServiceRequest:
    """One click: the need becomes a work order (channel care visit) at the
    station serving the resident, received for dispatch like a call. Once per
    visit; a volunteer cannot make it an emergency (the hotline takes those),
    staff can (``_lock_visit_for_need`` has the rest of the rules)."""
    from . import order_create  # the package's __init__ imports nothing from here

    visit = _lock_visit_for_need(actor=actor, visit=visit, action=NEED_ORDERED)
    if urgency == OrderUrgency.EMERGENCY and not (actor is None or is_staff_role(actor)):
        raise ValidationError(
            {
                "urgency": _(
                    "An emergency goes through the hotline 96345: call it now. "
                    "A need found on a visit is normal or urgent."
                )
            }
        )
    order = order_create(
        actor=actor,
        resident=visit.resident,
        item=item,
        channel=Channel.VISIT,
        urgency=urgency,
        description=(description or "").strip() or visit.found,
    )
    audit(
        actor=actor,
        action=NEED_ORDERED,
        target=visit,
        data={"order": order.number},
    )
    return order


@transaction.atomic
def visit_need_to_wish(
    *,
    actor: User | None,
    visit: CareVisit,
    title: str,
    kind: str,
    deadline: datetime.date,
    estimated_cost: Decimal = Decimal("0"),
    description: str = "",
) -> MicroWish:
    """One click: the need becomes a draft micro-wish (source care visit),
    which staff verify and publish (``services.wishes``). Once per visit
    (``_lock_visit_for_need`` has the rules)."""
    from .wishes import wish_create

    visit = _lock_visit_for_need(actor=actor, visit=visit, action=NEED_WISHED)
    wish = wish_create(
        actor=actor,
        resident=visit.resident,
        title=title,
        kind=kind,
        deadline=deadline,
        source=MicroWish.Source.VISIT,
        visit=visit,
        estimated_cost=estimated_cost,
        description=description,
    )
    audit(
        actor=actor,
        action=NEED_WISHED,
        target=visit,
        data={"wish": wish.pk},
    )
    return wish
