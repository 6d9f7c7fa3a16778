"""Demo activities (called by the events demo, ``events.demo.seed``): at a
dozen branch stations, one activity a month over the past twelve months
(holiday visits, micro-wish drives, emergency call-ups, others), each held,
with people served and participants whose attendance credited their hours;
and, at the demo volunteer's station, two coming activities: a holiday visit
whose call-up invited the demo volunteer, and a micro-wish drive open to
join. Every row goes through ``events.services.activities`` (they accept
past dates for the system actor: create, mark held, add, record).
Deterministic for the rng it is given; runs once (it checks for activities)."""

import datetime
import random
import zoneinfo

from django.db import transaction
from django.utils import timezone

from center.models import Station
from volunteers.models import ProviderStatus, Volunteer

from ..models import Activity, Participation
from ..services import activities as services

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
K = Activity.Kind
# By calendar month: what a station does that month.
MONTHLY = {
    1: (K.HOLIDAY_VISIT, "春节走访慰问困难群众", "辖区困难党员和群众家中"),
    2: (K.OTHER, "元宵节邻里互助活动", "社区文化家园"),
    3: (K.OTHER, "学雷锋志愿服务月", "社区广场"),
    4: (K.OTHER, "清明文明祭扫引导", "公墓入口"),
    5: (K.WISH_DRIVE, "点亮微心愿·共筑中国梦", "分站服务大厅"),
    6: (K.CALL_UP, "防汛应急志愿集结", "沿河堤岸"),
    7: (K.HOLIDAY_VISIT, "夏日送清凉慰问一线职工", "环卫站与建筑工地"),
    8: (K.CALL_UP, "台风应急转移安置", "临时安置点"),
    9: (K.HOLIDAY_VISIT, "中秋节走访慰问独居老人", "独居老人家中"),
    10: (K.HOLIDAY_VISIT, "重阳节敬老服务", "社区居家养老服务照料中心"),
    11: (K.OTHER, "消防安全进社区", "小区中心花园"),
    12: (K.WISH_DRIVE, "冬季送温暖·微心愿认领", "分站服务大厅"),
}


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _month_back(today: datetime.date, n: int) -> datetime.date:
    """The first day of the month ``n`` months before ``today``'s."""
    y, m = divmod(today.year * 12 + today.month - 1 - n, 12)
    return datetime.date(y, m + 1, 1)


@transaction.atomic
def seed_activities(rng: random.Random) -> None:
    if Activity.objects.exists():
        return
    today = timezone.localdate()
    stations = list(Station.objects.filter(kind=Station.Kind.BRANCH).order_by("code")[:12])
    demo = Volunteer.objects.filter(user__username="volunteer").first()
    if demo is not None and demo.station not in stations:
        stations.append(demo.station)
    for station in stations:
        pool = list(
            Volunteer.objects.filter(station=station, status=ProviderStatus.ACTIVE)
            .exclude(pk=getattr(demo, "pk", None))
            .order_by("pk")[:40]
        )
        for n in range(12, 0, -1):
            first = _month_back(today, n)
            kind, title, place = MONTHLY[first.month]
            day = first.replace(day=rng.randint(3, 26))
            start = rng.choice((8, 9, 14))
            activity = services.activity_create(
                actor=None,
                station=station,
                title=title,
                kind=kind,
                date=day,
                organizer=station.name,
                place=place,
                starts_at=_at(day, start),
                ends_at=_at(day, start + 2, rng.choice((0, 30))),
                notes="",
            )
            services.activity_mark_held(
                actor=None,
                activity=activity,
                people_served=rng.randint(8, 120),
                notes=f"{station.name}组织党员志愿者开展{title}。",
            )
            people = rng.sample(pool, min(len(pool), rng.randint(3, 8)))
            if demo is not None and demo.station_id == station.pk and n % 4 == 1:
                people.append(demo)  # some history with hours on the demo's phone
            for volunteer in people:
                p = services.participation_add(actor=None, activity=activity, volunteer=volunteer)
                came = rng.random() > 0.1 or volunteer == demo
                services.participation_record(actor=None, participation=p, attended=came)
    if demo is not None:
        _coming(demo, today)


def _coming(demo: Volunteer, today: datetime.date) -> None:
    station = demo.station
    visit_day = today + datetime.timedelta(days=10)
    visit = services.activity_create(
        actor=None,
        station=station,
        title="重阳节走访慰问独居老人",
        kind=Activity.Kind.HOLIDAY_VISIT,
        date=visit_day,
        organizer=station.name,
        place="辖区独居老人家中",
        starts_at=_at(visit_day, 9),
        ends_at=_at(visit_day, 11, 30),
        area=demo.community,  # the call-up: the volunteers living where the demo lives
    )
    services.activity_call_up(actor=None, activity=visit, limit=30)
    if not Participation.objects.filter(activity=visit, volunteer=demo).exists():
        # Cap reached before the demo volunteer (or no community): add them
        # by name, as a manager would.
        services.participation_add(actor=None, activity=visit, volunteer=demo)
    drive_day = today + datetime.timedelta(days=20)
    services.activity_create(
        actor=None,
        station=station,
        title="点亮微心愿·认领日",
        kind=Activity.Kind.WISH_DRIVE,
        date=drive_day,
        organizer=station.name,
        place="分站服务大厅",
        starts_at=_at(drive_day, 14),
        ends_at=_at(drive_day, 16),
    )
