"""Demo part "registry": about one resident in ten is put in special groups
(a mix of groups, verified facts, emergency contacts in call order), and
some of them gave their consent and have sensitive data (disability, health
notes such as reduced mobility or poor hearing, an ID number: the hotline part
keeps such facts out of ``Resident.notes``). Written through the registry services, so the rules
(consent first, ``is_special``, ``last_contact_at``) hold. Deterministic for
the rng it is given; runs once (it checks for memberships)."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from center.models import Role, User
from center.validators import id_check_character

from ..models import (
    ConsentScope,
    DisabilityCategory,
    Resident,
    ResidentConsent,
    ResidentGroup,
    SpecialGroup,
)
from ..services import residents as registry

PLAIN_GROUPS = ("living-alone", "empty-nest", "minimum-living", "extreme-hardship")
HEALTH = (
    "高血压，按时服药",
    "行动不便，需扶助上下楼",
    "糖尿病，饮食需注意",
    "听力不好，来电请大声说话",
)
RELATIONS = (
    ("女儿", "family"),
    ("儿子", "family"),
    ("社区网格员", "community"),
    ("邻居", "neighbour"),
)


def _id_number(rng: random.Random) -> str:
    born = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 25))
    first17 = f"330402{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_character(first17)


@transaction.atomic
def seed(rng: random.Random) -> None:
    if ResidentGroup.objects.exists():
        return
    actor = (
        User.objects.filter(role=Role.CENTER_MANAGER).order_by("pk").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )
    groups = {g.code: g for g in SpecialGroup.objects.all()}
    disabled = groups.get("disabled")
    ids = list(Resident.objects.order_by("pk").values_list("pk", flat=True))
    chosen = sorted(rng.sample(ids, max(1, len(ids) // 10))) if ids else []
    today = timezone.localdate()
    for n, pk in enumerate(chosen):
        resident = Resident.objects.get(pk=pk)
        codes = rng.sample(PLAIN_GROUPS, rng.choice((1, 1, 2)))
        for code in codes:
            if code in groups:
                registry.group_add(
                    actor=actor,
                    resident=resident,
                    group=groups[code],
                    verified_on=today - datetime.timedelta(days=rng.randrange(400)),
                )
        for priority, (relation, kind) in enumerate(rng.sample(RELATIONS, 2), start=1):
            registry.contact_add(
                actor=actor,
                resident=resident,
                data={
                    "name": f"{resident.name[0]}{rng.choice('明华丽军芳强')}",
                    "relation": relation,
                    "phone": f"139{rng.randrange(10**8):08d}",
                    "kind": kind,
                    "priority": priority,
                },
            )
        if n % 4 == 0:  # a quarter of them consented to sensitive data
            scope = [ConsentScope.HEALTH, ConsentScope.DISABILITY, ConsentScope.ID_NUMBER]
            consent = registry.consent_record(
                actor=actor,
                resident=resident,
                scope=scope,
                method=rng.choice(ResidentConsent.Method.values),
                given_on=today - datetime.timedelta(days=rng.randrange(300)),
            )
            registry.sensitive_update(
                actor=actor,
                resident=resident,
                data={"health_notes": rng.choice(HEALTH), "id_number": _id_number(rng)},
            )
            if disabled is not None and n % 8 == 0:
                registry.group_add(
                    actor=actor,
                    resident=resident,
                    group=disabled,
                    disability_category=rng.choice(DisabilityCategory.values),
                    disability_level=rng.randint(1, 4),
                    verified_on=today - datetime.timedelta(days=rng.randrange(400)),
                )
            if n % 16 == 4:  # and one in sixteen withdrew it again (the data went with it)
                registry.consent_withdraw(actor=actor, consent=consent)
