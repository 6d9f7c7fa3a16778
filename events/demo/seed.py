"""Demo part "events": the last twelve monthly service days, each with a
venue at a dozen branch stations, stalls (repairs, haircuts, health checks,
knife sharpening…), a morning shift per stall with its volunteers signed up,
checked in and out (hours credited through ``hours_record``), and the next
service day open for sign-up — the demo volunteer already on one shift.
Deterministic for the rng it is given; runs once (it checks for venues)."""

import datetime
import random
import zoneinfo

from django.db import transaction
from django.utils import timezone

from center.models import ServiceItem, Station, User
from volunteers.models import HoursEntry, ProviderStatus, Volunteer
from volunteers.services import hours_between, hours_record

from ..models import ServiceDay, Shift, SignUp, Stall, Venue
from ..services import days, signups

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
STALLS = ("家电维修", "义务理发", "磨刀配钥匙", "健康咨询与量血压", "燃气安全宣传", "法律咨询")
VENUES = (
    (Venue.Kind.SQUARE, "文化广场"),
    (Venue.Kind.MARKET, "农贸市场门口"),
    (Venue.Kind.COMMUNITY, "小区中心花园"),
)


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@transaction.atomic
def seed(rng: random.Random) -> None:
    if Venue.objects.exists():
        return
    today = timezone.localdate()
    first = (today.replace(day=1) - datetime.timedelta(days=330)).replace(day=1)
    days.service_days_generate(first_month=first, months=14)
    stations = list(Station.objects.filter(kind=Station.Kind.BRANCH).order_by("code")[:12])
    items = {i.name: i for i in ServiceItem.objects.filter(is_active=True)}
    demo = Volunteer.objects.filter(user__username="volunteer").first()
    volunteers = {  # the demo volunteer signs up below, by themselves
        s.pk: list(
            Volunteer.objects.filter(station=s, status=ProviderStatus.ACTIVE)
            .exclude(pk=getattr(demo, "pk", None))
            .order_by("pk")[:40]
        )
        for s in stations
    }
    upcoming = None
    for day in ServiceDay.objects.filter(is_extra=False).order_by("date"):
        past = day.date < today
        if not past and upcoming is not None:
            continue  # past days and the next one only
        if not past:
            upcoming = day
        for station in stations:
            kind, place = VENUES[rng.randrange(len(VENUES))]
            venue = Venue.objects.create(
                day=day,
                station=station,
                kind=kind,
                name=f"{station.name.removesuffix('分站')}{place}",
                address=station.address,
                latitude=station.latitude,
                longitude=station.longitude,
            )
            # Nobody stands at two stalls of a venue at once (the shifts overlap).
            pool = volunteers[station.pk]
            crowd = rng.sample(pool, min(len(pool), 12))
            for k, service in enumerate(rng.sample(STALLS, 3)):
                stall = Stall.objects.create(
                    venue=venue,
                    service=service,
                    item=items.get(service),
                    people_served=rng.randint(15, 80) if past else 0,
                )
                shift = Shift.objects.create(
                    stall=stall,
                    starts_at=_at(day.date, 9),
                    ends_at=_at(day.date, 11, 30),
                    capacity=4,
                )
                people = crowd[k * 4 : k * 4 + (rng.randint(2, 4) if past else 1)]
                if past:
                    _attended(shift, stall, venue, day, people, rng)
                else:
                    for volunteer in people:
                        signups.signup_create(actor=None, shift=shift, volunteer=volunteer)
    if upcoming is not None and demo is not None:
        shift = Shift.objects.filter(stall__venue__day=upcoming).order_by("pk").first()
        if shift is not None:
            signups.signup_create(actor=None, shift=shift, volunteer=demo)


def _attended(shift, stall, venue, day, people, rng) -> None:
    """A past shift as it went: everyone came (the services refuse a shift in
    the past, so the rows are written as they would stand), hours credited."""
    actor = User.objects.filter(is_superuser=True).order_by("pk").first()
    for volunteer in people:
        came = shift.starts_at + datetime.timedelta(minutes=rng.randint(0, 20))
        left = shift.ends_at - datetime.timedelta(minutes=rng.randint(0, 30))
        signup = SignUp.objects.create(
            shift=shift,
            volunteer=volunteer,
            status=SignUp.Status.CONFIRMED,
            checked_in_at=came,
            checked_out_at=left,
        )
        hours_record(
            actor=actor,
            volunteer=volunteer,
            date=day.date,
            hours=hours_between(came, left),
            source=HoursEntry.Source.SERVICE_DAY,
            source_ref=signups.hours_ref(signup),
            description=stall.service,
            station=venue.station,
        )
    Shift.objects.filter(pk=shift.pk).update(taken=len(people))
