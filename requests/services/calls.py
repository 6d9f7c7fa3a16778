"""The call log (every call the hotline handles, apart from orders) and the
needs no catalogue item matches (issue 14, part A).

How each call is logged exactly once (docs/metrics.md, "Calls"):

- **order**: a hotline order (``order_create`` with ``channel="hotline"``)
  logs the call that made it inside ``order_create``, in the same
  transaction; the operator does not log it again. A replayed form (same
  intake key) returns the order already recorded and logs nothing.
  One-key device calls, walk-ins, web and care-visit orders are not hotline
  calls and log none.
- **repeat**: a resident ringing again about an order. At the order form the
  repeat call is merged into the open order (并单, ``order_merge`` by a
  staff member) and logged there; at the console's call panel it is logged
  by ``console_call_record``, which urges the order (催办, ``order_urge`` with
  ``call=...``, one transaction) when the operator ticks "urge". The order
  page's own Urge button is staff chasing an order (the overdue list), not a
  call: it logs none. A device calling again (``device_call``) logs none.
- **enquiry** and **complaint**: logged at the console's call panel
  (``console_call_record``), optionally with a need no catalogue item
  matches, kept as an ``UnmatchedRequest`` of the call.

Both writes are here only: ``call_record`` and ``unmatched_record``.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import audit
from center.masking import mask_mobile
from center.models import Area, ServiceCategory, Station, User
from center.roles import ALL, station_ids_for
from center.validators import normalize_phone, validate_phone

from .. import selectors
from ..models import CallLog, Resident, ServiceRequest, UnmatchedRequest, unmatched_words

Kind = CallLog.Kind
# A call longer than this is a typing slip (hh:mm taken for mm:ss), not a call.
MAX_DURATION_SECONDS = 4 * 3600
# The kinds that are about one order and cannot be logged without it.
NEEDS_ORDER = (Kind.ORDER, Kind.REPEAT)


def _station_of(
    *, actor: User | None, order: ServiceRequest | None, resident: Resident | None
) -> int | None:
    """Where a call counts: the order's station; else the station a new order
    of the resident's community would go to (``selectors.suggest_station``,
    as ``order_create`` picks it); else none (counted city-wide only).

    A station manager's call never counts at another station: when the
    resident's community goes to a station outside theirs (or nothing is
    known), it counts at the station they manage (the first, by id). An
    order outside their stations is refused."""
    ids = station_ids_for(actor) if getattr(actor, "pk", None) else ALL
    if order is not None:
        if ids is not ALL and order.station_id not in ids:
            raise ValidationError({"order": _("This order is not one of your stations'.")})
        return order.station_id
    station_id = None
    if resident is not None and resident.community_id:
        station = selectors.suggest_station(resident.community)
        station_id = station.pk if station is not None else None
    if ids is not ALL and station_id not in ids:
        station_id = (
            Station.objects.filter(managers=actor)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
    return station_id


@transaction.atomic
def call_record(
    *,
    actor: User | None,
    kind: str,
    number: str = "",
    resident: Resident | None = None,
    order: ServiceRequest | None = None,
    category: ServiceCategory | None = None,
    duration_seconds: int | None = None,
    note: str = "",
    at: datetime.datetime | None = None,
) -> CallLog:
    """Log one call handled at the hotline. An ``order`` or ``repeat`` call
    names its order; a complaint may name the order it is about. The call
    counts at the order's station (else the resident's community's) and in
    the order's item's category unless ``category`` is given. ``number`` is
    stored normalised (``center.validators.normalize_phone``); the audit
    entry holds it masked. Callers: ``order_create`` (order calls),
    ``order_merge``/``order_urge`` (repeat calls), ``console_call_record``."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose what kind of call this was.")})
    if kind in NEEDS_ORDER and order is None:
        raise ValidationError({"order": _("A new-order call or a repeat call names its order.")})
    number = normalize_phone(number or "")
    if number:
        try:
            validate_phone(number)
        except ValidationError as exc:
            raise ValidationError({"number": exc.messages}) from exc
    if duration_seconds is not None and not 0 <= duration_seconds <= MAX_DURATION_SECONDS:
        raise ValidationError(
            {"duration_seconds": _("A call lasts between 0 seconds and 4 hours.")}
        )
    if order is not None and resident is not None and order.resident_id != resident.pk:
        raise ValidationError({"order": _("This order is not the caller's.")})
    if category is None and order is not None:
        category_id = order.item.category_id
    else:
        category_id = category.pk if category is not None else None
    call = CallLog.objects.create(
        at=at or timezone.now(),
        number=number,
        resident_id=resident.pk if resident is not None else getattr(order, "resident_id", None),
        kind=kind,
        order=order,
        station_id=_station_of(actor=actor, order=order, resident=resident),
        category_id=category_id,
        operator=actor if getattr(actor, "pk", None) else None,
        duration_seconds=duration_seconds,
        note=(note or "").strip(),
    )
    audit(
        actor=actor,
        action="requests.call.recorded",
        target=call,
        data={
            "kind": kind,
            "number": mask_mobile(number),
            **({"order": order.number} if order is not None else {}),
            **({"duration_seconds": duration_seconds} if duration_seconds is not None else {}),
        },
    )
    return call


@transaction.atomic
def unmatched_record(
    *,
    actor: User | None,
    source: str,
    text: str,
    category: ServiceCategory | None = None,
    community: Area | None = None,
    station: Station | None = None,
    call: CallLog | None = None,
    occasion: str = "",
    mentions: int = 1,
    occurred_on: datetime.date | None = None,
) -> UnmatchedRequest:
    """Keep a need that matches no catalogue item, in the caller's words
    (``source="call"``, usually with its ``call``), or a suggestion raised at
    a community talk (社区议事, ``source="talk"``: ``occasion`` names the
    meeting, ``mentions`` how many people raised it). The station is the one
    given, else the community's (as ``order_create`` picks it), else the
    call's. A station manager records talks for their own stations only."""
    Source = UnmatchedRequest.Source
    if source not in Source.values:
        raise ValidationError({"source": _("Say where this need was heard.")})
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError({"text": _("Write down what was asked for, in the caller's words.")})
    if len(text) > 200:
        raise ValidationError({"text": _("Keep it under 200 characters.")})
    if community is not None and community.level != Area.Level.COMMUNITY:
        raise ValidationError({"community": _("Choose a community (社区/村).")})
    if source == Source.TALK:
        if not (occasion or "").strip():
            raise ValidationError({"occasion": _("Name the meeting where it was raised.")})
        if station is None and community is None:
            raise ValidationError({"community": _("Say where the talk was held.")})
    if not 1 <= (mentions or 0) <= 1000:
        raise ValidationError({"mentions": _("Between 1 and 1,000 people.")})
    if source == Source.CALL and mentions != 1:
        raise ValidationError({"mentions": _("A call is one person asking.")})
    if station is None and community is not None:
        station = selectors.suggest_station(community)
    station_id = station.pk if station is not None else (call.station_id if call else None)
    if actor is not None:  # a station manager writes for their own stations only
        ids = station_ids_for(actor)
        if ids is not ALL and station_id not in ids:
            raise ValidationError({"station": _("Choose one of your stations.")})
    if occurred_on is None:
        occurred_on = timezone.localdate(call.at) if call is not None else timezone.localdate()
    row = UnmatchedRequest.objects.create(
        source=source,
        text=text,
        words=unmatched_words(text),
        category=category,
        community=community,
        station_id=station_id,
        call=call,
        occasion=(occasion or "").strip(),
        mentions=mentions,
        occurred_on=occurred_on,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    audit(
        actor=actor,
        action="requests.unmatched.recorded",
        target=row,
        data={"source": source, "mentions": mentions, **({"call": call.pk} if call else {})},
    )
    return row


@transaction.atomic
def console_call_record(
    *,
    actor: User,
    kind: str,
    number: str = "",
    resident: Resident | None = None,
    order: ServiceRequest | None = None,
    category: ServiceCategory | None = None,
    duration_seconds: int | None = None,
    note: str = "",
    urge: bool = False,
    unmatched_text: str = "",
) -> CallLog:
    """The console's call panel: one call and what it led to, in one
    transaction. A repeat call with ``urge`` about an open order urges it
    (``order_urge``, which logs the call); any other call is logged by
    ``call_record``. ``unmatched_text`` (a need no catalogue item matches)
    is kept as an ``UnmatchedRequest`` of the call, in its category. A
    new-order call is never logged here: ``order_create`` logs it."""
    if kind == Kind.ORDER:
        raise ValidationError(
            {"kind": _("A new order logs its call itself: start the order instead.")}
        )
    if kind == Kind.REPEAT and order is None:
        raise ValidationError(
            {"order": _("Choose the order the caller is ringing about, or type its number.")}
        )
    details = {
        "number": number,
        "category": category,
        "duration_seconds": duration_seconds,
        "note": note,
    }
    if kind == Kind.REPEAT and urge and order is not None and order.can_urge:
        from . import order_urge  # the order's services import this module

        order = order_urge(actor=actor, order=order, note=note, call=details)
        call = order.logged_call
    else:
        call = call_record(actor=actor, kind=kind, resident=resident, order=order, **details)
    if unmatched_text.strip():
        unmatched_record(
            actor=actor,
            source=UnmatchedRequest.Source.CALL,
            text=unmatched_text,
            category=category,
            community=resident.community if resident is not None else None,
            station=call.station,
            call=call,
        )
    return call
