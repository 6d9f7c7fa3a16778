"""Who can take an order, and in which order (the ranking explains itself).

Candidates: volunteers who can do the item (listed the item, or have its
specialty), pass the volunteers app's single eligibility check, are on duty or
available now by their weekly hours, and serve the order's area (home station
is the order's station, its parent or its children; or they are within the
dispatch radius). Ranked by estimated travel minutes (straight-line distance at
DISPATCH_SPEED_KMH), then current load, rating and fairness (longest since
their last order first).
"""

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from center.models import Station
from volunteers.availability import is_available
from volunteers.models import Merchant, MerchantOffer, ServiceTeam, Volunteer
from volunteers.selectors import eligible_q

from .models import ServiceRequest

PREFILTER_LIMIT = 300  # nearest-first cap before Python ranking: bounded work per order


@dataclass
class Candidate:
    volunteer: Volunteer
    distance_km: float | None
    minutes: int | None
    load: int
    rating: Decimal
    idle_hours: float
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)


def distance_km(lat1, lng1, lat2, lng2) -> float | None:
    if None in (lat1, lng1, lat2, lng2):
        return None
    lat1, lng1, lat2, lng2 = map(lambda v: math.radians(float(v)), (lat1, lng1, lat2, lng2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def travel_minutes(km: float | None) -> int | None:
    if km is None:
        return None
    return max(1, round(km / settings.LIANXIN["DISPATCH_SPEED_KMH"] * 60))


def area_station_ids(station: Station) -> list[int]:
    ids = {station.pk, *Station.objects.filter(parent_id=station.pk).values_list("pk", flat=True)}
    if station.parent_id:
        ids.add(station.parent_id)
    return list(ids)


def _open_statuses():
    return [
        ServiceRequest.Status.DISPATCHED,
        ServiceRequest.Status.TAKEN,
        ServiceRequest.Status.ON_THE_WAY,
        ServiceRequest.Status.ARRIVED,
    ]


def volunteer_candidates(order: ServiceRequest, *, exclude_ids=(), now=None) -> list[Candidate]:
    now = now or timezone.now()
    conf = settings.LIANXIN
    lat, lng = order.latitude, order.longitude
    area = Q(station_id__in=area_station_ids(order.station))
    if lat is not None and lng is not None:
        # A bounding box an index-friendly filter can use; the exact distance comes later.
        dlat = Decimal(conf["DISPATCH_RADIUS_KM"] / 111.0)
        dlng = Decimal(
            conf["DISPATCH_RADIUS_KM"] / (111.0 * max(math.cos(math.radians(float(lat))), 0.1))
        )
        area |= Q(
            latitude__range=(lat - dlat, lat + dlat), longitude__range=(lng - dlng, lng + dlng)
        )
    qs = (
        Volunteer.objects.filter(eligible_q(timezone.localdate(now)))
        .filter(Q(service_items=order.item) | Q(specialties=order.item.specialty_id))
        .filter(area)
        .exclude(pk__in=list(exclude_ids))
        .distinct()
        .annotate(
            load=Count("orders", filter=Q(orders__status__in=_open_statuses()), distinct=True),
            last_taken=Max("orders__taken_at"),
        )[:PREFILTER_LIMIT]
    )
    # "Available at that time": the preferred time if the caller gave a later one.
    when = order.preferred_time if order.preferred_time and order.preferred_time > now else now
    on_duty_counts = when - now < datetime.timedelta(hours=1)
    local_when = timezone.localtime(when)
    out = []
    for v in qs:
        if not ((v.on_duty and on_duty_counts) or is_available(v.weekly_availability, local_when)):
            continue
        km = distance_km(lat, lng, v.latitude, v.longitude)
        if (
            km is not None
            and km > conf["DISPATCH_RADIUS_KM"]
            and v.station_id not in area_station_ids(order.station)
        ):
            continue
        idle = (now - v.last_taken).total_seconds() / 3600 if v.last_taken else 24 * 30
        out.append(
            Candidate(
                volunteer=v,
                distance_km=km,
                minutes=travel_minutes(km),
                load=v.load,
                rating=v.rating,
                idle_hours=idle,
            )
        )
    for c in out:
        minutes = c.minutes if c.minutes is not None else 30
        # Lower is better: minutes dominate; each open order costs 5 minutes;
        # a full star of rating is worth 3; a day idle is worth 1 (capped at 5).
        c.score = minutes + 5 * c.load - 3 * float(c.rating - 4) - min(c.idle_hours / 24, 5)
    out.sort(key=lambda c: (c.score, c.volunteer.pk))
    return out


def merchant_candidates(order: ServiceRequest) -> list[tuple[Merchant, Decimal]]:
    """Merchants who offer the item at a price and serve the order's area."""
    served = Merchant.stations.through.objects.filter(
        station_id__in=area_station_ids(order.station)
    ).values("merchant_id")
    offers = (
        MerchantOffer.objects.filter(item=order.item, merchant_id__in=served)
        .filter(merchant__in=Merchant.objects.filter(eligible_q()))
        .select_related("merchant")
        .order_by("price", "merchant__name")[:20]
    )
    return [(o.merchant, o.price) for o in offers]


def team_candidates(order: ServiceRequest) -> list[ServiceTeam]:
    return list(
        ServiceTeam.objects.filter(is_active=True, specialty_id=order.item.specialty_id)
        .filter(
            Q(station_id__in=area_station_ids(order.station)) | Q(station__kind=Station.Kind.CENTER)
        )
        .select_related("station", "leader")
        .order_by("name")[:20]
    )
