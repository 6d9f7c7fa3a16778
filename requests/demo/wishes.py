"""Demo micro-wishes: a wall with wishes in every state (draft to confirmed,
withdrawn, rolled over, group adoptions by shares, one overdue for contact),
written through the services so the audit trail reads as in real use.
Deterministic and idempotent (it runs once: it checks for any wish)."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from center.models import Role, User
from requests.models import MicroWish, Resident
from requests.services import wishes as services
from volunteers.models import Organization, Volunteer
from volunteers.selectors import eligible_q

WISHES = (
    ("一台电饭煲", MicroWish.Kind.GOODS, "200", 1),
    ("冬天的棉被两床", MicroWish.Kind.GOODS, "400", 2),
    ("一副老花镜", MicroWish.Kind.GOODS, "80", 1),
    ("陪老人去医院复查", MicroWish.Kind.SERVICE, "0", 1),
    ("修理漏水的厨房水龙头", MicroWish.Kind.SERVICE, "60", 1),
    ("孩子的新书包和文具", MicroWish.Kind.GOODS, "150", 1),
    ("一台微波炉", MicroWish.Kind.GOODS, "600", 3),
    ("周末陪老人聊聊天", MicroWish.Kind.COMPANY, "0", 1),
    ("一辆轮椅", MicroWish.Kind.GOODS, "900", 3),
    ("帮忙拍一张全家福", MicroWish.Kind.SERVICE, "100", 1),
    ("一个电暖器", MicroWish.Kind.GOODS, "260", 2),
    ("教老人用智能手机", MicroWish.Kind.COMPANY, "0", 1),
)
# The state each demo wish is walked to, in turn.
STAGES = (
    "draft",
    "partly",  # a two-share wish, one share taken
    "published",
    "published",
    "verified",
    "adopted",
    "overdue",
    "contacted",
    "fulfilled",
    "confirmed",
    "withdrawn",
    "rolled",
)
DESCRIPTION = "社区走访时了解到的心愿，已与家庭核实。"


@transaction.atomic
def seed(rng: random.Random) -> None:
    if MicroWish.objects.exists():
        return
    residents = list(
        Resident.objects.filter(community__isnull=False)
        .order_by("id")
        .only("id", "community")[:400]
    )
    volunteers = list(Volunteer.objects.filter(eligible_q()).order_by("id")[:200])
    if not residents or not volunteers:
        return
    organizations = list(Organization.objects.order_by("id")[:20])
    staff = User.objects.filter(role=Role.CENTER_MANAGER, is_active=True).order_by("id").first()
    today = timezone.localdate()
    for n in range(36):
        title, kind, cost, shares = WISHES[n % len(WISHES)]
        stage = STAGES[n % len(STAGES)]
        wish = services.wish_create(
            actor=None,
            resident=rng.choice(residents),
            title=title,
            kind=kind,
            deadline=today + datetime.timedelta(days=rng.randint(7, 40)),
            source=rng.choice(MicroWish.Source.values),
            estimated_cost=Decimal(cost),
            description=DESCRIPTION,
            shares=shares,
        )
        _walk(wish, stage, rng, volunteers, organizations, today, staff)


def _walk(wish, stage, rng, volunteers, organizations, today, staff) -> None:
    if stage == "draft":
        return
    wish = services.wish_verify(actor=None, wish=wish)
    if stage == "verified":
        return
    wish = services.wish_publish(actor=None, wish=wish)
    if stage == "withdrawn":
        services.wish_withdraw(actor=None, wish=wish, reason="家庭已通过其他途径解决")
        return
    if stage == "rolled":
        MicroWish.objects.filter(pk=wish.pk).update(deadline=today - datetime.timedelta(days=1))
        services.wish_rollover(wish=wish, today=today)
        return
    if stage == "published":
        return
    adopters = rng.sample(volunteers, min(len(volunteers), wish.shares))
    if stage == "partly":
        if wish.shares > 1:
            services.wish_adopt(actor=None, wish=wish, volunteer=adopters[-1])
        return
    for i, volunteer in enumerate(adopters):
        if i == 0 and organizations and staff is not None and wish.shares > 1:
            # An organization takes the first share through a staff member.
            services.wish_adopt(actor=staff, wish=wish, organization=rng.choice(organizations))
            continue
        services.wish_adopt(
            actor=None, wish=wish, volunteer=volunteer, is_remote=(i == 0 and rng.random() < 0.3)
        )
    if stage == "overdue":
        MicroWish.objects.filter(pk=wish.pk).update(
            contact_due_at=timezone.now() - datetime.timedelta(days=2)
        )
        return
    if stage == "adopted":
        return
    wish = services.wish_contact(actor=None, wish=wish, volunteer=adopters[-1])
    if stage == "contacted":
        return
    # A shared wish's fulfilment is recorded by the station (services.wish_fulfil).
    shared = wish.adoptions.filter(status="active").count() > 1
    if shared and staff is None:
        return
    wish = services.wish_fulfil(
        actor=staff if shared else None,
        wish=wish,
        volunteer=None if shared else adopters[-1],
        note="已送到家中，并教会老人使用。",
        spent=wish.estimated_cost,
    )
    if stage == "fulfilled":
        return
    services.wish_confirm(actor=None, wish=wish)
