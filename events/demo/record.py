"""Demo highlights of the public record: for each past month with a service
day, its stall with the most people served (and its best-attended activity
held, if any); for each past quarter and each year, the stall with the most
people served in it. Chosen by the demo center manager through the service,
like a real one. Deterministic for the rng it is given; runs once (it checks
for highlights). Called by the events demo (``events.demo.seed``)."""

import random

from django.db import transaction
from django.utils import timezone

from center.models import Role, User

from ..models import Activity, Highlight, ServiceDay, Stall
from ..selectors_record import Kind, Period, period_of
from ..services.highlights import highlight_add

TEXTS = (
    "摊位前排起长队，志愿者们一刻不停。",
    "老人们说：家门口就能修好，真方便。",
    "不少居民第一次来，听说后又带来了邻居。",
    "志愿者把操作步骤写在纸条上，留给居民。",
)


def _manager() -> User | None:
    return (
        User.objects.filter(is_active=True, username="center").first()
        or User.objects.filter(is_active=True, role=Role.CENTER_MANAGER).order_by("pk").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    )


def _top_stall(period: Period) -> Stall | None:
    return (
        Stall.objects.filter(
            venue__day__date__range=(period.start, period.end), people_served__gt=0
        )
        .select_related("venue__day", "venue__station")
        .order_by("-people_served", "id")
        .first()
    )


def _add_stall(actor, period: Period, stall: Stall, rng: random.Random, label: str) -> None:
    highlight_add(
        actor=actor,
        period=period.kind,
        period_start=period.start,
        title=f"{label}：{stall.venue.name}{stall.service}，服务群众{stall.people_served}人",
        text=rng.choice(TEXTS),
        stall=stall,
    )


@transaction.atomic
def seed_highlights(rng: random.Random) -> None:
    actor = _manager()
    if actor is None or Highlight.objects.exists():
        return
    today = timezone.localdate()
    dates = list(
        ServiceDay.objects.filter(date__lt=today, venues__isnull=False)
        .distinct()
        .order_by("date")
        .values_list("date", flat=True)
    )
    months = sorted({period_of(Kind.MONTH, d) for d in dates}, key=lambda p: p.start)
    quarters = sorted({period_of(Kind.QUARTER, d) for d in dates}, key=lambda p: p.start)
    years = sorted({period_of(Kind.YEAR, d) for d in dates}, key=lambda p: p.start)
    for month in months:
        stall = _top_stall(month)
        if stall is not None:
            _add_stall(actor, month, stall, rng, "本月之星")
        activity = (
            Activity.objects.filter(
                date__range=(month.start, month.end), status=Activity.Status.HELD
            )
            .order_by("-people_served", "id")
            .first()
        )
        if activity is not None:
            highlight_add(
                actor=actor,
                period=month.kind,
                period_start=month.start,
                title=activity.title,
                text=rng.choice(TEXTS),
                activity=activity,
            )
    for quarter in (q for q in quarters if q.is_closed(today)):
        stall = _top_stall(quarter)
        if stall is not None:
            _add_stall(actor, quarter, stall, rng, "季度亮点")
    for year in years:
        stall = _top_stall(year)
        if stall is not None:
            _add_stall(actor, year, stall, rng, "年度风采")
