"""Demo data for the center app: areas, stations, catalogue, one login per role.

Deterministic (a fixed seed) and idempotent: rows are keyed by code and
written with bulk_create(ignore_conflicts=True), so a second run adds nothing.
"""

import random
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from center import services
from center.models import Area, Role, ServiceCategory, ServiceItem, Specialty, Station, User

from . import catalogue, jiaxing

CENTER_CODE = "JX-CENTER"


def _coord(base: float, rng: random.Random, spread: float = 0.06) -> Decimal:
    return Decimal(f"{base + rng.uniform(-spread, spread):.6f}")


def seed_areas(rng: random.Random) -> None:
    districts = [
        Area(code=code, name=name, level=Area.Level.DISTRICT)
        for code, name, _, _ in jiaxing.DISTRICTS
    ]
    Area.objects.bulk_create(districts, ignore_conflicts=True)
    by_code = {a.code: a for a in Area.objects.filter(level=Area.Level.DISTRICT)}
    streets = []
    for code, _name, _centre, street_names in jiaxing.DISTRICTS:
        for i, street in enumerate(street_names, start=1):
            streets.append(
                Area(
                    code=f"{code}{i:03d}",
                    name=street,
                    level=Area.Level.STREET,
                    parent=by_code[code],
                )
            )
    Area.objects.bulk_create(streets, ignore_conflicts=True)
    communities = []
    for street in Area.objects.filter(level=Area.Level.STREET).order_by("code"):
        stems = rng.sample(jiaxing.COMMUNITY_STEMS, 4)
        suffix = "社区" if street.name.endswith("街道") else "村"
        for i, stem in enumerate(stems, start=1):
            communities.append(
                Area(
                    code=f"{street.code}{i:03d}",
                    name=f"{stem}{suffix}",
                    level=Area.Level.COMMUNITY,
                    parent=street,
                )
            )
    Area.objects.bulk_create(communities, ignore_conflicts=True)


def seed_stations(rng: random.Random) -> None:
    districts = {a.code: a for a in Area.objects.filter(level=Area.Level.DISTRICT)}
    centres = {code: centre for code, _n, centre, _s in jiaxing.DISTRICTS}
    Station.objects.bulk_create(
        [
            Station(
                code=CENTER_CODE,
                name="嘉兴市党员志愿服务中心",
                kind=Station.Kind.CENTER,
                district=districts["330402"],
                address="南湖区中山东路 96345 号",
                latitude=Decimal("30.752000"),
                longitude=Decimal("120.758000"),
                phone="+8657396345000",
                opening_hours="24小时",
            )
        ],
        ignore_conflicts=True,
    )
    center = Station.objects.get(code=CENTER_CODE)
    branches = []
    streets = Area.objects.filter(level=Area.Level.STREET).select_related("parent").order_by("code")
    for street in streets:
        lat, lng = centres[street.parent.code]
        branches.append(
            Station(
                code=f"BR-{street.code}",
                name=f"{street.name}分站",
                kind=Station.Kind.BRANCH,
                parent=center,
                district=street.parent,
                address=f"{street.parent.name}{street.name}便民服务中心",
                latitude=_coord(lat, rng),
                longitude=_coord(lng, rng),
                phone=f"+86573{rng.randint(82000000, 89999999)}",
                opening_hours="08:00-20:00",
            )
        )
    Station.objects.bulk_create(branches, ignore_conflicts=True)
    branch_by_street = {s.code[3:]: s for s in Station.objects.filter(kind=Station.Kind.BRANCH)}
    points, links = [], []
    communities = (
        Area.objects.filter(level=Area.Level.COMMUNITY)
        .select_related("parent__parent")
        .order_by("code")
    )
    for community in communities:
        branch = branch_by_street[community.parent.code]
        links.append(Station.communities.through(station_id=branch.pk, area_id=community.pk))
        if community.code.endswith("001"):
            kind = (
                Station.Kind.SERVICE_POINT
                if community.name.endswith("社区")
                else Station.Kind.VILLAGE
            )
            label = "服务站点" if kind == Station.Kind.SERVICE_POINT else "村级服务站"
            points.append(
                Station(
                    code=f"SP-{community.code}",
                    name=f"{community.name}{label}",
                    kind=kind,
                    parent=branch,
                    district=community.parent.parent,
                    address=f"{community.parent.name}{community.name}党群服务中心",
                    latitude=_coord(float(branch.latitude), rng, 0.01),
                    longitude=_coord(float(branch.longitude), rng, 0.01),
                    opening_hours="08:30-17:00",
                )
            )
    for i, (dcode, name, address) in enumerate(jiaxing.RED_CUBE_POSTS, start=1):
        lat, lng = centres[dcode]
        parent = (
            Station.objects.filter(kind=Station.Kind.BRANCH, district=districts[dcode])
            .order_by("code")
            .first()
        )
        points.append(
            Station(
                code=f"RC-{i:03d}",
                name=name,
                kind=Station.Kind.RED_CUBE,
                parent=parent,
                district=districts[dcode],
                address=address,
                latitude=_coord(lat, rng, 0.02),
                longitude=_coord(lng, rng, 0.02),
                opening_hours="09:00-21:00",
            )
        )
    Station.objects.bulk_create(points, ignore_conflicts=True)
    Station.communities.through.objects.bulk_create(links, ignore_conflicts=True)
    point_links = [
        Station.communities.through(station_id=s.pk, area_id=a.pk)
        for s in Station.objects.filter(kind__in=[Station.Kind.SERVICE_POINT, Station.Kind.VILLAGE])
        for a in [Area.objects.get(code=s.code[3:])]
    ]
    Station.communities.through.objects.bulk_create(point_links, ignore_conflicts=True)


def seed_catalogue() -> None:
    Specialty.objects.bulk_create(
        [Specialty(code=code, name=name) for code, name in catalogue.SPECIALTIES],
        ignore_conflicts=True,
    )
    ServiceCategory.objects.bulk_create(
        [
            ServiceCategory(code=code, name=name, sort_order=i)
            for i, (code, name, _items) in enumerate(catalogue.CATEGORIES, start=1)
        ],
        ignore_conflicts=True,
    )
    specialties = {s.code: s for s in Specialty.objects.all()}
    categories = {c.code: c for c in ServiceCategory.objects.all()}
    items = []
    for code, _name, entries in catalogue.CATEGORIES:
        for i, (name, spec, market, price, free, minutes) in enumerate(entries, start=1):
            items.append(
                ServiceItem(
                    category=categories[code],
                    code=f"{code.upper()}-{i:02d}",
                    name=name,
                    specialty=specialties[spec],
                    market_price=Decimal(market),
                    center_price=Decimal(price),
                    free_for_special_groups=free,
                    typical_minutes=minutes,
                )
            )
    ServiceItem.objects.bulk_create(items, ignore_conflicts=True)


DEMO_USERS = [
    # username, mobile, full name, role
    ("center", "13900000001", "王主任", Role.CENTER_MANAGER),
    ("operator", "13900000002", "李接线", Role.OPERATOR),
    ("station", "13900000003", "张站长", Role.STATION_MANAGER),
    ("volunteer", "13900000004", "陈志愿", Role.VOLUNTEER),
    # Runs the first demo merchant (volunteers.demo.seed); every other demo
    # volunteer and merchant logs in with their own mobile and this password.
    ("merchant", "13900000005", "周老板", Role.MERCHANT),
]
DEMO_STATION_CODE = "BR-330402001"  # 建设街道分站, 南湖区


def seed_users() -> list[tuple[str, str, str, str]]:
    password = settings.LIANXIN["DEMO_PASSWORD"]
    logins = []
    for username, mobile, full_name, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"mobile": mobile, "full_name": full_name}
        )
        if created:
            user.set_password(password)
            user.is_superuser = (
                role == Role.CENTER_MANAGER
            )  # the center manager also runs the back office
            user.save(update_fields=["password", "is_superuser"])
            stations = (
                Station.objects.filter(code=DEMO_STATION_CODE)
                if role == Role.STATION_MANAGER
                else []
            )
            services.user_set_role(actor=None, user=user, role=role, stations=stations)
        logins.append((str(Role(role).label), username, mobile, password))
    return logins


@transaction.atomic
def seed_center(rng: random.Random) -> None:
    seed_areas(rng)
    seed_stations(rng)
    seed_catalogue()
    seed_users()
