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
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import audit
from center.masking import mask_name
from center.models import ServiceItem, User
from center.roles import is_staff_role
from volunteers import services as volunteer_services
from volunteers.models import HoursEntry, Volunteer
from volunteers.selectors import provider_can_serve

from .. import selectors
from ..models import CareSlot, CareVisit, Channel, MicroWish, Pairing, Resident, ServiceRequest
from ..models import Urgency as OrderUrgency

MAX_CADENCE_DAYS = 365
MAX_VISIT_MINUTES = 600
MAX_ROTA_SLOTS = 52
MAX_ROTA_EVERY_DAYS = 90
MAX_BACKDATE_DAYS = 366  # a visit is recorded within a year (hours are credited for it)


def _today() -> datetime.date:
    return timezone.localdate()


def _check_cadence(cadence_days: int) -> int:
    if not 1 <= int(cadence_days) <= MAX_CADENCE_DAYS:
        raise ValidationError(
            {"cadence_days": _("Visit every 1 to %(max)s days.") % {"max": MAX_CADENCE_DAYS}}
        )
    return int(cadence_days)


def _serving_volunteer(volunteer: Volunteer) -> Volunteer:
    """The volunteer read fresh (its status now, not a stale instance), refused
    when under sanction, removed or inactive (``provider_can_serve``)."""
    volunteer = Volunteer.objects.get(pk=volunteer.pk)
    if not provider_can_serve(volunteer):
        raise ValidationError(
            _("%(volunteer)s is suspended or removed and cannot serve residents now.")
            % {"volunteer": volunteer}
        )
    return volunteer


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

    The resident's row is locked, so two staff pairing the same member at once
    create one pairing (the partial unique index ``pairing_active_unique``
    backs it)."""
    cadence = _check_cadence(
        settings.LIANXIN["CARE_VISIT_CADENCE_DAYS"] if cadence_days is None else cadence_days
    )
    started_on = started_on or _today()
    if started_on > _today() + datetime.timedelta(days=MAX_CADENCE_DAYS):
        raise ValidationError({"started_on": _("The start is too far in the future.")})
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
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

    A volunteer records only visits of a resident they are paired with or a
    slot they hold; staff may record any volunteer's visit. The resident's row
    is locked: the same visit posted twice (same volunteer, same day) is
    refused the second time."""
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
    if CareVisit.objects.filter(
        resident=resident, volunteer=volunteer, visited_on=visited_on
    ).exists():
        raise ValidationError(
            _("A visit of %(resident)s by %(volunteer)s on %(date)s is already recorded.")
            % {"resident": resident, "volunteer": volunteer, "date": visited_on}
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


# --- A need found on a visit ---------------------------------------------------------


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
    station serving the resident, received for dispatch like a call."""
    from . import order_create  # the package's __init__ imports nothing from here

    visit = CareVisit.objects.select_related("resident").get(pk=visit.pk)
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
        action="requests.visit.need_ordered",
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
    which staff verify and publish (``services.wishes``)."""
    from .wishes import wish_create

    visit = CareVisit.objects.select_related("resident__community").get(pk=visit.pk)
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
        action="requests.visit.need_wished",
        target=visit,
        data={"wish": wish.pk},
    )
    return wish
