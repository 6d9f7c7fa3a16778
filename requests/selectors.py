"""Reads for the hotline, scoped through center.roles."""

import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from center.models import Station
from center.roles import ALL, scope_by_station, station_ids_for
from center.validators import digits_of
from volunteers.models import Volunteer

from .models import OrderEvent, OrderOffer, Resident, ResidentContact, ResidentPhone, ServiceRequest

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
            "item__category", "station", "resident", "volunteer", "merchant", "team"
        ).order_by("-received_at", "-id"),
        user,
    )


def get_order_for_user(*, user, pk: int) -> ServiceRequest:
    try:
        return order_list(user=user).select_related("community", "item__specialty").get(pk=pk)
    except ServiceRequest.DoesNotExist as exc:
        raise Http404 from exc


def order_detail_context(*, user, order: ServiceRequest) -> dict:
    """The order page's timeline, offers and the resident's numbers. ``order``
    comes from ``get_order_for_user``; ``user`` is the reader (for the log of
    the numbers shown, written by the view through ``center.pii``)."""
    return {
        "events": list(
            OrderEvent.objects.filter(order=order).select_related("actor").order_by("at", "id")
        ),
        "offers": list(order.offers.select_related("volunteer").order_by("ring", "minutes")),
        "follow_ups": list(order.follow_ups.select_related("operator")),
        "phones": list(order.resident.phones.all()),
        "contacts": list(order.resident.contacts.all()),
    }


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
        .select_related("item", "resident", "volunteer", "merchant", "team", "station")
        .order_by("completed_at", "id")
    )


# --- The console ------------------------------------------------------------------------


def console_lookup(*, user, phone: str, limit: int = 10) -> list[Resident]:
    """Residents the user may see whose phone starts with the digits typed (3
    or more), each with its open and recent orders: three queries whatever the
    match count."""
    digits = digits_of(phone)
    if len(digits) < 3:
        return []
    ids = list(
        ResidentPhone.objects.filter(
            number__startswith=digits, resident__in=resident_list(user=user)
        )
        .order_by("resident_id")
        .values_list("resident_id", flat=True)
        .distinct()[:limit]
    )
    residents = list(
        Resident.objects.filter(pk__in=ids)
        .select_related("community__parent")
        .prefetch_related(Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk")))
    )
    recent = (
        ServiceRequest.objects.filter(resident_id__in=ids)
        .select_related("item", "volunteer", "merchant", "team")
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
    has taken yet, with the resident's profile and contacts."""
    since = timezone.now() - datetime.timedelta(minutes=minutes)
    return list(
        order_list(user=user)
        .filter(
            channel="device",
            received_at__gte=since,
            status__in=[Status.RECEIVED, Status.DISPATCHED],
        )
        .select_related(None)
        .select_related("resident", "station")
        .prefetch_related(
            Prefetch("resident__contacts", queryset=ResidentContact.objects.order_by("pk")),
            Prefetch("resident__phones", queryset=ResidentPhone.objects.order_by("pk")),
        )
        .order_by("-received_at")[:10]
    )


# --- The volunteer's side -------------------------------------------------------------------


def my_volunteer(user) -> Volunteer | None:
    return (
        Volunteer.objects.filter(user=user).select_related("station").first()
        if user.is_authenticated
        else None
    )


def offers_for(*, volunteer: Volunteer) -> list[OrderOffer]:
    return list(
        OrderOffer.objects.filter(
            volunteer=volunteer, status=OrderOffer.Status.OFFERED, order__status=Status.DISPATCHED
        )
        .select_related("order__item", "order__community")
        .order_by("-offered_at")[:20]
    )


def orders_of(*, volunteer: Volunteer) -> list[ServiceRequest]:
    return list(
        ServiceRequest.objects.filter(volunteer=volunteer)
        .select_related("item", "resident")
        .order_by("-received_at")[:30]
    )


def get_my_order(*, volunteer: Volunteer, pk: int) -> ServiceRequest:
    try:
        return ServiceRequest.objects.select_related("item", "resident").get(
            pk=pk, volunteer=volunteer
        )
    except ServiceRequest.DoesNotExist as exc:
        raise Http404 from exc


# --- One-key devices ----------------------------------------------------------------


def hash_secret(secret: str) -> str:
    """How a device secret is stored and compared (SHA-256 of a random token)."""
    return hashlib.sha256(secret.encode()).hexdigest()
