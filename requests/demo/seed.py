"""Demo data for the hotline: residents with phones and contacts, one-key
devices, and months of orders in every state, written in bulk.
Deterministic and idempotent (it runs once: it checks for its own residents)."""

import datetime
import random
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from faker import Faker

from center.models import Area, ServiceItem, Station, User
from requests.models import (
    Device,
    FollowUp,
    OrderEvent,
    Resident,
    ResidentContact,
    ResidentPhone,
    ServiceRequest,
)
from requests.selectors import hash_secret
from volunteers.models import Provider, Volunteer

S = ServiceRequest.Status
DEMO_DEVICE_SECRET = "demo-device-secret"  # documented in docs/devices.md for trying the endpoint


TODAY_STAGES = (S.RECEIVED, S.DISPATCHED, S.TAKEN, S.ARRIVED, S.COMPLETED, S.ARCHIVED)
# A resident's free-text notes, as operators see them: never a health or
# disability fact (those are sensitive and consented: the "registry" demo part
# writes them into ResidentSensitive through the services).
NOTES = ("", "", "", "独居老人", "住六楼，无电梯", "来电无人接听时请联系女儿")


@transaction.atomic
def seed_requests(rng: random.Random) -> None:
    if Resident.objects.exists():
        return
    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(1 << 30))
    days, per_day = settings.LIANXIN["DEMO_ORDER_DAYS"], settings.LIANXIN["DEMO_ORDERS_PER_DAY"]
    communities = list(
        Area.objects.filter(level=Area.Level.COMMUNITY).select_related("parent").order_by("code")
    )
    station_of = {}
    for link in Station.communities.through.objects.filter(
        station__kind=Station.Kind.BRANCH
    ).values("area_id", "station_id"):
        station_of[link["area_id"]] = link["station_id"]
    stations = {s.pk: s for s in Station.objects.filter(pk__in=set(station_of.values()))}
    # Most demo activity at the demo station's communities, so its manager sees a busy day.
    home = [
        c
        for c in communities
        if station_of.get(c.pk) == Station.objects.get(code="BR-330402001").pk
    ]

    n_residents = max(per_day * 10, 200)
    residents = []
    for i in range(n_residents):
        c = rng.choice(home) if i % 3 == 0 else rng.choice(communities)
        s = stations[station_of[c.pk]]
        residents.append(
            Resident(
                name=fake.name(),
                community=c,
                address=f"{c.parent.parent.name}{c.parent.name}{c.name}{rng.randint(1, 40)}幢{rng.randint(1, 6)}0{rng.randint(1, 4)}室",
                latitude=s.latitude + Decimal(f"{rng.uniform(-0.01, 0.01):.6f}"),
                longitude=s.longitude + Decimal(f"{rng.uniform(-0.01, 0.01):.6f}"),
                is_free=rng.random() < 0.12,
                notes=rng.choice(NOTES),
            )
        )
    residents = Resident.objects.bulk_create(residents, batch_size=1000)
    numbers = rng.sample(range(10**8), n_residents + 200)
    phones = [
        ResidentPhone(resident=r, number=f"13{rng.randint(0, 9)}{numbers[i]:08d}", label="本人")
        for i, r in enumerate(residents)
    ]
    phones += [
        ResidentPhone(
            resident=r, number=f"0573{8200_0000 + numbers[-1 - i] % 10**7:08d}", label="座机"
        )
        for i, r in enumerate(residents[:200])
    ]
    ResidentPhone.objects.bulk_create(phones, batch_size=2000)
    ResidentContact.objects.bulk_create(
        [
            ResidentContact(
                resident=r,
                name=fake.name(),
                relation=rng.choice(["儿子", "女儿", "社区网格员", "邻居"]),
                phone=f"139{rng.randrange(10**8):08d}",
            )
            for r in residents[:300]
        ]
    )
    Device.objects.bulk_create(
        [
            Device(
                device_id=f"YJT-{i:04d}", secret_hash=hash_secret(DEMO_DEVICE_SECRET), resident=r
            )
            for i, r in enumerate([r for r in residents if r.notes == "独居老人"][:40], start=1)
        ]
    )

    items = list(ServiceItem.objects.filter(is_active=True).order_by("code"))
    weights = [5 if i.category.code in {"appliance", "plumbing", "eldercare"} else 1 for i in items]
    volunteers_by_station: dict[int, list[int]] = {}
    for pk, sid in Provider.objects.filter(kind="volunteer", status="active").values_list(
        "pk", "station_id"
    ):
        volunteers_by_station.setdefault(sid, []).append(pk)
    any_volunteers = [pk for pks in volunteers_by_station.values() for pk in pks]
    operator = User.objects.filter(username="operator").first()

    now = timezone.now()
    orders, plans = [], []
    recent = 0
    for day in range(days, -1, -1):
        for _ in range(per_day if day else per_day // 3):
            r = rng.choice(residents)
            item = rng.choices(items, weights)[0]
            received = now - datetime.timedelta(
                days=day, minutes=rng.randint(0 if day else 1, 1439 if day else 300)
            )
            age_min = (now - received).total_seconds() / 60
            station_id = station_of[r.community_id]
            v = rng.choice(volunteers_by_station.get(station_id) or any_volunteers)
            response, arrival, service = (
                rng.randint(40, 420),
                rng.randint(240, 900),
                rng.randint(15, 120) * 60,
            )
            if age_min > 60 * 24:
                status = rng.choices([S.ARCHIVED, S.CANCELLED], [96, 4])[0]
            else:
                # Today's orders cycle through every stage, so the dashboards
                # show each one whatever the demo's size.
                status = TODAY_STAGES[recent % len(TODAY_STAGES)]
                recent += 1
            o = ServiceRequest(
                number=f"DEMO{len(orders):010d}",
                channel=rng.choices(["hotline", "walk_in", "web", "device"], [85, 6, 6, 3])[0],
                urgency=rng.choices(["normal", "urgent", "emergency"], [85, 12, 3])[0],
                status=status,
                resident=r,
                item=item,
                description=rng.choice(["", "尽快上门", "下午在家", "老人独居，请耐心"]),
                address=r.address,
                community_id=r.community_id,
                station_id=station_id,
                latitude=r.latitude,
                longitude=r.longitude,
                quoted_price=item.center_price,
                fee_waived=r.is_free,
                received_at=received,
                created_by=operator,
            )
            steps = {
                S.RECEIVED: 0,
                S.DISPATCHED: 1,
                S.TAKEN: 2,
                S.ARRIVED: 3,
                S.COMPLETED: 4,
                S.ARCHIVED: 5,
                S.CANCELLED: 0,
            }[status]
            if steps >= 1:
                o.mode, o.dispatched_at = "offer", received + datetime.timedelta(seconds=20)
                o.offer_ring, o.ring_started_at = (
                    1,
                    o.dispatched_at if status == S.DISPATCHED else None,
                )
            if steps >= 2:
                o.provider_id, o.taken_at, o.response_seconds = (
                    v,
                    received + datetime.timedelta(seconds=response),
                    response,
                )
            if steps >= 3:
                o.arrived_at, o.arrival_seconds = (
                    o.taken_at + datetime.timedelta(seconds=arrival),
                    arrival,
                )
            if steps >= 4:
                o.completed_at = o.arrived_at + datetime.timedelta(seconds=service)
                o.fee_charged, o.work_notes = o.price_due, "已处理，向居民说明了使用方法"
            if steps >= 5:
                o.followed_up_at = o.archived_at = min(
                    o.completed_at + datetime.timedelta(hours=rng.randint(2, 30)),
                    now,  # never in the future
                )
            if status == S.CANCELLED:
                o.cancelled_at = received + datetime.timedelta(minutes=5)
            orders.append(o)
            plans.append(steps)
    orders = ServiceRequest.objects.bulk_create(orders, batch_size=2000)
    for o in orders:
        o.number = f"GD{timezone.localdate(o.received_at):%Y%m%d}{o.pk:07d}"
    ServiceRequest.objects.bulk_update(orders, ["number"], batch_size=2000)

    verbs = ["received", "offered", "taken", "arrived", "completed", "followed_up"]
    events, follow_ups = [], []
    for o, steps in zip(orders, plans, strict=True):
        for verb in verbs[: steps + 1]:
            events.append(
                OrderEvent(
                    order=o,
                    action=f"requests.order.{verb}",
                    actor=operator if verb in {"received", "followed_up"} else None,
                )
            )
        if o.status == S.CANCELLED:
            events.append(
                OrderEvent(order=o, action="requests.order.cancelled", note="居民已自行解决")
            )
        if steps >= 5:
            sat = rng.choices(["satisfied", "basically", "unsatisfied"], [90, 8, 2])[0]
            follow_ups.append(
                FollowUp(
                    order=o,
                    provider_id=o.provider_id,
                    operator=operator,
                    satisfaction=sat,
                    score={"satisfied": 5, "basically": 4, "unsatisfied": 2}[sat],
                )
            )
    OrderEvent.objects.bulk_create(events, batch_size=5000)
    follow_ups = FollowUp.objects.bulk_create(follow_ups, batch_size=5000)
    # A follow-up's time is the call's (``at`` is stamped on creation).
    for f in follow_ups:
        f.at = f.order.followed_up_at
    FollowUp.objects.bulk_update(follow_ups, ["at"], batch_size=5000)
    # The monthly figures of every month seeded, as the refresh task keeps
    # the current and last month's (dashboards' 12-month trends read them).
    from requests.services import order_month_stats_refresh

    month = timezone.localdate(min(o.received_at for o in orders)).replace(day=1)
    while month <= timezone.localdate(now):
        order_month_stats_refresh(month=month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    from requests.services import provider_load_recount

    provider_load_recount()


def seed_demo_volunteer_work() -> None:
    """Give the demo volunteer something to do: one order assigned to them and
    one offered (抢单), both at their station, made through the services."""
    from requests import services
    from requests.models import OrderOffer

    me = Volunteer.objects.filter(user__username="volunteer").select_related("station").first()
    if (
        me is None
        or ServiceRequest.objects.filter(provider__volunteer=me, status=S.DISPATCHED).exists()
    ):
        return
    operator = User.objects.filter(username="operator").first()
    items = list(
        ServiceItem.objects.filter(code__in=["APPLIANCE-01", "PLUMBING-05"]).order_by("code")
    )
    me.service_items.add(*items)
    residents = list(
        Resident.objects.filter(community__serving_stations=me.station).order_by("pk")[:2]
    )
    if len(residents) < 2 or len(items) < 2:
        return
    assigned = services.order_create(
        actor=operator,
        resident=residents[0],
        item=items[0],
        channel="hotline",
        description="电视没有图像，老人独居",
    )
    services.order_assign(actor=operator, order=assigned, provider=me.provider)
    offered = services.order_create(
        actor=operator,
        resident=residents[1],
        item=items[1],
        channel="hotline",
        urgency="urgent",
        description="厨房下水道堵了",
    )
    services.order_offer(actor=operator, order=offered)
    OrderOffer.objects.get_or_create(
        order=offered,
        provider=me.provider,
        round=offered.dispatch_round,
        defaults={"ring": 1, "minutes": 6},
    )


def seed_demo(rng: random.Random) -> None:
    """The hotline's demo part (center.registry): five years of orders, then
    the demo volunteer's own work."""
    seed_requests(rng)
    seed_demo_volunteer_work()
    from .calls import seed as seed_calls  # issue 14, part A: the call log's day

    seed_calls(rng)
