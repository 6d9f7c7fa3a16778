"""Reads for the hotline, scoped through center.roles."""

import datetime
import hashlib
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, Exists, F, Min, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Right
from django.http import Http404
from django.utils import timezone

from center.models import Area, ServiceItem, Station
from center.roles import ALL, scope_by_station, station_ids_for
from center.validators import digits_of, nfkc, normalize_phone
from volunteers.models import Provider
from volunteers.services.hours import hours_between

from ..models import (
    OrderEvent,
    OrderMonthStat,
    OrderOffer,
    Resident,
    ResidentContact,
    ResidentPhone,
    ServiceRequest,
)

Status = ServiceRequest.Status


# --- Red / yellow flags -----------------------------------------------------------------


def flag(order: ServiceRequest, now: datetime.datetime | None = None) -> str | None:
    """'red' past the limit, 'yellow' near it (settings ORDER_LIMIT_MINUTES), for open orders."""
    if not order.is_open:
        return None
    now = now or timezone.now()
    yellow, red = settings.LIANXIN["ORDER_LIMIT_MINUTES"][order.urgency]
    age = (now - order.received_at).total_seconds() / 60
    if age >= red:
        return "red"
    if age >= yellow or order.urge_count:
        return "yellow"
    return None


def overdue_q(level: str, now: datetime.datetime | None = None) -> Q:
    """Open orders flagged ``level`` ('red', or 'yellow' meaning yellow or red); index order_urgency_open serves it."""
    now = now or timezone.now()
    q = Q()
    for urgency, (yellow, red) in settings.LIANXIN["ORDER_LIMIT_MINUTES"].items():
        limit = red if level == "red" else yellow
        q |= Q(urgency=urgency, received_at__lte=now - datetime.timedelta(minutes=limit))
    if level != "red":
        q |= Q(urge_count__gt=0)
    return Q(status__in=ServiceRequest.OPEN) & q


# --- Orders ---------------------------------------------------------------------------------


def order_list(*, user) -> QuerySet[ServiceRequest]:
    return scope_by_station(
        ServiceRequest.objects.select_related(
            "item__category", "station", "resident", "provider"
        ).order_by("-received_at", "-id"),
        user,
    )


# What a row of the orders list shows (requests/_order_results.html, flag()).
ORDER_ROW_FIELDS = (
    "number",
    "received_at",
    "status",
    "urgency",
    "urge_count",
    "repeat_calls",
    "item",
    "resident",
    "station",
    "provider",
)


def order_rows(*, user) -> QuerySet[ServiceRequest]:
    """The orders list: ``order_list`` without its joins and with only the
    columns its rows show; ``with_row_relations`` then attaches the names.
    At city size the five-table join and its model instances cost ~7 ms a
    page; the page's rows alone cost 0.6 ms and four small lookups ~1.5 ms."""
    return order_list(user=user).select_related(None).only(*ORDER_ROW_FIELDS)


def with_row_relations(orders: list[ServiceRequest]) -> list[ServiceRequest]:
    """Attach to a page of ``order_rows`` its items (with category), stations,
    residents and providers: three lookups by primary key whatever the
    page's size (the attached items and stations carry their names only)."""
    from django.db.models import CharField

    from center.models import ServiceCategory

    def ids(name: str) -> set[int]:
        return {getattr(o, f"{name}_id") for o in orders if getattr(o, f"{name}_id")}

    if not orders:
        return orders
    # Items (with their category's name) and stations: small tables, one
    # UNION ALL of names for both.
    tag = {"output_field": CharField()}
    item_names = (
        ServiceItem.objects.filter(pk__in=ids("item"))
        .order_by()
        .values_list(Value("i", **tag), "pk", "name", "category__name")
    )
    station_names = (
        Station.objects.filter(pk__in=ids("station"))
        .order_by()
        .values_list(Value("s", **tag), "pk", "name", Value("", **tag))
    )
    items, stations = {}, {}
    for kind, pk, name, category in item_names.union(station_names, all=True):
        if kind == "i":
            items[pk] = ServiceItem(pk=pk, name=name, category=ServiceCategory(name=category))
        else:
            stations[pk] = Station(pk=pk, name=name)
    residents = Resident.objects.only("name").in_bulk(ids("resident"))
    providers = Provider.objects.only("name", "kind").in_bulk(ids("provider"))
    for o in orders:
        o.item = items.get(o.item_id)
        o.station = stations.get(o.station_id)
        o.resident = residents.get(o.resident_id)
        o.provider = providers.get(o.provider_id) if o.provider_id else None
    return orders


def get_order_for_user(*, user, pk: int) -> ServiceRequest:
    try:
        return order_list(user=user).select_related("community", "item__specialty").get(pk=pk)
    except ServiceRequest.DoesNotExist as exc:
        raise Http404 from exc


def order_detail_context(*, user, order: ServiceRequest) -> dict:
    """The order page's timeline, offers and the resident's numbers. ``order``
    comes from ``get_order_for_user``; ``user`` is the reader (for the log of
    the numbers shown, written by the view through ``center.pii``)."""
    offers = list(
        order.offers.select_related("provider").order_by("round", "ring", "minutes", "pk")
    )
    # A follow-up call exists only once the order was completed: it then stays
    # completed or archived, or is reopened into a new round. Others skip the query.
    followed = order.status in (ServiceRequest.Status.COMPLETED, ServiceRequest.Status.ARCHIVED)
    return {
        "events": list(
            OrderEvent.objects.filter(order=order).select_related("actor").order_by("at", "id")
        ),
        "offers": offers,
        "returned_by": returned_by(order, offers),  # from the offers just read
        "follow_ups": (
            list(order.follow_ups.select_related("operator"))
            if followed or order.dispatch_round
            else []
        ),
        "phones": list(order.resident.phones.all()),
        "contacts": list(order.resident.contacts.all()),
    }


def find_mergeable(*, resident: Resident, item: ServiceItem) -> ServiceRequest | None:
    """An open order of the same resident for the same item: a repeat call (并单)."""
    return (
        ServiceRequest.objects.filter(resident=resident, item=item, status__in=ServiceRequest.OPEN)
        .order_by("-received_at")
        .first()
    )


def suggest_station(community: Area | None) -> Station | None:
    """The station a new order (or resident) of ``community`` goes to: its
    active branch station, else any active station serving it, else the
    center (``None`` only when no center exists)."""
    if community is not None:
        station = (
            Station.objects.filter(communities=community, is_active=True, kind=Station.Kind.BRANCH)
            .order_by("code")
            .first()
            or Station.objects.filter(communities=community, is_active=True)
            .order_by("code")
            .first()
        )
        if station:
            return station
    return Station.objects.filter(kind=Station.Kind.CENTER).order_by("pk").first()


def returned_by(order: ServiceRequest, offers: list[OrderOffer] | None = None) -> list[int]:
    """Provider ids who returned this order (退单) in any round: never offered,
    assigned or shown it again. From ``offers`` (all the order's offers,
    already read by the page) when given, else one query."""
    if offers is not None:
        return [o.provider_id for o in offers if o.status == OrderOffer.Status.RETURNED]
    return list(
        order.offers.filter(status=OrderOffer.Status.RETURNED).values_list("provider_id", flat=True)
    )


def stale_offers(now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """(order id, ring) of offered orders whose ring's time is up
    (``OFFER_TIMEOUT_SECONDS`` per urgency), at most 500 per urgency a call:
    the per-minute sweep widens them (index order_offer_sweep)."""
    now = now or timezone.now()
    due = []
    for urgency, seconds in settings.LIANXIN["OFFER_TIMEOUT_SECONDS"].items():
        due += list(
            ServiceRequest.objects.filter(
                status=Status.DISPATCHED,
                mode=ServiceRequest.Mode.OFFER,
                urgency=urgency,
                ring_started_at__lte=now - datetime.timedelta(seconds=seconds),
            ).values_list("pk", "offer_ring")[:500]
        )
    return due


def service_hours(order: ServiceRequest) -> Decimal:
    """Hours credited for a completed order: arrival (or taking, if arrival was
    never reported) to completion, rounded up to quarter hours, at least one
    quarter and at most 24 hours."""
    return hours_between(order.arrived_at or order.taken_at, order.completed_at)


# --- Residents -------------------------------------------------------------------------


def resident_list(*, user) -> QuerySet[Resident]:
    """Residents the user may see. Operators and center managers: the whole
    city. A station manager: residents of the communities their stations serve,
    and residents with an order at one of their stations (an operator may have
    routed one there). Subqueries, not joins, so no DISTINCT over residents."""
    ids = station_ids_for(user)
    qs = Resident.objects.all()
    if ids is ALL:
        return qs
    served = Station.communities.through.objects.filter(
        station_id__in=ids, area_id=OuterRef("community_id")
    )
    ordered_here = ServiceRequest.objects.filter(resident_id=OuterRef("pk"), station_id__in=ids)
    return qs.filter(Exists(served) | Exists(ordered_here))


def get_resident_for_user(*, user, pk: int) -> Resident:
    try:
        return resident_list(user=user).select_related("community").get(pk=pk)
    except (Resident.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


PHONE_KINDS = ("phone", "contact", "caller")


def get_phone_for_user(*, user, kind: str, pk: int):
    """The row holding one number the user may reveal: a resident's phone, an
    emergency contact, or an order's caller number (``(row, field)``); 404 outside
    the user's scope."""
    try:
        if kind == "phone":
            row = ResidentPhone.objects.filter(resident__in=resident_list(user=user)).get(pk=pk)
            return row, "number"
        if kind == "contact":
            row = ResidentContact.objects.filter(resident__in=resident_list(user=user)).get(pk=pk)
            return row, "phone"
        if kind == "caller":
            return order_list(user=user).select_related(None).get(pk=pk), "caller_phone"
    except (ObjectDoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc
    raise Http404


def follow_up_queue(*, user) -> QuerySet[ServiceRequest]:
    return (
        scope_by_station(ServiceRequest.objects.filter(status=Status.COMPLETED), user)
        .select_related("item", "resident", "provider", "station")
        # The numbers to call back (masked on the page, one tap to reveal).
        .prefetch_related(
            Prefetch("resident__phones", queryset=ResidentPhone.objects.order_by("pk"))
        )
        .order_by("completed_at", "id")
    )


def residents_with_phones(
    *, user, phones: list[str], intake_key=None, limit: int = 5
) -> list[Resident]:
    """Residents the user may see who already have one of ``phones``: the new-
    resident form warns before registering the same caller twice. A form whose
    ``intake_key`` is already recorded is a repeat post, not a duplicate (the
    service returns the resident it created)."""
    if not phones or (intake_key and Resident.objects.filter(intake_key=intake_key).exists()):
        return []
    holding = ResidentPhone.objects.filter(resident_id=OuterRef("pk"), number__in=phones)
    return list(
        resident_list(user=user)
        .filter(Exists(holding))
        .select_related("community__parent")
        .prefetch_related(Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk")))
        .order_by("pk")[:limit]
    )


# --- Search: one set of functions for the staff pages and the back office -----------
#
# What is typed is matched the way an index can serve it over millions of rows:
# an order number exactly (its unique index), a phone number exactly in its
# stored form (order_caller_phone, residentphone_number_prefix), a name by its
# beginning (resident_name_prefix). Never a case-insensitive or contains match,
# which the admin's default search would run (UPPER(col) = UPPER(q) uses no index).

ORDER_NUMBER_RE = re.compile(r"^GD[0-9]{8,}$")
PHONE_AS_TYPED = re.compile(r"^\+?[0-9][0-9 \-()]{5,}$")


def order_number_as_typed(term: str) -> str:
    """``gd 2026 1127 0000051`` → ``GD202611270000051`` (or "" if it is not one)."""
    number = re.sub(r"\s+", "", nfkc(term)).upper()
    return number if ORDER_NUMBER_RE.match(number) else ""


def phone_as_typed(term: str) -> str:
    """A phone number as people type it ("138 1234 5678", "+86…", "8234 5678")
    in its stored form, or "" if what was typed is not a number."""
    term = nfkc(term)
    return normalize_phone(term) if PHONE_AS_TYPED.match(term) else ""


def order_search(queryset: QuerySet[ServiceRequest], term: str) -> QuerySet[ServiceRequest]:
    """Orders of ``queryset`` matching ``term``: an order number, or a phone
    number that called (``caller_phone``) or belongs to the resident. Anything
    else matches nothing: a scan of five million orders is not a search."""
    if not nfkc(term):
        return queryset
    if number := order_number_as_typed(term):
        return queryset.filter(number=number)
    if phone := phone_as_typed(term):
        # Two index lookups, OR-ed by the planner (BitmapOr): the residents
        # holding the number are few, fetched first.
        holders = list(
            ResidentPhone.objects.filter(number=phone).values_list("resident_id", flat=True)[:100]
        )
        return queryset.filter(Q(caller_phone=phone) | Q(resident_id__in=holders))
    return queryset.none()


def resident_search(queryset: QuerySet[Resident], term: str) -> QuerySet[Resident]:
    """Residents of ``queryset`` with the phone number typed (exact, stored
    form) or whose name starts with what was typed."""
    term = nfkc(term)
    if not term:
        return queryset
    if phone := phone_as_typed(term):
        holders = ResidentPhone.objects.filter(number=phone).values("resident_id")
        return queryset.filter(pk__in=holders)
    return queryset.filter(name__startswith=term)


# --- The console ------------------------------------------------------------------------


TAIL_DIGITS = 4  # the index residentphone_tail4 holds RIGHT(number, 4)


def console_lookup(*, user, phone: str, limit: int = 10) -> list[Resident]:
    """Residents the user may see with a phone that starts with the digits
    typed (3 or more), or ends with them (尾号, 4 or more, as call centers
    search). Numbers that start with the digits come first; each resident
    carries ``match`` ("prefix" or "tail") and its open and recent orders:
    four queries whatever the match count (ranked ids, residents, their phones,
    recent orders) plus two when some match (their special-group memberships
    with the group, their emergency contacts)."""
    digits = digits_of(phone)
    if len(digits) < 3:
        return []
    prefix = Q(number__startswith=digits)  # index residentphone_number_prefix
    matches = prefix
    if len(digits) >= TAIL_DIGITS:
        # RIGHT(number, 4) = … is served by residentphone_tail4; the whole
        # suffix is then checked on those few rows.
        matches |= Q(tail=digits[-TAIL_DIGITS:], number__endswith=digits)
    ranked = list(
        ResidentPhone.objects.annotate(tail=Right("number", TAIL_DIGITS))
        .filter(matches, resident__in=resident_list(user=user))
        .values("resident_id")
        .annotate(rank=Min(Case(When(prefix, then=Value(0)), default=Value(1))))
        .order_by("rank", "resident_id")
        .values_list("resident_id", "rank")[:limit]
    )
    rank = dict(ranked)
    ids = [pk for pk, _rank in ranked]
    from .residents import badges, memberships_prefetch

    residents = sorted(
        Resident.objects.filter(pk__in=ids)
        .select_related("community__parent")
        .prefetch_related(
            Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk")),
            # The special-group mark and the contacts, before the operator
            # speaks (issue 11): one query each, whatever the match count.
            memberships_prefetch(),
            Prefetch("contacts", queryset=ResidentContact.objects.order_by("priority", "pk")),
        ),
        key=lambda r: ids.index(r.pk),
    )
    for r in residents:
        r.match = "prefix" if rank[r.pk] == 0 else "tail"
        r.badges = badges(r.groups.all())
    # Only orders at stations the user may see (another station's order
    # would be a number they cannot open).
    recent = (
        scope_by_station(ServiceRequest.objects.filter(resident_id__in=ids), user)
        .select_related("item")
        # What the results show (number, time, item, status): not the order's
        # ~45 columns, a dozen of them datetimes to parse, for up to 50 orders.
        .only("number", "received_at", "status", "resident", "item__name")
        .order_by("-received_at")[: limit * 5]
    )
    by_resident: dict[int, list[ServiceRequest]] = {}
    for order in recent:
        by_resident.setdefault(order.resident_id, []).append(order)
    for r in residents:
        r.recent_orders = by_resident.get(r.pk, [])
        r.open_orders = [o for o in r.recent_orders if o.is_open]
    return residents


def emergency_alerts(*, user, minutes: int = 30) -> list[ServiceRequest]:
    """Device calls of the last ``minutes`` at the user's stations that nobody
    has taken yet and nobody has acknowledged (``services.alert_acknowledge``),
    with the resident's profile, contacts (in call order) and special groups."""
    from .residents import badges, memberships_prefetch

    since = timezone.now() - datetime.timedelta(minutes=minutes)
    alerts = list(
        order_list(user=user)
        .filter(
            channel="device",
            received_at__gte=since,
            status__in=[Status.RECEIVED, Status.DISPATCHED],
            alert_acknowledged_at__isnull=True,
        )
        .select_related(None)
        .select_related("resident", "station")
        .prefetch_related(
            Prefetch(
                "resident__contacts", queryset=ResidentContact.objects.order_by("priority", "pk")
            ),
            Prefetch("resident__phones", queryset=ResidentPhone.objects.order_by("pk")),
            Prefetch("resident__groups", queryset=memberships_prefetch().queryset),
        )
        .order_by("-received_at")[:10]
    )
    for o in alerts:
        o.resident.badges = badges(o.resident.groups.all())
    return alerts


# --- The volunteer's side -------------------------------------------------------------------


def my_providers(user) -> list[Provider]:
    """Who ``user`` acts for on the phone: their volunteer record, their
    merchant, and the teams they lead (one query)."""
    if not user.is_authenticated:
        return []
    return list(Provider.objects.filter(user=user).select_related("volunteer", "merchant", "team"))


def offers_for(*, providers: list[Provider]) -> list[OrderOffer]:
    return list(
        OrderOffer.objects.filter(
            provider__in=providers,
            status=OrderOffer.Status.OFFERED,
            order__status=Status.DISPATCHED,
        )
        .filter(round=F("order__dispatch_round"))
        .select_related("order__item", "order__community", "provider")
        .order_by("-offered_at")[:20]
    )


def orders_of(*, providers: list[Provider]) -> list[ServiceRequest]:
    return list(
        ServiceRequest.objects.filter(provider__in=providers)
        .select_related("item", "resident", "provider")
        .order_by("-received_at")[:30]
    )


def get_my_order(*, providers: list[Provider], pk: int) -> ServiceRequest:
    """An order held by one of ``providers`` (404 otherwise), with the team's
    members for a team's completion form."""
    try:
        return ServiceRequest.objects.select_related(
            "item", "resident", "provider__volunteer", "provider__merchant", "provider__team"
        ).get(pk=pk, provider__in=providers)
    except (ServiceRequest.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def numbers_for_provider(*, order: ServiceRequest) -> list[str]:
    """The numbers the provider holding ``order`` (from ``get_my_order``) calls
    the resident on, in full as tap-to-call links: the resident's phones and the
    caller's number, only while the order is theirs and under way (taken →
    arrived); none before they take it or once it is completed."""
    if not order.provider_id or not order.can_complete:
        return []
    numbers = list(order.resident.phones.order_by("pk").values_list("number", flat=True))
    if order.caller_phone and order.caller_phone not in numbers:
        numbers.append(order.caller_phone)
    return numbers


def get_offered_order(*, providers: list[Provider], pk: int) -> tuple[ServiceRequest, Provider]:
    """An order offered in its current round to one of ``providers``, and to which."""
    offer = (
        OrderOffer.objects.filter(order_id=pk, provider__in=providers)
        .filter(round=F("order__dispatch_round"))
        .select_related("order", "provider")
        .order_by("-pk")
        .first()
    )
    if offer is None:
        raise Http404
    return offer.order, offer.provider


# --- One-key devices ----------------------------------------------------------------


def hash_secret(secret: str) -> str:
    """How a device secret is stored and compared (SHA-256 of a random token)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def month_stats(*, user, month: datetime.date) -> QuerySet:
    """The monthly figures (``OrderMonthStat``) of the stations ``user`` may
    see, for ``month``, as plain rows with the station's and category's names:
    up to ~9,000 rows for the whole city (1,153 stations × 8 categories),
    read from the summary table rather than aggregated from the month's
    ~100,000 orders; a report sums them by district, branch or category."""
    return (
        scope_by_station(OrderMonthStat.objects.filter(month=month.replace(day=1)), user)
        .order_by("station__code", "category__sort_order")
        .values(
            "station_id",
            "station__name",
            "category_id",
            "category__name",
            "received",
            "completed",
            "cancelled",
            "arrivals",
            "arrivals_in_target",
            "arrival_seconds",
        )
    )
