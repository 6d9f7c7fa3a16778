"""Demo data for the volunteers app: organizations, volunteers, merchants,
teams, posts with claims, hours, a complaint history. Deterministic and
idempotent (it runs once: it checks for its own marker organization)."""

import datetime
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from center.accounts import NewLogin, provider_logins_create
from center.models import Role, ServiceItem, Specialty, Station, User
from center.validators import id_check_character
from volunteers import services
from volunteers.models import (
    HoursEntry,
    Merchant,
    MerchantOffer,
    Organization,
    Post,
    PostClaim,
    ServiceTeam,
    Volunteer,
    providers_sync,
)

ORGANIZATIONS = [
    ("嘉兴市民政局", "government"),
    ("嘉兴市司法局", "government"),
    ("嘉兴市卫生健康委员会", "government"),
    ("南湖区人民政府建设街道办事处", "government"),
    ("嘉兴市第一医院", "institution"),
    ("嘉兴学院", "institution"),
    ("嘉兴市第一中学", "institution"),
    ("嘉兴市燃气集团", "company"),
    ("国网嘉兴供电公司", "company"),
    ("嘉兴市水务投资集团", "company"),
    ("中国银行嘉兴分行", "company"),
    ("嘉兴港区开发建设集团", "company"),
]
MERCHANT_WORDS = ["家政", "水电", "家电", "开锁", "保洁", "管道", "养老", "维修", "便民", "安居"]
POST_TITLES = {
    "organisation": "党群服务中心值班",
    "legal": "社区法律咨询",
    "poor_disabled": "困难家庭结对帮扶",
    "governance": "小区议事协调",
    "health": "健康义诊",
    "culture_sport": "社区文体活动组织",
    "safety": "平安夜巡",
    "civility": "垃圾分类督导",
}
AREA_CODES = ["330402", "330411", "330421", "330482", "330424", "330481", "330483"]


def _id_number(rng: random.Random) -> str:
    birth = datetime.date(1955, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 45))
    first17 = f"{rng.choice(AREA_CODES)}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_character(first17)


def _demo_logins(role: str, providers: list, password_hash: str, username) -> None:
    """Every demo volunteer and merchant logs in with their mobile number and
    the demo password: one login each through center.accounts, with one hash
    computed once for all (hashing thousands of passwords would take minutes).
    Sets ``user`` in memory; the caller saves it."""
    issued = provider_logins_create(
        actor=None,
        role=role,
        logins=[
            NewLogin(username=username(p), mobile=p.mobile, full_name=p.name) for p in providers
        ],
        password_hash=password_hash,
    )
    for provider, login in zip(providers, issued, strict=True):
        provider.user = login.user


@transaction.atomic
def seed_volunteers(rng: random.Random) -> None:
    if Organization.objects.filter(name=ORGANIZATIONS[0][0]).exists():
        return
    n_volunteers = settings.LIANXIN["DEMO_VOLUNTEERS"]
    n_merchants = max(n_volunteers // 20, 10)
    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(1 << 30))
    Organization.objects.bulk_create(
        [
            Organization(
                name=n,
                kind=k,
                contact_name=fake.name(),
                contact_phone=f"0573{rng.randint(82000000, 89999999)}",
            )
            for n, k in ORGANIZATIONS
        ]
    )
    orgs = list(Organization.objects.order_by("pk"))
    branches = list(Station.objects.filter(kind=Station.Kind.BRANCH).order_by("code"))
    specialties = list(Specialty.objects.order_by("code"))
    items_by_spec = {}
    for item in ServiceItem.objects.order_by("code"):
        items_by_spec.setdefault(item.specialty_id, []).append(item.pk)

    # Where they live: a community their station serves, in turn (no draw from
    # the rng, so the rest of the demo stays as it was), so call-ups by area
    # find them.
    served = {
        b.pk: list(b.communities.order_by("code").values_list("pk", flat=True)) for b in branches
    }
    # Volunteers: bulk insert, then their public numbers from their ids.
    mobiles = rng.sample(range(10**8), n_volunteers)
    volunteers, picked = [], []
    for i in range(n_volunteers):
        station = branches[i % len(branches)] if i % 3 else branches[0]
        in_service = rng.random() < 0.3
        volunteers.append(
            Volunteer(
                volunteer_no=f"tmp{i:08d}",
                name=fake.name(),
                mobile=f"13{rng.randint(3, 9)}{mobiles[i]:08d}",
                id_number=_id_number(rng),
                is_party_member=rng.random() < 0.85,
                party_join_date=datetime.date(rng.randint(1975, 2022), rng.randint(1, 12), 1),
                party_branch=f"{station.name.replace('分站', '')}第{rng.randint(1, 6)}党支部",
                kind=Volunteer.Kind.IN_SERVICE if in_service else Volunteer.Kind.COMMUNITY,
                organization=rng.choice(orgs) if in_service else None,
                station=station,
                community_id=(
                    served[station.pk][i % len(served[station.pk])] if served[station.pk] else None
                ),
                latitude=station.latitude + Decimal(f"{rng.uniform(-0.02, 0.02):.6f}"),
                longitude=station.longitude + Decimal(f"{rng.uniform(-0.02, 0.02):.6f}"),
                on_duty=rng.random() < 0.4,
                rating=Decimal(f"{rng.uniform(4.0, 5.0):.2f}"),
                weekly_availability={
                    d: [["08:00", "12:00"], ["14:00", "18:00"]] for d in ("sat", "sun")
                },
            )
        )
        picked.append(rng.sample(specialties, rng.randint(1, 3)))
    created = Volunteer.objects.bulk_create(volunteers, batch_size=1000)
    # Registered over the last year and a half (created_at is stamped on
    # creation), so "volunteers added" in a month's report is not all today.
    now = timezone.now()
    for v in created:
        v.volunteer_no = services.volunteer_number(v.pk)
        v.created_at = now - datetime.timedelta(
            days=rng.randint(0, 540), minutes=rng.randint(0, 600)
        )
    Volunteer.objects.bulk_update(created, ["volunteer_no", "created_at"], batch_size=1000)
    spec_through, item_through = Volunteer.specialties.through, Volunteer.service_items.through
    spec_through.objects.bulk_create(
        [
            spec_through(volunteer_id=v.pk, specialty_id=s.pk)
            for v, specs in zip(created, picked, strict=True)
            for s in specs
        ],
        batch_size=2000,
    )
    item_through.objects.bulk_create(
        [
            item_through(volunteer_id=v.pk, serviceitem_id=i)
            for v, specs in zip(created, picked, strict=True)
            for s in specs
            for i in items_by_spec.get(s.pk, [])[:6]
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )

    demo_hash = make_password(settings.LIANXIN["DEMO_PASSWORD"])
    # created[3] becomes the demo "volunteer" login's record just below.
    demo_index = 3 if User.objects.filter(username="volunteer").exists() else None
    _demo_logins(
        Role.VOLUNTEER,
        [v for i, v in enumerate(created) if i != demo_index],
        demo_hash,
        username=lambda v: v.volunteer_no,
    )
    Volunteer.objects.bulk_update(
        [v for i, v in enumerate(created) if i != demo_index], ["user"], batch_size=1000
    )

    # The demo volunteer login is an in-service member at the demo station.
    demo_user = User.objects.filter(username="volunteer").first()
    if demo_user:
        me = created[3]
        Volunteer.objects.filter(pk=me.pk).update(
            user=demo_user,
            name=demo_user.full_name or me.name,
            mobile=demo_user.mobile,
            kind=Volunteer.Kind.IN_SERVICE,
            organization=orgs[0],
            station=branches[0],
        )
    # Dispatch ranks provider rows: one per volunteer (bulk rows are synced here).
    providers_sync(Volunteer.objects.filter(pk__in=[v.pk for v in created]))

    # Merchants with offers at or below the center price.
    items = list(ServiceItem.objects.filter(center_price__gt=0).order_by("code"))
    served = [rng.sample(branches, 3) for _ in range(n_merchants)]
    merchants = [
        Merchant(
            name=f"嘉兴{rng.choice(MERCHANT_WORDS)}{rng.choice(MERCHANT_WORDS)}{'服务有限公司' if i % 3 else '服务部'}{i:03d}",
            kind=Merchant.Kind.FRANCHISE if i % 3 else Merchant.Kind.INDIVIDUAL,
            licence_no=f"91330400{rng.randrange(10**9, 10**10)}",
            contact_name=fake.name(),
            mobile=f"15{rng.randint(0, 9)}{rng.randrange(10**8):08d}",
            address=fake.street_address(),
            staff_count=rng.randint(1, 40),
            latitude=served[i][0].latitude + Decimal(f"{rng.uniform(-0.01, 0.01):.6f}"),
            longitude=served[i][0].longitude + Decimal(f"{rng.uniform(-0.01, 0.01):.6f}"),
        )
        for i in range(n_merchants)
    ]
    merchants = Merchant.objects.bulk_create(merchants, ignore_conflicts=False)
    # The demo "merchant" login runs the first merchant; every other one gets its own.
    demo_merchant = User.objects.filter(username="merchant").first()
    if demo_merchant:
        merchants[0].mobile, merchants[0].user = demo_merchant.mobile, demo_merchant
        merchants[0].contact_name = demo_merchant.full_name or merchants[0].contact_name
    _demo_logins(
        Role.MERCHANT,
        merchants[1:] if demo_merchant else merchants,
        demo_hash,
        username=lambda m: services.merchant_login_name(m.pk),
    )
    Merchant.objects.bulk_update(merchants, ["mobile", "contact_name", "user"], batch_size=1000)
    m_through = Merchant.stations.through
    m_through.objects.bulk_create(
        [
            m_through(merchant_id=m.pk, station_id=s.pk)
            for m, stations in zip(merchants, served, strict=True)
            for s in stations
        ],
        ignore_conflicts=True,
    )
    providers_sync(merchants)
    offers = []
    for m in merchants:
        for item in rng.sample(items, 5):
            offers.append(
                MerchantOffer(
                    merchant=m,
                    item=item,
                    price=(item.center_price * Decimal("0.9")).quantize(Decimal("0.01")),
                )
            )
    MerchantOffer.objects.bulk_create(offers, ignore_conflicts=True)

    # The 19 specialty teams at the center, and professional teams at branches.
    center = Station.objects.get(kind=Station.Kind.CENTER)
    for spec in specialties:
        members = rng.sample(created, 12)
        services.team_create(
            actor=None,
            data={
                "name": f"{spec.name}特色服务分队",
                "kind": ServiceTeam.Kind.SPECIALTY,
                "specialty": spec,
                "station": center,
                "leader": members[0],
            },
            members=members,
        )
    for branch in branches[:20]:
        local = [v for v in created if v.station_id == branch.pk][:8]
        if local:
            services.team_create(
                actor=None,
                data={
                    "name": f"{branch.name.replace('分站', '')}专业服务队",
                    "kind": ServiceTeam.Kind.PROFESSIONAL,
                    "station": branch,
                    "leader": local[0],
                },
                members=local,
            )

    # Posts for in-service members, with claims and reports.
    for branch in branches[:12]:
        for kind, title in list(POST_TITLES.items())[: rng.randint(3, 8)]:
            post = Post.objects.create(
                station=branch,
                title=title,
                kind=kind,
                schedule=rng.choice(
                    ["每周六 09:00–11:00", "每月最后一个周六", "工作日晚 19:00–21:00"]
                ),
                capacity=rng.randint(3, 10),
            )
            members = [
                v
                for v in created
                if v.kind == Volunteer.Kind.IN_SERVICE and v.station_id == branch.pk
            ]
            for v in rng.sample(members, min(len(members), rng.randint(0, post.capacity))):
                claim = PostClaim.objects.create(
                    post=post,
                    volunteer=v,
                    skills=rng.choice(["法律咨询", "理发", "义诊", "电器维修", ""]),
                )
                if rng.random() < 0.6:
                    PostClaim.objects.filter(pk=claim.pk).update(
                        status=PostClaim.Status.REPORTED, reported_at=timezone.now()
                    )

    # Verified hours: a ledger, then the denormalised totals.
    today = timezone.localdate()
    entries = []
    # Service-day hours come from the events demo's attendance (each with its
    # sign-up's reference); the ledger here is orders and post duty.
    sources = [HoursEntry.Source.ORDER, HoursEntry.Source.POST_DUTY, HoursEntry.Source.ORDER]
    now = timezone.now()
    for n, v in enumerate(created):
        for k in range(rng.choice([0, 2, 5, 10, 40, 120])):
            entries.append(
                HoursEntry(
                    volunteer=v,
                    date=today - datetime.timedelta(days=rng.randint(1, 900)),
                    hours=Decimal(rng.choice(["1.00", "1.50", "2.00", "3.00", "4.00", "8.00"])),
                    source=sources[k % 3],
                    source_ref=f"demo-{n}-{k}",
                    description=rng.choice(
                        [
                            "家电维修",
                            "陪同就医",
                            "社区值班",
                            "上门探访",
                            "管道疏通",
                        ]
                    ),
                    station=v.station,
                    verified_at=now,
                )
            )
    HoursEntry.objects.bulk_create(entries, batch_size=5000)
    totals = {}
    for e in entries:
        totals[e.volunteer_id] = totals.get(e.volunteer_id, Decimal("0")) + e.hours
    for v in created:
        v.verified_hours = totals.get(v.pk, Decimal("0"))
    Volunteer.objects.bulk_update(created, ["verified_hours"], batch_size=1000)

    # A complaint history: pending complaints, and one volunteer on a yellow card.
    operator = User.objects.filter(username="operator").first()
    manager = User.objects.filter(username="station").first()
    # Not the demo "volunteer" login's own record: that one stays clean.
    local = [v for i, v in enumerate(created) if v.station_id == branches[0].pk and i != demo_index]
    for v in local[:3]:
        services.complaint_record(
            actor=operator,
            provider=v,
            description="上门迟到四十分钟，态度生硬。",
        )
    if manager and len(local) > 5:
        for text in ("维修后电视仍无法使用，未告知居民。", "收费高于报价且未说明原因。"):
            c = services.complaint_record(actor=operator, provider=local[5], description=text)
            services.complaint_rule(
                actor=manager, complaint=c, valid=True, reason="经回访核实，投诉属实。"
            )
