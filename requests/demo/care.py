"""Demo part "care": most special-group residents paired with a volunteer
of the station serving them, months of care visits (some pairings now
overdue), a rota for a few residents, and the demo volunteer's own residents
and rota visit. Written through the care services, so cadence, last contact
and service hours hold. Deterministic for the rng it is given; runs once (it
checks for pairings)."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from center.models import Role, Station, User
from volunteers.models import ProviderStatus, Volunteer

from ..models import Pairing, Resident
from ..services import care

FOUND = (
    "身体尚好，精神不错，聊了家常",
    "厨房水龙头滴水，需要维修",
    "冬天取暖器老旧，想换一台",
    "独自在家，希望有人常来陪聊",
    "药快吃完了，请社区医生上门",
    "家里灯泡坏了两个，已帮忙更换",
    "行动不便，需要助浴服务",
)


@transaction.atomic
def seed(rng: random.Random) -> None:
    if Pairing.objects.exists():
        return
    actor = (
        User.objects.filter(role=Role.CENTER_MANAGER).order_by("pk").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )
    today = timezone.localdate()
    station_of = dict(
        Station.communities.through.objects.filter(station__kind=Station.Kind.BRANCH).values_list(
            "area_id", "station_id"
        )
    )
    residents = list(
        Resident.objects.filter(is_special=True, community__isnull=False).order_by("pk")
    )
    me = Volunteer.objects.filter(user__username="volunteer").first()
    mine = 0
    for n, resident in enumerate(residents):
        if n % 7 == 6:  # a few stay unpaired (and show among the silent residents)
            continue
        volunteer = None
        if me is not None and mine < 3 and station_of.get(resident.community_id) == me.station_id:
            volunteer, mine = me, mine + 1
        if volunteer is None:
            volunteers = list(
                Volunteer.objects.filter(
                    station_id=station_of.get(resident.community_id),
                    status=ProviderStatus.ACTIVE,
                ).order_by("pk")[:40]
            )
            if not volunteers:
                continue
            volunteer = rng.choice(volunteers)
        cadence = rng.choice((7, 14, 14, 30))
        started = today - datetime.timedelta(days=rng.randrange(60, 200))
        pairing = care.pairing_create(
            actor=actor,
            resident=resident,
            volunteer=volunteer,
            cadence_days=cadence,
            started_on=started,
        )
        # Visits every cadence (give or take a few days); about one pairing in
        # four stopped a while ago and is overdue now.
        stop = today - datetime.timedelta(days=cadence * 2 if n % 4 == 0 else 0)
        day = started + datetime.timedelta(days=rng.randrange(1, cadence + 1))
        while day <= stop:
            care.care_visit_record(
                actor=actor,
                resident=resident,
                volunteer=volunteer,
                visited_on=day,
                minutes=rng.choice((30, 45, 60, 90)),
                found=rng.choice(FOUND),
                pairing=pairing,
            )
            day += datetime.timedelta(days=cadence + rng.randrange(-2, 4))
    # Rota care: a few residents visited in turn, weekly from tomorrow.
    for resident in residents[1:4]:
        slots = care.rota_schedule(
            actor=actor,
            resident=resident,
            first_on=today + datetime.timedelta(days=1),
            every_days=7,
            count=6,
        )
        if me is not None and slots and station_of.get(resident.community_id) == me.station_id:
            care.care_slot_take(actor=me.user, slot=slots[0], volunteer=me)
