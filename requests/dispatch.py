"""Who can take an order, and in which order: the ranking is one SQL query.

Candidates are rows of ``volunteers.Provider`` that

- may serve today (the volunteers app's eligibility rule: not suspended or removed),
- can do the item (volunteers: listed the item or have its specialty; merchants:
  offer the item at a price; teams: the item's specialty),
- are on duty, or available at that time by their weekly hours (rows of
  ``AvailabilitySlot``, filtered in the database),
- are not busy at capacity (``open_orders`` below ``PROVIDER_MAX_OPEN_ORDERS``),
- serve the order's area: their home station is the order's station, its parent
  or its children, or they are within ``DISPATCH_RADIUS_KM`` (a bounding box on
  the indexed latitude/longitude first).

The rule, stated once (``RANKING_RULE``, shown on the order page): nearest
first by estimated travel minutes; at equal minutes fewer open orders, then a
higher rating, then the longest since their last order, then the lowest
number. Merchants: travel minutes, then price. The minutes shown are the
minutes sorted on: one SQL expression (``center.geo.PlanarKm``, an
equirectangular distance, exact to well under 1% at city scale) gives both.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Greatest, Round
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.geo import PlanarKm, degree_box, planar_km_sql
from center.models import Station
from volunteers.models import (
    AvailabilitySlot,
    Merchant,
    MerchantOffer,
    Provider,
    ProviderItem,
    Volunteer,
)
from volunteers.selectors import eligible_q

from .models import Pairing, ServiceRequest

RANKING_RULE = _(
    "Nearest first by estimated travel minutes; at equal minutes, fewer open orders, "
    "then higher rating, then longest since their last order."
)
MERCHANT_RULE = _("Nearest first by estimated travel minutes, then lower price.")


@dataclass
class Candidate:
    provider: Provider
    distance_km: float | None
    minutes: int | None
    load: int
    rating: Decimal
    last_taken_at: datetime.datetime | None
    price: Decimal | None = None
    paired: bool = False  # 结对党员: paired with the order's resident (专人管)

    @property
    def volunteer(self) -> Volunteer | None:
        return self.provider.volunteer


def area_station_ids(station: Station) -> list[int]:
    """The order's station, its parent and its children (one query; a page
    showing the three rankings reads it once and passes ``area_ids``)."""
    ids = set(
        Station.objects.filter(Q(pk=station.pk) | Q(parent_id=station.pk)).values_list(
            "pk", flat=True
        )
    )
    if station.parent_id:
        ids.add(station.parent_id)
    return sorted(ids)


def _when(order: ServiceRequest, now: datetime.datetime) -> tuple[datetime.datetime, bool]:
    """The time the provider must be free: the caller's preferred time if later.
    Being on duty counts only within the hour."""
    when = order.preferred_time if order.preferred_time and order.preferred_time > now else now
    return when, when - now < datetime.timedelta(hours=1)


def _available(when: datetime.datetime, on_duty_counts: bool) -> Q:
    local = timezone.localtime(when)
    minute = local.hour * 60 + local.minute
    slot = AvailabilitySlot.objects.filter(
        provider_id=OuterRef("pk"),
        weekday=local.weekday(),
        start_minute__lte=minute,
        end_minute__gt=minute,
    )
    available = Q(Exists(slot))
    return (Q(on_duty=True) | available) if on_duty_counts else available


def _box(order: ServiceRequest, radius_km: float) -> Q | None:
    """The bounding box of the radius around the order (None without coordinates)."""
    if order.latitude is None or order.longitude is None:
        return None
    lat_min, lat_max, lng_min, lng_max = degree_box(
        float(order.latitude), float(order.longitude), radius_km
    )
    return Q(latitude__range=(lat_min, lat_max), longitude__range=(lng_min, lng_max))


def _ranked(qs: QuerySet, order: ServiceRequest, in_area: Q, radius_km: float | None) -> QuerySet:
    """Annotate distance and minutes; keep those in the area, or within the
    radius (``None``: the area alone decides)."""
    if order.latitude is None or order.longitude is None:
        return qs.filter(in_area).annotate(
            km=Value(None, output_field=FloatField()),
            minutes=Value(None, output_field=IntegerField()),
        )
    km = PlanarKm(float(order.latitude), float(order.longitude))
    speed = float(settings.LIANXIN["DISPATCH_SPEED_KMH"])
    minutes = Cast(
        Greatest(Round(F("km") / Value(speed) * Value(60.0)), Value(1.0)),
        output_field=IntegerField(),
    )
    if radius_km is None:
        return qs.filter(in_area).annotate(km=km, minutes=minutes)
    # A bounding box the (kind, latitude, longitude) index serves, then the radius.
    near = _box(order, radius_km)
    return (
        qs.filter(in_area | near)
        .annotate(km=km)
        .filter(in_area | Q(km__lte=radius_km))
        .annotate(minutes=minutes)
    )


def _candidates(rows) -> list[Candidate]:
    return [
        Candidate(
            provider=p,
            distance_km=p.km,
            minutes=p.minutes,
            load=p.open_orders,
            rating=p.rating,
            last_taken_at=p.last_taken_at,
            price=getattr(p, "price", None),
            paired=getattr(p, "paired", False),
        )
        for p in rows
    ]


def _in(values) -> tuple[str, list]:
    values = list(values)
    return ", ".join(["%s"] * len(values)), values


def _eligible_sql(today: datetime.date) -> tuple[str, list]:
    """The volunteers app's one eligibility rule (``eligible_q``) as SQL on the provider table."""
    query = Provider.objects.filter(eligible_q(today)).query
    compiler = query.get_compiler(connection=connection)
    sql, params = query.where.as_sql(compiler, connection)
    return sql, list(params)


def _volunteer_sql(order, *, area_ids, exclude_ids, when, on_duty_counts, today, limit):
    """The volunteer ranking as one parameterised SQL statement (PostgreSQL and
    SQLite). Written by hand because building and compiling the same query
    with the ORM cost two thirds of a ranking's time at city size
    (docs/performance.md); the eligibility rule is still the volunteers app's,
    compiled from ``eligible_q``."""
    conf = settings.LIANXIN
    provider, skills, slots = (
        Provider._meta.db_table,
        ProviderItem._meta.db_table,
        AvailabilitySlot._meta.db_table,
    )
    area, area_params = _in(area_ids)
    eligible, eligible_params = _eligible_sql(today)
    local = timezone.localtime(when)
    minute = local.hour * 60 + local.minute
    radius = float(conf["DISPATCH_RADIUS_KM"])
    box = _box(order, radius)
    where, params = [], []
    # Who can do the item: its ProviderItem rows at the area's stations, and in the box.
    can_do = f"SELECT provider_id FROM {skills} WHERE item_id = %s AND station_id IN ({area})"
    can_do_params = [order.item_id, *area_params]
    if box is not None:
        lat, lng = float(order.latitude), float(order.longitude)
        box_sql = "latitude BETWEEN %s AND %s AND longitude BETWEEN %s AND %s"
        box_params = list(degree_box(lat, lng, radius))
        can_do += f" UNION SELECT provider_id FROM {skills} WHERE item_id = %s AND {box_sql}"
        can_do_params += [order.item_id, *box_params]
        km, km_params = planar_km_sql(lat, lng)
        where.append(f"(station_id IN ({area}) OR ({box_sql}))")
        params += [*area_params, *box_params]
    else:
        km, km_params = "NULL", []
        where.append(f"station_id IN ({area})")
        params += area_params
    available = (
        f"EXISTS (SELECT 1 FROM {slots} s WHERE s.provider_id = {provider}.id"
        " AND s.weekday = %s AND s.start_minute <= %s AND s.end_minute > %s)"
    )
    available_params = [local.weekday(), minute, minute]
    if on_duty_counts:
        available = f"({provider}.on_duty = %s OR {available})"
        available_params = [True, *available_params]
    where = [
        f"{provider}.kind = %s",
        f"{provider}.id IN ({can_do})",
        f"({eligible})",
        available,
        f"{provider}.open_orders < %s",
        *where,
    ]
    params = [
        Provider.Kind.VOLUNTEER,
        *can_do_params,
        *eligible_params,
        *available_params,
        conf["PROVIDER_MAX_OPEN_ORDERS"],
        *params,
    ]
    if exclude_ids:
        excluded, excluded_params = _in(exclude_ids)
        where.append(f"{provider}.id NOT IN ({excluded})")
        params += excluded_params
    speed = float(conf["DISPATCH_SPEED_KMH"])
    rounded = "ROUND(CAST(km / %s * 60.0 AS NUMERIC))"
    sql = (
        "SELECT id, km, CAST(CASE WHEN "
        + rounded
        + " < 1 THEN 1 ELSE "
        + rounded
        + " END AS INTEGER) AS minutes FROM ("
        f"SELECT {provider}.id AS id, {provider}.station_id AS station_id,"
        f" {provider}.open_orders AS open_orders, {provider}.rating AS rating,"
        f" {provider}.last_taken_at AS last_taken_at, {km} AS km"
        f" FROM {provider} WHERE " + " AND ".join(where) + ") c"
        f" WHERE (c.station_id IN ({area}) OR c.km <= %s)"
        " ORDER BY minutes ASC NULLS LAST, c.open_orders ASC, c.rating DESC,"
        " c.last_taken_at ASC NULLS FIRST, c.id ASC LIMIT %s"
    )
    return sql, [speed, speed, *km_params, *params, *area_params, radius, limit]


def volunteer_candidates(
    order: ServiceRequest, *, exclude_ids=(), now=None, limit: int = 50, area_ids=None
) -> list[Candidate]:
    """The volunteers to offer ``order`` to, best first (``RANKING_RULE``).
    Three queries whatever the number of volunteers (the area's stations, the
    ranking, the ranked rows); ``exclude_ids`` are provider ids."""
    now = now or timezone.now()
    when, on_duty_counts = _when(order, now)
    sql, params = _volunteer_sql(
        order,
        area_ids=area_ids if area_ids is not None else area_station_ids(order.station),
        exclude_ids=list(exclude_ids),
        when=when,
        on_duty_counts=on_duty_counts,
        today=timezone.localdate(now),
        limit=limit,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ranked = cursor.fetchall()
    # The ranked rows carry whether each is paired with the resident (the
    # order page marks 结对党员): an EXISTS in the same query, no query more.
    rows = (
        Provider.objects.select_related("volunteer")
        .annotate(paired=Exists(_pairings(order).filter(volunteer_id=OuterRef("volunteer_id"))))
        .in_bulk([pk for pk, _km, _m in ranked])
    )
    for pk, km, minutes in ranked:
        rows[pk].km, rows[pk].minutes = km, minutes
    return _candidates(rows[pk] for pk, _km, _m in ranked)


def _pairings(order: ServiceRequest) -> QuerySet[Pairing]:
    return Pairing.objects.filter(resident_id=order.resident_id, ended_on__isnull=True)


def paired_candidates(order: ServiceRequest, *, exclude_ids=(), now=None) -> list[Candidate]:
    """专人管: the volunteers paired with the order's resident who may be
    dispatched now (the eligibility rule, not excluded or returned, below the
    open-orders cap) and have a login, nearest first. Offered the order
    before the ranking (``services.order_offer``); neither the item nor the
    weekly hours are asked: the paired member is the resident's named person
    and says yes or no. One query (the resident's pairings index)."""
    now = now or timezone.now()
    qs = (
        Provider.objects.filter(
            kind=Provider.Kind.VOLUNTEER,
            volunteer_id__in=_pairings(order).values("volunteer_id"),
            user__isnull=False,  # told on the phone, they can say yes
        )
        .filter(eligible_q(timezone.localdate(now)))
        .filter(open_orders__lt=settings.LIANXIN["PROVIDER_MAX_OPEN_ORDERS"])
        .exclude(pk__in=list(exclude_ids))
    )
    qs = _ranked(qs, order, Q(), None).select_related("volunteer")
    size = settings.LIANXIN["OFFER_SIZE"]
    rows = list(qs.order_by(F("minutes").asc(nulls_last=True), "pk")[:size])
    for p in rows:
        p.paired = True
    return _candidates(rows)


def merchant_candidates(
    order: ServiceRequest, *, exclude_ids=(), now=None, limit: int = 20, area_ids=None
) -> list[Candidate]:
    """Merchants who offer the item at a price, serve the order's area (or are
    within the radius), are open then and not at capacity: nearest, then cheapest."""
    now = now or timezone.now()
    conf = settings.LIANXIN
    when, _on_duty_counts = _when(order, now)
    if area_ids is None:
        area_ids = area_station_ids(order.station)
    price = MerchantOffer.objects.filter(
        merchant_id=OuterRef("merchant_id"), item_id=order.item_id
    ).values("price")[:1]
    served = Merchant.stations.through.objects.filter(station_id__in=area_ids).values("merchant_id")
    qs = (
        # merchant_id IS NOT NULL (true of every merchant row) bounds a scan of the
        # merchant_id index: its NULLs, one per volunteer, sort last.
        Provider.objects.filter(kind=Provider.Kind.MERCHANT, merchant__isnull=False)
        .filter(eligible_q(timezone.localdate(now)))
        .filter(
            merchant_id__in=MerchantOffer.objects.filter(item_id=order.item_id).values(
                "merchant_id"
            )
        )
        .filter(open_orders__lt=conf["PROVIDER_MAX_OPEN_ORDERS"])
        .exclude(pk__in=list(exclude_ids))
        .annotate(price=Subquery(price))
    )
    # Merchants are "in the area" by the stations they serve, not a home station.
    qs = _ranked(qs, order, Q(merchant_id__in=served), conf["DISPATCH_RADIUS_KM"])
    return _candidates(
        qs.select_related("merchant").order_by(F("minutes").asc(nulls_last=True), "price", "pk")[
            :limit
        ]
    )


def team_candidates(
    order: ServiceRequest, *, exclude_ids=(), limit: int = 20, area_ids=None
) -> list[Candidate]:
    """Active teams of the item's specialty at the order's area or the center,
    with a leader to take it: nearest (by their station) first."""
    if not order.item.specialty_id:
        return []
    if area_ids is None:
        area_ids = area_station_ids(order.station)
    qs = (
        Provider.objects.filter(kind=Provider.Kind.TEAM, on_duty=True, user__isnull=False)
        .filter(eligible_q())  # the leader's sanction is the team's (Provider.fields_from)
        .filter(team__specialty_id=order.item.specialty_id)
        .filter(Q(station_id__in=area_ids) | Q(station__kind=Station.Kind.CENTER))
        .filter(open_orders__lt=settings.LIANXIN["PROVIDER_MAX_OPEN_ORDERS"])
        .exclude(pk__in=list(exclude_ids))
    )
    # Teams set out from their station, city-wide: the area alone decides.
    qs = _ranked(qs, order, Q(), None).select_related("team__leader")
    return _candidates(qs.order_by(F("minutes").asc(nulls_last=True), "open_orders", "pk")[:limit])
