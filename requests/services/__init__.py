"""Every write of the hotline: one function per transition of the work order.

received → dispatched (offered / assigned) → taken → on the way → arrived →
completed → followed up and archived (归档); cancelled at any open stage; returned
(退单) back to received for re-dispatch (改派); reopened (重办) after an
unsatisfied follow-up. Which step is possible from which status is stated
once, in ``ServiceRequest.TRANSITIONS``. Each function locks the order, checks the transition,
writes the step's time, records the step with ``_event`` and queues follow-up
work on commit.

Two records of each step, both written by ``_event`` in the step's transaction
(a step rolled back leaves neither): ``OrderEvent`` is the order's timeline
(shown on the order page, read by order), ``center.AuditEntry`` is the one
who-did-what log of every app (same action name, ``requests.order.<verb>``).
Writes that are not order steps (residents, devices) write an AuditEntry only.

Reads live in ``selectors``; tasks are queued by name (``center.broker``), so
this module never imports ``.tasks`` (tasks → services, one way).
"""

import datetime
import hmac
import secrets
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import apply_changes, audit, jsonable
from center.broker import publish_on_commit
from center.celery import app as celery_app
from center.masking import mask_mobile
from center.models import Area, ServiceItem, Station, User
from center.notifications import notify
from center.roles import ALL, station_ids_for
from center.validators import normalize_phone, validate_phone
from volunteers import services as volunteer_services
from volunteers.models import HoursEntry, MerchantOffer, Provider
from volunteers.selectors import provider_can_serve, provider_for

from .. import dispatch, selectors
from ..models import (
    DEVICE_ID_RE,
    CallLog,
    Channel,
    Device,
    DeviceCall,
    FollowUp,
    OrderEvent,
    OrderMonthStat,
    OrderOffer,
    Resident,
    ResidentContact,
    ResidentPhone,
    ServiceRequest,
    Urgency,
)
from .calls import call_record, console_call_record, unmatched_record  # noqa: F401 (issue 14)
from .reminders import (
    order_completed_tell_resident,
    order_taken_tell_resident,
    provider_phone,
)

Status = ServiceRequest.Status


# Step data that is a phone number: the audit log holds it masked (the
# timeline row, read only with the order, keeps it as recorded).
_NUMBERS = {"caller_phone"}


def _event(order: ServiceRequest, actor, verb: str, note: str = "", **data) -> OrderEvent:
    """Record one step of ``order`` twice, in the caller's transaction: on the
    order's timeline (``OrderEvent``, with the note) and in the audit log
    (``AuditEntry``, same action and data, plus the event's id). Every order step calls this, so the two never disagree."""
    action = f"requests.order.{verb}"
    # Phone numbers are masked in both: the full number stays on the order,
    # shown on a logged reveal (docs/privacy.md), never copied into a log.
    data = {k: mask_mobile(v) if k in _NUMBERS else v for k, v in jsonable(data).items()}
    event = OrderEvent.objects.create(
        order=order,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        note=note,
        data=data,
    )
    audit(actor=actor, action=action, target=order, data={**data, "event": event.pk})
    return event


def _lock(order: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=order.pk)


def _require(order: ServiceRequest, *allowed: str) -> None:
    if order.status not in allowed:
        raise ValidationError(
            _("Order %(number)s is %(status)s; this step is not possible now.")
            % {"number": order.number, "status": order.get_status_display()}
        )


# --- Residents -----------------------------------------------------------------------


def _save_once(obj, model, intake_key) -> Any:
    """Insert ``obj`` unless a row with the same ``intake_key`` exists: the same
    form posted twice at once gives one row. The unique index serialises the
    race (the second insert waits for the first to commit, then fails); the
    loser returns the winner's row with ``replayed = True``."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        existing = model.objects.filter(intake_key=intake_key).first() if intake_key else None
        if existing is None:
            raise
        existing.replayed = True
        return existing
    obj.replayed = False
    return obj


@transaction.atomic
def resident_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    phones: list[str],
    intake_key: uuid.UUID | None = None,
) -> Resident:
    """Register a resident with their phones. ``intake_key`` (from the form)
    makes a repeated submission return the resident already registered."""
    if intake_key:
        existing = Resident.objects.filter(intake_key=intake_key).first()
        if existing is not None:
            existing.replayed = True
            return existing
    phones = list(dict.fromkeys(normalize_phone(p) for p in phones if p and str(p).strip()))
    if not phones:
        raise ValidationError({"phone": _("A resident needs at least one phone number.")})
    for number in phones:
        validate_phone(number)
    resident = Resident(**data, intake_key=intake_key)
    resident.full_clean()
    resident = _save_once(resident, Resident, intake_key)
    if resident.replayed:
        return resident
    ResidentPhone.objects.bulk_create([ResidentPhone(resident=resident, number=p) for p in phones])
    # Nothing personal in the log: the row is the target, its numbers stay there.
    audit(
        actor=actor,
        action="requests.resident.created",
        target=resident,
        data={"phones": len(phones)},
    )
    return resident


# What the back office edits on a resident (the console registers them: resident_create).
RESIDENT_FIELDS = ("name", "address", "community", "latitude", "longitude", "is_free", "notes")


def _clean_number(number: str, field: str) -> str:
    number = normalize_phone(number)
    try:
        validate_phone(number)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    return number


@transaction.atomic
def resident_update(
    *,
    actor: User | None,
    resident: Resident,
    data: dict[str, Any],
    phones: list[tuple[str, str]] | None = None,
    contacts: list[dict[str, str]] | None = None,
) -> Resident:
    """Change a resident's details (``RESIDENT_FIELDS``). With ``phones``
    ((number, label) pairs) and ``contacts`` (dicts of name, relation, phone,
    optionally kind and priority) their numbers and emergency contacts become exactly those: rows that stay
    keep their id (a reveal or an access-log row still points at them), the
    others are deleted, new ones added. At least one phone stays. The audit
    entry names what changed and counts the rows, never the values (names,
    addresses and numbers are personal data)."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    changed = apply_changes(resident, data, RESIDENT_FIELDS)
    if changed:
        resident.full_clean()
        resident.save(update_fields=list(changed))
    log: dict[str, Any] = {"fields": sorted(changed)} if changed else {}
    if phones is not None:
        wanted = {}
        for number, label in phones:
            if number and str(number).strip():
                wanted.setdefault(_clean_number(number, "phone"), (label or "").strip())
        if not wanted:
            raise ValidationError({"phone": _("A resident needs at least one phone number.")})
        held = {p.number: p for p in resident.phones.all()}
        gone = [p.pk for number, p in held.items() if number not in wanted]
        ResidentPhone.objects.filter(pk__in=gone).delete()
        relabelled = [
            p for number, p in held.items() if number in wanted and p.label != wanted[number]
        ]
        for p in relabelled:
            p.label = wanted[p.number]
        ResidentPhone.objects.bulk_update(relabelled, ["label"])
        added = [
            ResidentPhone(resident=resident, number=n, label=label)
            for n, label in wanted.items()
            if n not in held
        ]
        ResidentPhone.objects.bulk_create(added)
        log.update(
            phones_added=len(added), phones_removed=len(gone), phones_relabelled=len(relabelled)
        )
    if contacts is not None:
        wanted_contacts = {
            (c["name"].strip(), c["relation"].strip(), _clean_number(c["phone"], "contacts")): c
            for c in contacts
        }
        held_contacts = {(c.name, c.relation, c.phone): c for c in resident.contacts.all()}
        gone = [c.pk for key, c in held_contacts.items() if key not in wanted_contacts]
        ResidentContact.objects.filter(pk__in=gone).delete()
        # Kind and call order (issue 11) when given: kept rows take the new
        # ones, new rows get them (else the defaults).
        reordered = []
        for key, c in held_contacts.items():
            given = wanted_contacts.get(key, {})
            new = {f: given[f] for f in ("kind", "priority") if given.get(f) not in (None, "")}
            if key in wanted_contacts and any(getattr(c, f) != v for f, v in new.items()):
                for f, v in new.items():
                    setattr(c, f, v)
                reordered.append(c)
        ResidentContact.objects.bulk_update(reordered, ["kind", "priority"])
        added = [
            ResidentContact(
                resident=resident,
                name=name,
                relation=relation,
                phone=phone,
                **{
                    f: wanted_contacts[(name, relation, phone)][f]
                    for f in ("kind", "priority")
                    if wanted_contacts[(name, relation, phone)].get(f) not in (None, "")
                },
            )
            for name, relation, phone in wanted_contacts
            if (name, relation, phone) not in held_contacts
        ]
        ResidentContact.objects.bulk_create(added)
        log.update(contacts_added=len(added), contacts_removed=len(gone))
        if reordered:
            log["contacts_reordered"] = len(reordered)
    if any(log.values()):
        audit(actor=actor, action="requests.resident.updated", target=resident, data=log)
    return resident


@transaction.atomic
def resident_delete(*, actor: User | None, resident: Resident) -> None:
    """Delete a resident registered by mistake, with their phones and contacts.
    A resident with orders or a device cannot be deleted (the database
    protects them: ``ProtectedError``; the admin checks first and refuses)."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    audit(actor=actor, action="requests.resident.deleted", target=resident)
    resident.delete()


def phone_reveal(*, actor: User, kind: str, pk: int) -> str:
    """Return one full number and log who saw it (PIPL access log,
    ``center.pii.revealed``). The lookup is scoped to what ``actor`` may see."""
    row, field = selectors.get_phone_for_user(user=actor, kind=kind, pk=pk)
    audit(actor=actor, action="center.pii.revealed", target=row, data={"field": field})
    return getattr(row, field) or ""


# --- Intake ------------------------------------------------------------------------


class MergeableOrder(ValidationError):
    """The resident already has an open order for this item: merge (并单) or confirm a new one."""

    def __init__(self, order: ServiceRequest):
        super().__init__(
            _("%(number)s is already open for this resident and item.") % {"number": order.number}
        )
        self.order = order


@transaction.atomic
def order_create(
    *,
    actor: User | None,
    resident: Resident,
    item: ServiceItem,
    channel: str,
    urgency: str = Urgency.NORMAL,
    caller_phone: str = "",
    description: str = "",
    address: str = "",
    community: Area | None = None,
    station: Station | None = None,
    preferred_time: datetime.datetime | None = None,
    kind: str = "help",
    intake_key: uuid.UUID | None = None,
    allow_duplicate: bool = True,
) -> ServiceRequest:
    """Record a call as an order. The price shown is the center's price; the
    fee rule (``Resident.served_free``) waives it for a resident marked free,
    and for a special-group resident when the item is free for special groups.
    A special-group resident's ``last_contact_at`` is kept here (the care
    lists' "silent" residents).

    Exactly one order per call: ``intake_key`` (generated when the form was
    shown) makes a repeated submission return the order already recorded
    (``replayed = True``); with ``allow_duplicate=False`` the resident's row is
    locked and an open order for the same item raises ``MergeableOrder``, so
    two operators taking the same repeat call at once cannot both create one."""
    if intake_key:
        existing = ServiceRequest.objects.filter(intake_key=intake_key).first()
        if existing is not None:
            existing.replayed = True
            return existing
    if not allow_duplicate:
        # Serialise intake per resident: the merge check and the insert are one step.
        Resident.objects.select_for_update().filter(pk=resident.pk).first()
        mergeable = selectors.find_mergeable(resident=resident, item=item)
        if mergeable is not None:
            raise MergeableOrder(mergeable)
    if not item.is_active:
        raise ValidationError({"item": _("This service item is no longer offered.")})
    community = community or resident.community
    now = timezone.now()
    order = ServiceRequest(
        number=uuid.uuid4().hex[:20],
        kind=kind,
        channel=channel,
        urgency=urgency,
        caller_phone=normalize_phone(caller_phone),
        resident=resident,
        item=item,
        description=description,
        address=address or resident.address,
        community=community,
        station=station or selectors.suggest_station(community),
        latitude=resident.latitude,
        longitude=resident.longitude,
        preferred_time=preferred_time,
        quoted_price=item.center_price,
        fee_waived=resident.served_free(item),
        received_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        intake_key=intake_key,
    )
    if not order.address:
        raise ValidationError({"address": _("Where should the provider go? Enter the address.")})
    # The related rows were read above (or by the form): checking each exists
    # again would cost a query apiece; the foreign keys hold them anyway.
    order.full_clean(
        exclude=[
            "number",
            "intake_key",
            "resident",
            "item",
            "community",
            "station",
            "created_by",
            "provider",
        ]
    )
    order = _save_once(order, ServiceRequest, intake_key)
    if order.replayed:
        return order
    # The number carries the date and the row id: unique and readable on the phone.
    order.number = f"GD{timezone.localdate(now):%Y%m%d}{order.pk:07d}"
    order.save(update_fields=["number"])
    if resident.is_special:
        Resident.objects.filter(pk=resident.pk).update(last_contact_at=now)
    _event(order, actor, "received", channel=channel, item=item.name)
    if channel == Channel.HOTLINE:
        # The call that made the order, logged once, here (services/calls.py).
        call_record(
            actor=actor,
            kind=CallLog.Kind.ORDER,
            number=order.caller_phone,
            resident=resident,
            order=order,
            at=now,
        )
    return order


@transaction.atomic
def order_merge(
    *, actor: User | None, order: ServiceRequest, caller_phone: str = "", note: str = ""
) -> ServiceRequest:
    """A repeat call about an open order: merged into it, not a new order."""
    order = _lock(order)
    _check(order, "merge")
    order.repeat_calls = F("repeat_calls") + 1
    order.save(update_fields=["repeat_calls"])
    order.refresh_from_db(fields=["repeat_calls"])
    _event(order, actor, "merged", note=note, caller_phone=caller_phone)
    if getattr(actor, "pk", None):
        # A staff member merged a caller's repeat call: logged once, here. A
        # device calling again (actor None) is not a hotline call.
        number = normalize_phone(caller_phone)
        try:
            validate_phone(number)
        except ValidationError:
            number = ""  # a partial number typed to search: the order keeps the caller's
        call_record(actor=actor, kind=CallLog.Kind.REPEAT, number=number, order=order, note=note)
    return order


# --- Dispatch ------------------------------------------------------------------------


def _check(order: ServiceRequest, step: str) -> None:
    """The one transition check: ``ServiceRequest.TRANSITIONS`` says which status allows ``step``."""
    _require(order, *ServiceRequest.TRANSITIONS[step])


def as_provider(who) -> Provider | None:
    """The provider row of a volunteer, merchant or team (or the row itself);
    None stays None (an order nobody holds)."""
    return None if who is None else provider_for(who)


def _bind(order: ServiceRequest, provider: Provider) -> None:
    """The provider now holds this open order: it counts towards their load.
    A merchant's own price (never above the center's) becomes the quote."""
    order.provider = provider
    Provider.objects.filter(pk=provider.pk).update(open_orders=F("open_orders") + 1)
    if provider.merchant_id:
        price = (
            MerchantOffer.objects.filter(merchant_id=provider.merchant_id, item_id=order.item_id)
            .values_list("price", flat=True)
            .first()
        )
        if price is not None and price < order.quoted_price:
            order.quoted_price = price


def _unbind(order: ServiceRequest) -> None:
    """The order leaves the provider's hands (completed, cancelled, returned)."""
    if order.provider_id:
        Provider.objects.filter(pk=order.provider_id, open_orders__gt=0).update(
            open_orders=F("open_orders") - 1
        )


@transaction.atomic
def provider_load_recount(*, actor: User | None = None) -> int:
    """Repair: set every provider's ``open_orders`` and ``last_taken_at`` from
    the orders (after bulk writes such as the demo data; the services keep
    them from then on). Two grouped queries; returns the providers updated."""
    from django.db.models import Count, Max

    open_counts = dict(
        ServiceRequest.objects.filter(status__in=ServiceRequest.OPEN, provider__isnull=False)
        .values_list("provider_id")
        .annotate(n=Count("pk"))
    )
    last = dict(
        ServiceRequest.objects.filter(provider__isnull=False, taken_at__isnull=False)
        .values_list("provider_id")
        .annotate(m=Max("taken_at"))
    )
    rows = list(Provider.objects.filter(pk__in={*open_counts, *last}))
    for p in rows:
        p.open_orders, p.last_taken_at = open_counts.get(p.pk, 0), last.get(p.pk)
    Provider.objects.bulk_update(rows, ["open_orders", "last_taken_at"], batch_size=2000)
    audit(actor=actor, action="requests.provider_load.recounted", data={"providers": len(rows)})
    return len(rows)


def _tell_provider(
    provider: Provider | None,
    *,
    key: str,
    kind: str,
    message: str,
    params: dict,
    urgent: bool = False,
):
    """Tell the provider: their inbox and channels, or by SMS when they have no
    login yet; ``urgent`` (an emergency order) by SMS at any hour."""
    if provider is not None:
        notify(
            recipient=provider.user,
            key=key,
            kind=kind,
            message=message,
            params=params,
            urgent=urgent,
            phone=provider_phone(provider),
        )


@transaction.atomic
def order_assign(
    *,
    actor: User,
    order: ServiceRequest,
    provider: Provider,
    other_station: bool = False,
) -> ServiceRequest:
    """The operator assigns a provider (volunteer, merchant or team) directly.
    Inverse: ``order_return``.

    Operators and center managers assign anyone (they dispatch city-wide). A
    station manager assigns providers of their own stations; one of another
    station only with ``other_station`` (an explicit choice on the form, agreed
    with that station), which the timeline records."""
    provider = as_provider(provider)
    order = _lock(order)
    _check(order, "assign")
    # Read the provider's status now, not from the caller's (possibly stale) instance.
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if not provider_can_serve(provider):
        raise ValidationError(
            _("%(provider)s is suspended, removed or inactive and cannot be dispatched.")
            % {"provider": provider}
        )
    if order.offers.filter(provider=provider, status=OrderOffer.Status.RETURNED).exists():
        raise ValidationError(
            _("%(provider)s returned this order; choose someone else.") % {"provider": provider}
        )
    outside = not _provider_in_scope(actor, provider)
    if outside and not other_station:
        raise ValidationError(
            _(
                "%(provider)s belongs to another station. Tick “another station” if "
                "you have agreed it with them."
            )
            % {"provider": provider}
        )
    _bind(order, provider)
    order.mode, order.status, order.dispatched_at = (
        ServiceRequest.Mode.ASSIGN,
        Status.DISPATCHED,
        timezone.now(),
    )
    order.save(update_fields=["provider", "mode", "status", "dispatched_at", "quoted_price"])
    _event(order, actor, "assigned", provider=str(provider), other_station=outside)
    _tell_provider(
        provider,
        key=f"order-assigned:{order.pk}:{provider.pk}:{order.dispatch_round}",
        kind="requests.order",
        message="requests.order.assigned",
        params={"number": order.number, "item": order.item.name, "address": order.address},
        urgent=order.urgency == Urgency.EMERGENCY,
    )
    return order


def _provider_in_scope(actor, provider: Provider) -> bool:
    """Whether ``provider`` belongs to the stations ``actor`` manages (always, city-wide)."""
    if actor is None:
        return True  # the system itself (a task, a device call) dispatches city-wide
    ids = station_ids_for(actor)
    if ids is ALL:
        return True
    if provider.kind == Provider.Kind.MERCHANT:
        return provider.merchant.stations.filter(pk__in=ids).exists()
    return provider.station_id in ids


def _excluded(order: ServiceRequest) -> list[int]:
    """Who is not offered again: this round's offers, and whoever returned it in any round."""
    return list(
        order.offers.filter(
            Q(round=order.dispatch_round) | Q(status=OrderOffer.Status.RETURNED)
        ).values_list("provider_id", flat=True)
    )


def _offer_ring(
    order: ServiceRequest, actor, ring: int, paired: list | None = None
) -> list[OrderOffer]:
    """Offer to the next nearest volunteers and, on the first ring, to the
    nearest merchants and teams too (one offer inbox for every kind).

    Ring 0 (专人管) offers to ``paired`` alone, the resident's paired members
    (``dispatch.paired_candidates``); on ring 1, ``paired`` go first with the
    ranking (an emergency does not wait for them)."""
    size = settings.LIANXIN["OFFER_SIZE"]
    excluded = _excluded(order)
    if ring == 0:
        candidates = list(paired or [])
    else:
        candidates = list(paired or [])
        excluded += [c.provider.pk for c in candidates]
        candidates += dispatch.volunteer_candidates(order, exclude_ids=excluded, limit=size)
    if ring == 1 or (ring and not candidates):
        candidates += dispatch.merchant_candidates(order, exclude_ids=excluded, limit=2)
        candidates += dispatch.team_candidates(order, exclude_ids=excluded, limit=1)
    offers = [
        OrderOffer(
            order=order,
            provider=c.provider,
            round=order.dispatch_round,
            ring=ring,
            distance_km=Decimal(f"{c.distance_km:.2f}") if c.distance_km is not None else None,
            minutes=c.minutes,
        )
        for c in candidates
    ]
    OrderOffer.objects.bulk_create(offers)
    paired_to = [str(c.provider) for c in candidates if c.paired]
    _event(
        order,
        actor,
        "offered",
        ring=ring,
        to=", ".join(str(c.provider) for c in candidates),
        **({"paired": ", ".join(paired_to)} if paired_to else {}),
    )
    for c in candidates:
        _tell_provider(
            c.provider,
            key=f"order-offer:{order.pk}:{c.provider.pk}:{order.dispatch_round}",
            kind="requests.offer",
            message="requests.order.offered",
            params={"item": order.item.name, "minutes": c.minutes or "?", "address": order.address},
            urgent=order.urgency == Urgency.EMERGENCY,
        )
    return offers


def _schedule_widen(order: ServiceRequest) -> None:
    """Queue the widening check (``requests.tasks.widen_offer``, by name) for
    when this ring's time is up. Without a broker (eager tasks) a countdown
    cannot wait, so the per-minute sweep ``widen_stale_offers`` does it
    instead; with Redis the sweep only catches lost messages."""
    if celery_app.conf.task_always_eager:
        return
    publish_on_commit(
        "requests.tasks.widen_offer",
        args=(order.pk, order.offer_ring),
        countdown=settings.LIANXIN["OFFER_TIMEOUT_SECONDS"][order.urgency],
    )


@transaction.atomic
def order_offer(*, actor: User | None, order: ServiceRequest) -> ServiceRequest:
    """Offer the order to the nearest candidates; the first to accept wins
    (``order_take``). If nobody takes it in time, ``order_widen`` offers it to
    the next ring. Each dispatch round starts again at ring 1.

    专人管: when the resident has paired members who may serve now, the round
    starts at ring 0, offered to them alone; when its time is up the normal
    ranking follows (ring 1, ...), their offers still open. An emergency
    does not wait: they are offered first within ring 1."""
    order = _lock(order)
    _check(order, "offer")
    order.mode, order.status, order.dispatched_at = (
        ServiceRequest.Mode.OFFER,
        Status.DISPATCHED,
        timezone.now(),
    )
    paired = dispatch.paired_candidates(order, exclude_ids=_excluded(order))
    ring = 0 if paired and order.urgency != Urgency.EMERGENCY else 1
    order.offer_ring, order.ring_started_at = ring, order.dispatched_at
    order.save(update_fields=["mode", "status", "dispatched_at", "offer_ring", "ring_started_at"])
    offers = _offer_ring(order, actor, order.offer_ring, paired=paired)
    if not offers:
        _alert_station(order, "requests.alert.no_provider")
    _schedule_widen(order)
    return order


def _alert_station(order: ServiceRequest, message: str, **params) -> None:
    """Tell the station's managers (``message``: a requests.alert.* key of center.messages)."""
    params = {
        "number": order.number,
        "item": order.item.name,
        "address": order.address,
        **params,
    }
    for manager in order.station.managers.all():
        notify(
            recipient=manager,
            key=f"order-alert:{order.pk}:{order.dispatch_round}:{order.offer_ring}:{manager.pk}",
            kind="requests.alert",
            message=message,
            params=params,
        )


@transaction.atomic
def order_widen(*, order_id: int, ring: int) -> bool:
    """Periodic follow-up of an offer (a Celery task scheduled on commit): if
    the order is still untaken after ring ``ring``, offer it to the next ring
    and alert the station manager. Safe to run twice: a stale ring does nothing."""
    order = ServiceRequest.objects.select_for_update().filter(pk=order_id).first()
    if (
        order is None
        or order.status != Status.DISPATCHED
        or order.mode != ServiceRequest.Mode.OFFER
    ):
        return False
    if order.offer_ring != ring:
        return False
    if ring >= settings.LIANXIN["OFFER_MAX_RINGS"]:
        # Stop sweeping it: the station manager now handles it by hand.
        order.ring_started_at = None
        order.save(update_fields=["ring_started_at"])
        _alert_station(order, "requests.alert.not_taken", n=ring)
        _event(order, None, "offer_exhausted", ring=ring)
        return False
    order.offer_ring, order.ring_started_at = ring + 1, timezone.now()
    order.save(update_fields=["offer_ring", "ring_started_at"])
    _offer_ring(order, None, order.offer_ring)
    if ring:  # after the paired members' ring (0) dispatch simply goes on
        _alert_station(order, "requests.alert.widened")
    _schedule_widen(order)
    return True


@transaction.atomic
def order_take(
    *, actor: User | None, order: ServiceRequest, provider: Provider | None = None
) -> ServiceRequest:
    """A provider takes the order (接单/抢单): a volunteer, a merchant, or a
    team's leader for the team. Exactly one winner: the order row is locked,
    and only a dispatched order can be taken. ``provider=None``: staff record
    the take for the assigned provider."""
    provider = as_provider(provider)
    order = _lock(order)
    if not order.can_take:
        if (
            order.status == Status.TAKEN
            and provider is not None
            and order.provider_id != provider.pk
        ):
            raise ValidationError(_("Someone else took this order first."))
        _check(order, "take")
    if provider is not None:
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        if not provider_can_serve(provider):
            raise ValidationError(_("You are suspended or removed and cannot take orders."))
        if order.mode == ServiceRequest.Mode.OFFER:
            if not order.offers.filter(
                provider=provider, round=order.dispatch_round, status=OrderOffer.Status.OFFERED
            ).exists():
                raise ValidationError(_("This order was not offered to you."))
            _bind(order, provider)
        elif order.provider_id != provider.pk:
            raise ValidationError(_("This order is assigned to someone else."))
    elif order.provider_id is None:
        raise ValidationError(_("Nobody is assigned to take this order."))
    now = timezone.now()
    order.status, order.taken_at = Status.TAKEN, now
    order.response_seconds = int((now - order.received_at).total_seconds())
    order.save(update_fields=["provider", "status", "taken_at", "response_seconds", "quoted_price"])
    Provider.objects.filter(pk=order.provider_id).update(last_taken_at=now)
    if order.mode == ServiceRequest.Mode.OFFER:
        current = order.offers.filter(round=order.dispatch_round)
        current.filter(provider_id=order.provider_id).update(status=OrderOffer.Status.ACCEPTED)
        current.filter(status=OrderOffer.Status.OFFERED).update(status=OrderOffer.Status.LOST)
    _event(
        order,
        actor,
        "taken",
        provider=str(order.provider),
        response_seconds=order.response_seconds,
    )
    order_taken_tell_resident(order, now=now)
    return order


def _provider_step(order: ServiceRequest, provider) -> None:
    provider = as_provider(provider)
    if provider is not None and order.provider_id != provider.pk:
        raise ValidationError(_("This is not your order."))


@transaction.atomic
def order_on_the_way(
    *, actor: User | None, order: ServiceRequest, provider: Provider | None = None
) -> ServiceRequest:
    order = _lock(order)
    _check(order, "on_the_way")
    _provider_step(order, provider)
    order.status, order.on_the_way_at = Status.ON_THE_WAY, timezone.now()
    order.save(update_fields=["status", "on_the_way_at"])
    _event(order, actor, "on_the_way")
    return order


@transaction.atomic
def order_arrive(
    *, actor: User | None, order: ServiceRequest, provider: Provider | None = None
) -> ServiceRequest:
    order = _lock(order)
    _check(order, "arrive")
    _provider_step(order, provider)
    now = timezone.now()
    order.status, order.arrived_at = Status.ARRIVED, now
    order.arrival_seconds = int((now - order.taken_at).total_seconds())
    order.save(update_fields=["status", "arrived_at", "arrival_seconds"])
    _event(order, actor, "arrived", arrival_seconds=order.arrival_seconds)
    return order


@transaction.atomic
def order_complete(
    *,
    actor: User | None,
    order: ServiceRequest,
    notes: str,
    fee: Decimal,
    fee_reason: str = "",
    provider: Provider | None = None,
    members=(),
) -> ServiceRequest:
    """The provider finishes. The fee never exceeds the quote without a reason
    (and is zero when waived). Service hours are credited to the volunteer, or
    for a team to the ``members`` who went (the leader picks them; at least one).

    Completing without having reported arrival records the arrival at this
    moment with ``arrival_unreported`` set, so the arrival-time measure
    (``DISPATCH_TARGET_MINUTES``) can leave it out (the arrival time is not lost
    silently)."""
    order = _lock(order)
    _check(order, "complete")
    _provider_step(order, provider)
    if not notes.strip():
        raise ValidationError({"notes": _("Say what was done.")})
    if fee < 0:
        raise ValidationError({"fee": _("A fee cannot be negative.")})
    if order.fee_waived and fee > 0:
        raise ValidationError({"fee": _("This resident is served free: the fee must be 0.")})
    if fee > order.quoted_price and not fee_reason.strip():
        raise ValidationError(
            {
                "fee_reason": _("The fee is above the quoted ¥%(price)s: give the reason.")
                % {"price": order.quoted_price}
            }
        )
    team = order.team
    if team is not None:
        allowed = {v.pk: v for v in team.members.all()}
        members = [allowed[m.pk] for m in members if m.pk in allowed]
        if not members:
            raise ValidationError({"members": _("Tick the team members who went.")})
    now = timezone.now()
    fields = ["status", "completed_at", "work_notes", "fee_charged", "fee_reason"]
    if order.arrived_at is None:
        order.arrived_at, order.arrival_unreported = now, True
        order.arrival_seconds = int((now - order.taken_at).total_seconds())
        fields += ["arrived_at", "arrival_unreported", "arrival_seconds"]
    order.status, order.completed_at = Status.COMPLETED, now
    order.work_notes, order.fee_charged, order.fee_reason = notes.strip(), fee, fee_reason.strip()
    order.save(update_fields=fields)
    _unbind(order)
    order_completed_tell_resident(order)
    _event(
        order,
        actor,
        "completed",
        fee=fee,
        arrival_unreported=order.arrival_unreported,
        members=", ".join(m.volunteer_no for m in members),
    )
    credited = [order.volunteer] if order.volunteer is not None else list(members)
    for volunteer in credited:
        volunteer_services.hours_record(
            actor=actor,
            volunteer=volunteer,
            date=timezone.localdate(now),
            hours=selectors.service_hours(order),
            source=HoursEntry.Source.ORDER,
            source_ref=order.number,
            description=order.item.name,
            station=order.station,
        )
    return order


def _back_to_received(order: ServiceRequest) -> list[str]:
    """Undo dispatch: no provider, no open offers, the undone steps' times
    cleared, a new dispatch round whose offer ring starts again. Shared by
    return (退单) and reopen (重办); returns the fields to save."""
    order.offers.filter(status=OrderOffer.Status.OFFERED).update(status=OrderOffer.Status.WITHDRAWN)
    order.status, order.mode, order.ring_started_at, order.offer_ring = (
        Status.RECEIVED,
        "",
        None,
        0,
    )
    order.dispatch_round += 1
    order.provider = None
    order.quoted_price = order.item.center_price  # a merchant's own price left with them
    order.dispatched_at = order.taken_at = order.on_the_way_at = order.arrived_at = (
        order.completed_at
    ) = None
    order.arrival_seconds, order.arrival_unreported = None, False
    return [
        "status",
        "mode",
        "ring_started_at",
        "offer_ring",
        "dispatch_round",
        "provider",
        "dispatched_at",
        "taken_at",
        "on_the_way_at",
        "arrived_at",
        "completed_at",
        "arrival_seconds",
        "arrival_unreported",
        "quoted_price",
    ]


@transaction.atomic
def order_return(
    *, actor: User | None, order: ServiceRequest, reason: str, provider: Provider | None = None
) -> ServiceRequest:
    """The provider sends the order back (退单) with a reason; it returns to
    received for re-dispatch (改派). Inverse of ``order_assign``/``order_take``:
    the provider, the step times and the open offers are undone, a new
    dispatch round starts at ring 1, and whoever returned it is never offered
    or assigned it again (their offer row is marked RETURNED). Kept: the
    order's number, price, notes, urges and repeat calls, and the timeline."""
    order = _lock(order)
    _check(order, "return")
    _provider_step(order, provider)
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for returning the order.")})
    previous = order.provider
    if previous is not None:
        updated = order.offers.filter(provider=previous, round=order.dispatch_round).update(
            status=OrderOffer.Status.RETURNED
        )
        if not updated:  # assigned, never offered: record who returned it
            OrderOffer.objects.create(
                order=order,
                provider=previous,
                round=order.dispatch_round,
                ring=order.offer_ring,
                status=OrderOffer.Status.RETURNED,
            )
    _unbind(order)
    order.save(update_fields=_back_to_received(order))
    _event(order, actor, "returned", note=reason.strip(), provider=str(previous or ""))
    _alert_station(order, "requests.alert.returned", reason=reason.strip())
    return order


@transaction.atomic
def order_cancel(*, actor: User | None, order: ServiceRequest, reason: str) -> ServiceRequest:
    order = _lock(order)
    _check(order, "cancel")
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for cancelling.")})
    _unbind(order)
    order.status, order.cancelled_at = Status.CANCELLED, timezone.now()
    order.save(update_fields=["status", "cancelled_at"])
    order.offers.filter(status=OrderOffer.Status.OFFERED).update(status=OrderOffer.Status.WITHDRAWN)
    _event(order, actor, "cancelled", note=reason.strip())
    return order


@transaction.atomic
def order_urge(
    *, actor: User, order: ServiceRequest, note: str = "", call: dict | None = None
) -> ServiceRequest:
    """Staff urge (催办) an open order; the provider and station are told.
    ``call`` (number, category, duration_seconds, note): the urge is a
    resident's repeat call taken at the console, logged here as a ``repeat``
    call (``order.logged_call``); without it the urge is staff's own and
    logs no call."""
    order = _lock(order)
    _check(order, "urge")
    order.urge_count, order.last_urged_at = order.urge_count + 1, timezone.now()
    order.save(update_fields=["urge_count", "last_urged_at"])
    _event(order, actor, "urged", note=note)
    if call is not None:
        order.logged_call = call_record(actor=actor, kind=CallLog.Kind.REPEAT, order=order, **call)
    _tell_provider(
        order.provider,
        key=f"order-urged:{order.pk}:{order.urge_count}",
        kind="requests.urge",
        message="requests.order.urged",
        params={"number": order.number, "note": note},
        urgent=order.urgency == Urgency.EMERGENCY,
    )
    _alert_station(order, "requests.alert.urged")
    return order


# --- Follow-up -----------------------------------------------------------------------


@transaction.atomic
def follow_up_record(
    *,
    actor: User,
    order: ServiceRequest,
    satisfaction: str,
    score: int,
    words: str = "",
    reopen: bool = False,
    complain: bool = False,
) -> FollowUp:
    """The call back (回访) closes the loop. Satisfied → followed up and
    archived (归档). Not satisfied → reopen (重办) and/or a complaint against
    the provider, which feeds the sanction ladder.

    Reopen is the inverse of completion: the order is received again in a new
    dispatch round (anyone may be offered it, the same provider too, except
    whoever returned it). Kept: the fee charged and notes of the first
    completion until the next completion overwrites them, and the hours already
    credited (crediting is idempotent per volunteer and order, so completing
    again credits the same volunteer once)."""
    order = _lock(order)
    _check(order, "follow_up")
    if not 1 <= score <= 5:
        raise ValidationError({"score": _("The score is from 1 to 5.")})
    unsatisfied = satisfaction == FollowUp.Satisfaction.UNSATISFIED
    if (reopen or complain) and not unsatisfied:
        raise ValidationError(
            _("Only an unsatisfied follow-up reopens an order or opens a complaint.")
        )
    if complain and not words.strip():
        raise ValidationError(
            {"words": _("Write down what the resident said: the complaint needs it.")}
        )
    subject = order.volunteer or order.merchant
    if complain and subject is None:
        raise ValidationError(
            _("A team's order: record the complaint against the volunteer or merchant concerned.")
        )
    follow_up = FollowUp.objects.create(
        order=order,
        provider=order.provider,
        operator=actor,
        satisfaction=satisfaction,
        score=score,
        words=words.strip(),
        reopened=reopen,
    )
    if order.volunteer is not None:
        _refresh_rating(order.provider)
    now = timezone.now()
    order.followed_up_at = now
    if complain:
        follow_up.complaint = volunteer_services.complaint_record(
            actor=actor, provider=subject, description=words.strip(), station_id=order.station_id
        )
        follow_up.save(update_fields=["complaint"])
    if reopen:
        order.reopen_count = order.reopen_count + 1
        order.save(update_fields=[*_back_to_received(order), "reopen_count", "followed_up_at"])
        _event(order, actor, "reopened", note=words.strip(), satisfaction=satisfaction, score=score)
    else:
        order.status, order.archived_at = Status.ARCHIVED, now
        order.save(update_fields=["status", "followed_up_at", "archived_at"])
        _event(
            order, actor, "followed_up", note=words.strip(), satisfaction=satisfaction, score=score
        )
    return follow_up


RATING_WINDOW = 50  # the provider's last 50 follow-up scores


def _refresh_rating(provider: Provider) -> None:
    scores = list(
        FollowUp.objects.filter(provider=provider)
        .order_by("-at")
        .values_list("score", flat=True)[:RATING_WINDOW]
    )
    if scores and provider.volunteer is not None:
        volunteer_services.volunteer_set_rating(
            volunteer=provider.volunteer, rating=Decimal(sum(scores)) / len(scores)
        )


# --- One-key devices -----------------------------------------------------------------


@transaction.atomic
def device_register(
    *, actor: User | None, resident: Resident, device_id: str
) -> tuple[Device, str]:
    """Register a device; returns it with its secret (shown once, stored hashed)."""
    secret = secrets.token_urlsafe(24)
    device = Device(
        device_id=device_id.strip(), resident=resident, secret_hash=selectors.hash_secret(secret)
    )
    device.full_clean()
    device.save()
    audit(
        actor=actor,
        action="requests.device.registered",
        target=device,
        data={"device_id": device.device_id, "resident": str(resident.pk)},
    )
    return device, secret


DEVICE_FIELDS = ("device_id", "resident", "is_active")


@transaction.atomic
def device_update(*, actor: User | None, device: Device, data: dict[str, Any]) -> Device:
    """Change a device's id, resident or active flag (the back office). The
    secret is never changed here: a new secret means registering the device
    again. An inactive device's calls are refused as unknown."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if "device_id" in data:
        data = {**data, "device_id": data["device_id"].strip()}
    changed = apply_changes(device, data, DEVICE_FIELDS)
    if changed:
        device.full_clean()
        device.save(update_fields=list(changed))
        audit(actor=actor, action="requests.device.updated", target=device, data=jsonable(changed))
    return device


@transaction.atomic
def device_delete(*, actor: User | None, device: Device) -> None:
    """Delete a device (its call log, kept by device id, stays). To stop a
    device for a while, deactivate it instead (``device_update``)."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    audit(
        actor=actor,
        action="requests.device.deleted",
        target=device,
        data={"device_id": device.device_id},
    )
    device.delete()


class DeviceRefused(Exception):
    def __init__(self, status: int, code: str):
        super().__init__(code)
        self.status, self.code = status, code


def _device_log(*, device_id: str, error: str, remote_addr: str | None, order=None) -> None:
    """The endpoint's own log (``DeviceCall``): every call, accepted or
    refused, bounded by the view's rate limits. A machine's call, not a
    person's action, so no AuditEntry; the order an accepted call creates is
    audited step by step (``_event``)."""
    DeviceCall.objects.create(
        device_id=device_id, ok=not error, error=error, remote_addr=remote_addr, order=order
    )


def device_call(*, device_id: str, secret: str, remote_addr: str | None = None) -> ServiceRequest:
    """A device's call becomes an emergency order, offered at once to the
    nearest providers. A bad or unknown device creates nothing but a log line.

    Exactly one open emergency per device: the device row is locked, and a
    repeat press or a retry within ``DEVICE_REPEAT_WINDOW_SECONDS`` returns the
    order already open (``replayed = True``) instead of creating another. The
    caller (the view) rate-limits per device and per address before this runs,
    so refused attempts cannot write rows without bound."""
    if not DEVICE_ID_RE.match(device_id or ""):
        raise DeviceRefused(400, "bad_device_id")
    device = (
        Device.objects.select_related("resident")
        .filter(device_id=device_id, is_active=True)
        .first()
    )
    if device is None:
        _device_log(device_id=device_id, error="unknown_device", remote_addr=remote_addr)
        raise DeviceRefused(404, "unknown_device")
    if not hmac.compare_digest(device.secret_hash, selectors.hash_secret(secret or "")):
        _device_log(device_id=device.device_id, error="bad_secret", remote_addr=remote_addr)
        raise DeviceRefused(401, "bad_secret")
    item = (
        ServiceItem.objects.filter(code=settings.LIANXIN["DEVICE_ITEM_CODE"]).first()
        or ServiceItem.objects.filter(is_active=True).order_by("pk").first()
    )
    with transaction.atomic():
        # One press at a time per device: the repeat check and the insert are one step.
        Device.objects.select_for_update().filter(pk=device.pk).first()
        since = timezone.now() - datetime.timedelta(
            seconds=settings.LIANXIN["DEVICE_REPEAT_WINDOW_SECONDS"]
        )
        open_call = (
            ServiceRequest.objects.filter(
                resident_id=device.resident_id,
                channel="device",
                status__in=ServiceRequest.OPEN,
                received_at__gte=since,
            )
            .order_by("-received_at")
            .first()
        )
        if open_call is not None:
            # A repeat press is a repeat call: the one merge service (并单) records it.
            open_call = order_merge(actor=None, order=open_call, note=_("The device called again."))
            _device_log(
                device_id=device.device_id, error="", remote_addr=remote_addr, order=open_call
            )
            open_call.replayed = True
            return open_call
        order = order_create(
            actor=None,
            resident=device.resident,
            item=item,
            channel="device",
            urgency=Urgency.EMERGENCY,
            description=_("One-key device call"),
        )
        order = order_offer(actor=None, order=order)
        Device.objects.filter(pk=device.pk).update(last_call_at=timezone.now())
        _device_log(device_id=device.device_id, error="", remote_addr=remote_addr, order=order)
    order.replayed = False
    return order


# --- Console alerts ------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, actor: User, order: ServiceRequest) -> ServiceRequest:
    """A staff member dismisses a device call's alert from the consoles: the
    alert leaves every console's list (``selectors.emergency_alerts``); the
    order itself is untouched and still needs dispatch. Idempotent: a second
    acknowledgement (another console, a double click) keeps the first one's
    person and time and writes nothing. No inverse: a new press of the device
    is a new alert (or a repeat call merged into this order)."""
    order = _lock(order)
    if order.channel != "device":
        raise ValidationError(_("Only a one-key device call raises a console alert."))
    if order.alert_acknowledged_at is not None:
        return order
    order.alert_acknowledged_at, order.alert_acknowledged_by = timezone.now(), actor
    order.save(update_fields=["alert_acknowledged_at", "alert_acknowledged_by"])
    _event(order, actor, "alert_acknowledged")
    return order


# --- Monthly figures (the report's summary table) ---------------------------------------


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of ``month`` and of the month after, in local time."""
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(following, datetime.time.min, tzinfo=tz),
    )


@transaction.atomic
def order_month_stats_refresh(*, month: datetime.date) -> int:
    """Rebuild ``OrderMonthStat`` for ``month`` from its orders: one grouped
    aggregate over the month's orders (an index range on received_at) and one
    over their latest follow-ups, the old rows replaced in the same
    transaction, so a reader sees the old figures or the new ones, never
    half. The counts are those of ``docs/metrics.md`` (the same filters as
    ``reports.selectors.order_rates``), so rates summed from this table equal
    the rates computed from the orders. Returns the rows written. Derived
    data, like a cache: no audit entry (no one acted); safe to run twice."""
    from django.db.models import Count, Exists, OuterRef, Sum

    start, end = month_bounds(month)
    target = settings.LIANXIN["DISPATCH_TARGET_MINUTES"] * 60
    reported = Q(arrived_at__isnull=False, arrival_unreported=False)
    groups = (
        ServiceRequest.objects.filter(received_at__gte=start, received_at__lt=end)
        .order_by()
        .values("station_id", "item__category_id")
        .annotate(
            received=Count("id"),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
            cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
            arrivals=Count("id", filter=reported),
            in_target=Count("id", filter=reported & Q(arrival_seconds__lte=target)),
            seconds=Sum("arrival_seconds", filter=reported),
            dispatched=Count(
                "id", filter=Q(dispatched_at__isnull=False) | Q(response_seconds__isnull=False)
            ),
            taken_in_target=Count("id", filter=Q(response_seconds__lte=target)),
            arrivals_unreported=Count("id", filter=Q(arrival_unreported=True)),
        )
    )
    later = FollowUp.objects.filter(order_id=OuterRef("order_id"), pk__gt=OuterRef("pk"))
    satisfied_values = [FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.BASICALLY]
    follow_ups = {
        (f["order__station_id"], f["order__item__category_id"]): f
        for f in FollowUp.objects.filter(order__received_at__gte=start, order__received_at__lt=end)
        .filter(~Exists(later))
        .order_by()
        .values("order__station_id", "order__item__category_id")
        .annotate(
            follow_ups=Count("id"),
            satisfied=Count("id", filter=Q(satisfaction__in=satisfied_values)),
        )
    }
    now = timezone.now()
    rows = []
    for g in groups:
        f = follow_ups.get((g["station_id"], g["item__category_id"]), {})
        rows.append(
            OrderMonthStat(
                month=start.date(),
                station_id=g["station_id"],
                category_id=g["item__category_id"],
                received=g["received"],
                completed=g["completed"],
                cancelled=g["cancelled"],
                arrivals=g["arrivals"],
                arrivals_in_target=g["in_target"],
                arrival_seconds=g["seconds"] or 0,
                dispatched=g["dispatched"],
                taken_in_target=g["taken_in_target"],
                arrivals_unreported=g["arrivals_unreported"],
                follow_ups=f.get("follow_ups", 0),
                satisfied=f.get("satisfied", 0),
                refreshed_at=now,
            )
        )
    OrderMonthStat.objects.filter(month=start.date()).delete()
    OrderMonthStat.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
