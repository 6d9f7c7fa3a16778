"""The hotline's reminders (issue 13): who is told what about an order, and when.

- Offered, assigned, urged: the provider (``requests.services._tell_provider``;
  by SMS on ``provider_phone`` when they have no login, urgent for an emergency).
- Taken: the resident, by SMS, with the provider's name and when they come
  (``order_taken_tell_resident``, called by ``order_take``), where the center
  chooses (settings ``LIANXIN["RESIDENT_SMS"]``).
- Near and past the time limit: the provider holding the order and the
  station's managers (``order_limits_remind``, every 5 minutes). The limit is
  the one the console's red/yellow flags use (``selectors.flag``): settings
  ``ORDER_LIMIT_MINUTES[urgency] = (near, limit)`` minutes after the order was
  received; the order model has no deadline field of its own.
- Follow-up calls due: one digest a day per station to its managers
  (``follow_ups_due_remind``, 09:00).

Each reminder takes ``now``, reads what is due with indexed, bounded queries
and tells each person once: the notification key names the reminder, the
order (or station and day) and the recipient, so running it twice, or every
five minutes, tells no one twice. Reminders change no state: no audit entry
(the inbox and outbox rows are their record).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone, translation
from django.utils.translation import pgettext

from center.models import Delivery, Notification, Station, User
from center.notifications import notify
from center.validators import MOBILE_RE
from volunteers.models import Provider

from ..models import OrderOffer, ResidentPhone, ServiceRequest, Urgency

Status = ServiceRequest.Status

# An order is told "near" / "late" while it crossed that mark within this
# window: a beat that was down for less than this catches up; what crossed
# earlier is on the console's red list anyway. It bounds every run to the
# orders received in a window of this size (index order_urgency_open).
LIMIT_LOOKBACK = datetime.timedelta(hours=6)
CHUNK = 200


# --- who to text ------------------------------------------------------------------------


def provider_phone(provider: Provider) -> str:
    """The mobile a provider WITHOUT a login is texted on: the volunteer's or
    merchant's own, a team's leader's. "" for a provider with a login: their
    login's number and channel choices apply (``notify``). A query or two,
    for those few providers only (none when the caller selected the related
    rows, as dispatch does)."""
    if provider.user_id:
        return ""
    if provider.volunteer_id:
        return provider.volunteer.mobile
    if provider.merchant_id:
        return provider.merchant.mobile
    leader = provider.team.leader if provider.team_id else None
    return leader.mobile if leader is not None else ""


def _provider_key(provider: Provider) -> str:
    """The recipient part of a key: the login, else the provider row."""
    return str(provider.user_id) if provider.user_id else f"p{provider.pk}"


def resident_mobile(order: ServiceRequest) -> str:
    """The mobile to text the resident of ``order`` on: the number that
    called when it is a mobile, else the resident's first mobile on file; ""
    when there is none (a landline cannot take an SMS)."""
    if MOBILE_RE.match(order.caller_phone or ""):
        return order.caller_phone
    for number in (
        ResidentPhone.objects.filter(resident_id=order.resident_id)
        .order_by("pk")
        .values_list("number", flat=True)[:5]
    ):
        if MOBILE_RE.match(number):
            return number
    return ""


# Compound surnames (复姓) a volunteer's name may start with.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 令狐 夏侯 轩辕 端木 独孤 南宫 西门 "
    "宇文 司徒 申屠 太史 闻人 呼延 万俟".split()
)


def surname(name: str) -> str:
    """The family name of a Chinese name (its first character, or a compound
    surname's two); the first word of a name written with spaces."""
    name = (name or "").strip()
    if " " in name:
        return name.split()[0]
    if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def provider_display_name(provider: Provider) -> str:
    """How a resident is told who comes: a volunteer by surname, as residents
    address them (王师傅; nothing more of their identity), a merchant or team
    by its name. Written in the site's language (the resident's SMS is)."""
    if provider.kind == Provider.Kind.VOLUNTEER:
        with translation.override(settings.LANGUAGE_CODE):
            return pgettext(
                "a volunteer named to a resident by surname", "%(surname)s (volunteer)"
            ) % {"surname": surname(provider.name)}
    return provider.name


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


# --- taken: the resident -------------------------------------------------------------------


def order_taken_tell_resident(order: ServiceRequest, *, now: datetime.datetime | None = None):
    """Text the resident that ``order`` was taken: who comes and when (the
    agreed time of an appointment, else within the provider's travel minutes
    or the center's promise, ``DISPATCH_TARGET_MINUTES``, whichever is longer).
    Nothing when the center does not text residents (``RESIDENT_SMS``) or the
    resident has no mobile. Called by ``order_take`` in its transaction;
    once per dispatch round (a re-taken order names the new provider)."""
    if not settings.LIANXIN.get("RESIDENT_SMS", True) or order.provider_id is None:
        return
    phone = resident_mobile(order)
    if not phone:
        return
    now = now or timezone.now()
    minutes = settings.LIANXIN["DISPATCH_TARGET_MINUTES"]
    params = {"name": provider_display_name(order.provider), "number": order.number}
    if order.preferred_time and order.preferred_time > now + datetime.timedelta(minutes=minutes):
        message, params["time"] = "requests.order.taken_for", _local(order.preferred_time)
    else:
        travel = (
            OrderOffer.objects.filter(
                order=order, provider_id=order.provider_id, round=order.dispatch_round
            )
            .values_list("minutes", flat=True)
            .first()
            if order.mode == ServiceRequest.Mode.OFFER
            else None
        )
        message, params["minutes"] = "requests.order.taken", max(travel or 0, minutes)
    notify(
        recipient=None,
        key=f"requests.order.taken.{order.pk}.{order.dispatch_round}",
        kind="requests.resident",
        message=message,
        params=params,
        phone=phone,
        urgent=order.urgency == Urgency.EMERGENCY,
    )


def order_completed_tell_resident(order: ServiceRequest) -> None:
    """Text the resident that ``order`` is done and that the center will call
    back to ask how it went (回访, the follow-up): the resident's side of the
    follow-up. Same rules as ``order_taken_tell_resident`` (``RESIDENT_SMS``,
    a mobile on file); once per order. Called by ``order_complete`` in its
    transaction."""
    if not settings.LIANXIN.get("RESIDENT_SMS", True):
        return
    phone = resident_mobile(order)
    if not phone:
        return
    notify(
        recipient=None,
        key=f"requests.order.completed.{order.pk}",
        kind="requests.resident",
        message="requests.order.completed",
        params={"number": order.number},
        phone=phone,
    )


# --- near and past the time limit --------------------------------------------------------


def _limit_window(level: str, now: datetime.datetime) -> Q:
    """Open orders that crossed ``level`` ("near": the yellow mark, not yet
    the limit; "late": the limit) within ``LIMIT_LOOKBACK`` before ``now``.
    Per urgency a range of received_at: index order_urgency_open."""
    q = Q()
    for urgency, (near, limit) in settings.LIANXIN["ORDER_LIMIT_MINUTES"].items():
        crossed = now - datetime.timedelta(minutes=near if level == "near" else limit)
        upper = Q(received_at__lte=crossed)
        if level == "near":  # not yet late: the late reminder says it then
            upper &= Q(received_at__gt=now - datetime.timedelta(minutes=limit))
        q |= Q(urgency=urgency, received_at__gt=crossed - LIMIT_LOOKBACK) & upper
    return Q(status__in=ServiceRequest.OPEN) & q


def _managers_by_station(station_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active managers of each station: one query."""
    links = (
        Station.managers.through.objects.filter(
            station_id__in=set(station_ids), user__is_active=True
        )
        .select_related("user")
        .order_by("station_id", "user_id")
    )
    out: dict[int, list[User]] = defaultdict(list)
    for link in links:
        out[link.station_id].append(link.user)
    return out


def _already_told(keys_users: set[str], keys_phones: set[str]) -> set[str]:
    """Of these keys, those already told: inbox rows for logins, outbox rows
    for people without one (two queries, whatever the count)."""
    told = set(Notification.objects.filter(key__in=keys_users).values_list("key", flat=True))
    told |= {
        k.rsplit(":", 1)[0]
        for k in Delivery.objects.filter(key__in=[f"{k}:sms" for k in keys_phones]).values_list(
            "key", flat=True
        )
    }
    return told


def _limit_notices(level: str, orders: list[ServiceRequest], now: datetime.datetime) -> int:
    managers = _managers_by_station(o.station_id for o in orders)
    plans = []  # (order, key, recipient, phone)
    for order in orders:
        base = f"requests.reminder.{level}.{order.pk}"
        if order.provider_id:
            p = order.provider
            plans.append((order, f"{base}.{_provider_key(p)}", p.user, None))
        for manager in managers.get(order.station_id, ()):
            plans.append((order, f"{base}.{manager.pk}", manager, ""))
    told = _already_told(
        {key for _o, key, user, _p in plans if user is not None},
        {key for _o, key, user, _p in plans if user is None},
    )
    sent, by_order, seen = 0, defaultdict(list), set(told)
    for order, key, user, phone in plans:
        if key not in seen:  # a manager holding the order themselves: told once
            seen.add(key)
            by_order[order.pk].append((order, key, user, phone))
    for rows in by_order.values():
        with transaction.atomic():  # an order's notices: all written, or none
            for order, key, user, phone in rows:
                limit = settings.LIANXIN["ORDER_LIMIT_MINUTES"][order.urgency][1]
                notify(
                    recipient=user,
                    key=key,
                    kind="requests.reminder",
                    message=f"requests.reminder.{level}",
                    params={
                        "number": order.number,
                        "time": _local(order.received_at + datetime.timedelta(minutes=limit)),
                        "item": order.item.name,
                        "address": order.address,
                    },
                    urgent=order.urgency == Urgency.EMERGENCY,
                    phone=provider_phone(order.provider) if phone is None else "",
                )
                sent += 1
    return sent


def order_limits_remind(*, now: datetime.datetime | None = None) -> int:
    """Every 5 minutes: open orders that reached the yellow mark ("near",
    ``requests.reminder.near``) or their time limit ("late",
    ``requests.reminder.late``), told to the provider holding the order and
    the station's managers, once each per order and level. Returns how many
    were told. Queries: per chunk of ``CHUNK`` orders, one for the orders,
    one for the managers, two for what was already told, then a constant
    few per new notice."""
    now = now or timezone.now()
    told = 0
    for level in ("near", "late"):
        qs = (
            ServiceRequest.objects.filter(_limit_window(level, now))
            .select_related(
                "item", "provider__volunteer", "provider__merchant", "provider__team__leader"
            )
            .order_by("received_at", "pk")
        )
        chunk: list[ServiceRequest] = []
        for order in qs.iterator(chunk_size=CHUNK):
            chunk.append(order)
            if len(chunk) == CHUNK:
                told += _limit_notices(level, chunk, now)
                chunk = []
        if chunk:
            told += _limit_notices(level, chunk, now)
    return told


# --- follow-up calls due: a daily digest per station ---------------------------------------


def follow_ups_due_remind(*, now: datetime.datetime | None = None) -> int:
    """Daily at 09:00: each station with completed orders awaiting their
    follow-up call (回访) that were completed before today tells its managers
    how many, in one message per station and day
    (``requests.reminder.followup``), never one per order. One grouped query
    over the follow-up queue (index order_followup_queue), one for the
    managers, then a constant few per manager told. Returns how many were told."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = datetime.datetime.combine(
        today, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    due = list(
        ServiceRequest.objects.filter(status=Status.COMPLETED, completed_at__lt=start)
        .order_by()
        .values("station_id", "station__name")
        .annotate(n=Count("pk"), oldest=Min("completed_at"))
    )
    managers = _managers_by_station(row["station_id"] for row in due)
    plans = [
        (
            f"requests.reminder.followup.{row['station_id']}.{today:%Y%m%d}.{manager.pk}",
            manager,
            row,
        )
        for row in due
        for manager in managers.get(row["station_id"], ())
    ]
    told = _already_told({key for key, _m, _r in plans}, set())
    for key, manager, row in plans:
        if key in told:
            continue
        with transaction.atomic():
            notify(
                recipient=manager,
                key=key,
                kind="requests.reminder",
                message="requests.reminder.followup",
                params={
                    "n": row["n"],
                    "station": row["station__name"],
                    "date": timezone.localdate(row["oldest"]).isoformat(),
                },
            )
    return len(plans) - len(told)
