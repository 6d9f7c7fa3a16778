"""The call log's demo (issue 14, part A), run at the end of the "requests"
demo part: six weeks of hotline calls (this month and last, for the report).

- Each hotline order of the last ``DAYS`` days gets the ``order`` call that
  ``order_create`` would have logged (the demo's orders are bulk-created).
- Enquiries, complaints and repeat calls over the same days, through
  ``services.calls`` (so stations, categories and the audit hold); today's
  are logged by the demo operator, so their console shows a count.
- Needs no catalogue item matches (代买药, 陪同就医, 宠物寄养 ...) kept from
  some enquiries, and two suggestions from community talks (社区议事).

Deterministic for the rng it is given; runs once (it checks for unmatched
requests)."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from center.models import Area, Role, ServiceCategory, Station, User

from ..models import CallLog, Resident, ResidentPhone, ServiceRequest, UnmatchedRequest
from ..services import calls

DAYS = 45  # this month and last: the monthly report has calls to show
# (words, category code) of needs the catalogue does not cover.
UNMATCHED = [
    ("代买药，老人腿脚不便去不了药店", "eldercare"),
    ("陪同就医，子女在外地", "medical"),
    ("宠物寄养，住院一周没人喂猫", "errands"),
    ("帮忙搬家具上楼", "housekeeping"),
    ("代取快递", "errands"),
    ("手机微信视频不会用，想有人教", "errands"),
    ("代缴有线电视费", "errands"),
    ("理发能不能上门", "eldercare"),
]
ENQUIRIES = [
    "问家电维修价格",
    "问上门时间",
    "问独居老人能否免费服务",
    "咨询一键通怎么申请",
    "问志愿服务日在哪里摆摊",
    "咨询法律援助",
]
COMPLAINTS = ["上门迟到", "收费比报价高", "态度不好", "修好后又坏了"]


def _category(code: str, categories: dict[str, ServiceCategory]) -> ServiceCategory | None:
    return categories.get(code) or next(iter(categories.values()), None)


@transaction.atomic
def seed(rng: random.Random) -> None:
    if UnmatchedRequest.objects.exists():
        return
    operator = User.objects.filter(username="operator").first() or (
        User.objects.filter(role=Role.OPERATOR).order_by("pk").first()
    )
    if operator is None:
        return
    now = timezone.now()
    since = now - datetime.timedelta(days=DAYS)
    # The order calls of the week's hotline orders (those not yet logged).
    orders = list(
        ServiceRequest.objects.filter(received_at__gte=since, channel="hotline", calls=None)
        .select_related("item")
        .order_by("received_at", "pk")
    )
    # The number that rang: the order's, else the resident's first.
    phones = dict(
        ResidentPhone.objects.filter(resident_id__in={o.resident_id for o in orders})
        .order_by("resident_id", "-pk")
        .values_list("resident_id", "number")
    )
    CallLog.objects.bulk_create(
        [
            CallLog(
                at=o.received_at,
                number=o.caller_phone or phones.get(o.resident_id, ""),
                resident_id=o.resident_id,
                kind=CallLog.Kind.ORDER,
                order=o,
                station_id=o.station_id,
                category_id=o.item.category_id,
                operator=operator,
                duration_seconds=rng.randint(90, 420),
            )
            for o in orders
        ],
        batch_size=2000,
    )
    categories = {c.code: c for c in ServiceCategory.objects.order_by("sort_order")}
    residents = list(
        Resident.objects.filter(community__isnull=False).select_related("community")[:400]
    )
    numbers = dict(
        ResidentPhone.objects.filter(resident__in=residents)
        .order_by("resident_id", "pk")
        .values_list("resident_id", "number")
    )
    # Repeat calls and complaints are about the week's orders, whatever their channel.
    week = list(
        ServiceRequest.objects.filter(received_at__gte=since)
        .select_related("item")
        .order_by("received_at", "pk")
    )
    per_day = 30
    phones.update(
        ResidentPhone.objects.filter(resident_id__in={o.resident_id for o in week})
        .order_by("resident_id", "-pk")
        .values_list("resident_id", "number")
    )
    for day in range(DAYS, -1, -1):
        for _ in range(per_day if day else per_day // 2):
            at = now - datetime.timedelta(days=day, minutes=rng.randint(1, 1439 if day else 480))
            if at > now:
                at = now - datetime.timedelta(minutes=1)
            kind = rng.choices(
                [CallLog.Kind.ENQUIRY, CallLog.Kind.REPEAT, CallLog.Kind.COMPLAINT], [60, 28, 12]
            )[0]
            if kind == CallLog.Kind.ENQUIRY or not week:
                resident = rng.choice(residents) if rng.random() < 0.7 else None
                calls.call_record(
                    actor=operator,
                    kind=CallLog.Kind.ENQUIRY,
                    number=numbers.get(resident.pk, "") if resident else "",
                    resident=resident,
                    category=rng.choice(list(categories.values())),
                    duration_seconds=rng.randint(40, 360),
                    note=rng.choice(ENQUIRIES),
                    at=at,
                )
                continue
            order = rng.choice(week)
            calls.call_record(
                actor=operator,
                kind=kind,
                number=order.caller_phone or phones.get(order.resident_id, ""),
                order=order,
                duration_seconds=rng.randint(30, 300),
                note=rng.choice(COMPLAINTS) if kind == CallLog.Kind.COMPLAINT else "催师傅上门",
                at=min(max(at, order.received_at + datetime.timedelta(minutes=5)), now),
            )
    # Needs no item matches, from enquiries of the week.
    for n, (words, code) in enumerate(UNMATCHED * 2):
        resident = residents[(n * 37) % len(residents)] if residents else None
        at = now - datetime.timedelta(days=n % DAYS, minutes=rng.randint(5, 600))
        call = calls.call_record(
            actor=operator,
            kind=CallLog.Kind.ENQUIRY,
            number=numbers.get(resident.pk, "") if resident else "",
            resident=resident,
            category=_category(code, categories),
            duration_seconds=rng.randint(60, 300),
            note="目录里没有对应服务项目",
            at=at,
        )
        calls.unmatched_record(
            actor=operator,
            source=UnmatchedRequest.Source.CALL,
            text=words,
            category=_category(code, categories),
            community=resident.community if resident else None,
            station=call.station,
            call=call,
        )
    # Two suggestions from community talks, at the demo station's communities.
    manager = User.objects.filter(username="station").first() or operator
    branch = Station.objects.filter(code="BR-330402001").first()
    communities = list(
        Area.objects.filter(level=Area.Level.COMMUNITY, serving_stations=branch).order_by("code")[
            :2
        ]
    )
    for community, (words, code, mentions, meeting) in zip(
        communities,
        [
            ("希望有老年助餐点", "eldercare", 9, "社区议事会（第三季度）"),
            ("楼道灯坏了没人修，想要公共维修服务", "plumbing", 5, "居民恳谈会"),
        ],
        strict=False,
    ):
        calls.unmatched_record(
            actor=manager,
            source=UnmatchedRequest.Source.TALK,
            text=words,
            category=_category(code, categories),
            community=community,
            station=branch,
            occasion=meeting,
            mentions=mentions,
            occurred_on=timezone.localdate() - datetime.timedelta(days=3),
        )
