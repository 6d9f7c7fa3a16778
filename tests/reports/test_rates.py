"""The order figures of docs/metrics.md on a fixture computed by hand.

Every order is driven through the real services (``requests.services``) with
the clock moved by time-machine, so its timestamps, ``response_seconds``,
``arrival_seconds`` and ``arrival_unreported`` are the ones production
writes. Only the query-count test writes rows directly (``bulk_create``).

March 2026, Asia/Shanghai, target DISPATCH_TARGET_MINUTES = 10 (600 s).
Minutes below: received → taken (response), taken → arrived (arrival).

Station A (``station``)
  a1  09:00  taken 5, arrived 7, completed, 满意 → archived
  a2  09:00  taken 20 (late), arrived 15 (late), completed, 基本满意
  a3  09:00  taken 8, completed without arrival (unreported), 不满意 + reopen;
             again: taken 11:02 (122 min after receipt: late), arrived 8,
             completed, 满意. One order, two follow-ups, the last one counts.
  a4  09:00  assigned, never taken
  a5  09:00  cancelled before dispatch
  a6  09:00  received only
  a7  1 Mar 00:30 (28 Feb in UTC: inside in Shanghai)  taken 3, arrived 7, completed
  a8  10:00  taken 4, completed without arrival (unreported, counted apart)
  a9  09:00  taken 6, arrived 9, completed, 不满意 (archived, no reopen)
  before: 28 Feb 23:59 — outside the range (fast, 满意: would change everything)
Station B (``other_station``)
  b1  31 Mar 14:00 (the last day is included), emergency: taken 3, arrived 10
      (exactly the target: within), completed, 基本满意
  b2  15 Mar 10:00  assigned, cancelled after dispatch
  after: 1 Apr 00:00 — outside the range
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reports import selectors
from reports.selectors import order_rates
from requests import services
from requests.models import FollowUp, ServiceRequest
from tests.factories import ResidentFactory, ServiceItemFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
MARCH = {"start": datetime.date(2026, 3, 1), "end": datetime.date(2026, 3, 31)}


def t(day: int, hour: int, minute: int, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=TZ)


class Desk:
    """The operator's steps at a given wall-clock time."""

    def __init__(self, operator, resident, item):
        self.operator, self.resident, self.item = operator, resident, item

    def _at(self, when, step, **kw):
        with time_machine.travel(when, tick=False):
            return step(actor=self.operator, **kw)

    def receive(self, when, station, urgency="normal"):
        return self._at(
            when,
            services.order_create,
            resident=self.resident,
            item=self.item,
            channel="hotline",
            station=station,
            urgency=urgency,
        )

    def assign(self, when, order, provider):
        return self._at(when, services.order_assign, order=order, provider=provider)

    def take(self, when, order):
        return self._at(when, services.order_take, order=order)

    def arrive(self, when, order):
        return self._at(when, services.order_arrive, order=order)

    def complete(self, when, order):
        return self._at(when, services.order_complete, order=order, notes="修好", fee=Decimal(0))

    def cancel(self, when, order):
        return self._at(when, services.order_cancel, order=order, reason="居民自行解决")

    def follow_up(self, when, order, satisfaction, reopen=False):
        score = {"satisfied": 5, "basically": 4, "unsatisfied": 2}[satisfaction]
        return self._at(
            when,
            services.follow_up_record,
            order=order,
            satisfaction=satisfaction,
            score=score,
            words="回访记录",
            reopen=reopen,
        )

    def served(self, order, provider, *, taken, arrived, done, received=None):
        """Assign a minute after receipt, take ``taken`` and report arrival
        ``arrived`` minutes later (None: never reported), complete at ``done``."""
        received = received or order.received_at
        self.assign(received + datetime.timedelta(minutes=1), order, provider)
        took = received + datetime.timedelta(minutes=taken)
        self.take(took, order)
        if arrived is not None:
            self.arrive(took + datetime.timedelta(minutes=arrived), order)
        return self.complete(done, order)


@pytest.fixture
def story(settings, operator, station, other_station):
    settings.LIANXIN = {**settings.LIANXIN, "DISPATCH_TARGET_MINUTES": 10}
    desk = Desk(operator, ResidentFactory(), ServiceItemFactory())
    va = VolunteerFactory(station=station, user=UserFactory(role="volunteer"))
    vb = VolunteerFactory(station=other_station, user=UserFactory(role="volunteer"))
    A, B = station, other_station
    o = {}
    for name in ("a1", "a2", "a3", "a4", "a5", "a6", "a9"):
        o[name] = desk.receive(t(10, 9, 0), A)
    desk.served(o["a1"], va, taken=5, arrived=7, done=t(10, 9, 40))
    desk.follow_up(t(10, 15, 0), o["a1"], "satisfied")
    desk.served(o["a2"], va, taken=20, arrived=15, done=t(10, 10, 0))
    desk.follow_up(t(10, 15, 1), o["a2"], "basically")
    desk.served(o["a3"], va, taken=8, arrived=None, done=t(10, 9, 30))
    desk.follow_up(t(10, 10, 0), o["a3"], "unsatisfied", reopen=True)
    desk.assign(t(10, 11, 0), o["a3"], va)
    desk.take(t(10, 11, 2), o["a3"])
    desk.arrive(t(10, 11, 10), o["a3"])
    desk.complete(t(10, 11, 30), o["a3"])
    desk.follow_up(t(10, 16, 0), o["a3"], "satisfied")
    desk.assign(t(10, 9, 2), o["a4"], va)
    desk.cancel(t(10, 9, 3), o["a5"])
    o["a7"] = desk.receive(t(1, 0, 30), A)
    desk.served(o["a7"], va, taken=3, arrived=7, done=t(1, 1, 0))
    o["a8"] = desk.receive(t(10, 10, 0), A)
    desk.served(o["a8"], va, taken=4, arrived=None, done=t(10, 10, 30))
    desk.served(o["a9"], va, taken=6, arrived=9, done=t(10, 9, 50))
    desk.follow_up(t(10, 15, 2), o["a9"], "unsatisfied")
    o["before"] = desk.receive(t(28, 23, 59, month=2), A)
    desk.served(o["before"], va, taken=1, arrived=1, done=t(1, 0, 10))
    desk.follow_up(t(1, 9, 0), o["before"], "satisfied")

    o["b1"] = desk.receive(t(31, 14, 0), B, urgency="emergency")
    desk.served(o["b1"], vb, taken=3, arrived=10, done=t(31, 15, 0))
    desk.follow_up(t(31, 16, 0), o["b1"], "basically")
    o["b2"] = desk.receive(t(15, 10, 0), B)
    desk.assign(t(15, 10, 1), o["b2"], vb)
    desk.cancel(t(15, 10, 5), o["b2"])
    o["after"] = desk.receive(t(1, 0, 0, month=4), B)
    desk.served(o["after"], vb, taken=1, arrived=1, done=t(1, 0, 10, month=4))
    return o


def counts(figures: dict) -> dict:
    return {k: figures[k] for k in (*selectors.COUNTS, "accepted")}


# Station A, by hand:
#   received 9 (a1–a9); cancelled 1 (a5); accepted 9 − 1 = 8
#   completed 6 (a1 a2 a3 a7 a8 a9; a3 once though completed twice) → 6/8
#   dispatched 7 (all but a5, a6); taken within 600 s: a1 300, a7 180,
#     a8 240, a9 360 = 4 (a2 1200, a3 7320 late; a4 never) → 4/7
#   arrivals reported 5 (a1 420, a2 900, a3 480, a7 420, a9 540),
#     within 600 s 4 (not a2) → 4/5; unreported 1 (a8; a3's first, unreported
#     arrival was undone by the reopen)
#   follow-ups: 4 orders (a1 满意, a2 基本满意, a3 last 满意, a9 不满意),
#     satisfied 3 → 3/4
A_COUNTS = {
    "received": 9,
    "cancelled": 1,
    "accepted": 8,
    "completed": 6,
    "dispatched": 7,
    "taken_in_target": 4,
    "arrivals": 5,
    "arrivals_in_target": 4,
    "arrivals_unreported": 1,
    "follow_ups": 4,
    "satisfied": 3,
}
# Station B: received 2, cancelled 1 (b2), accepted 1, completed 1 → 1/1;
#   dispatched 2 (b1, and b2 before its cancel), taken in target 1 (b1 180)
#   → 1/2; arrivals 1 (600 s, within) → 1/1; follow-ups 1, satisfied 1 → 1/1
B_COUNTS = {
    "received": 2,
    "cancelled": 1,
    "accepted": 1,
    "completed": 1,
    "dispatched": 2,
    "taken_in_target": 1,
    "arrivals": 1,
    "arrivals_in_target": 1,
    "arrivals_unreported": 0,
    "follow_ups": 1,
    "satisfied": 1,
}
# The city: the sums. received 11, cancelled 2, accepted 9, completed 7 → 7/9;
#   dispatched 9, in target 5 → 5/9; arrivals 6, in target 5 → 5/6;
#   unreported 1; follow-ups 5, satisfied 4 → 4/5
CITY_COUNTS = {k: A_COUNTS[k] + B_COUNTS[k] for k in A_COUNTS}


def test_order_rates_match_the_hand_computed_fixture(story, operator, station, other_station):
    assert ServiceRequest.objects.get(pk=story["a3"].pk).reopen_count == 1
    assert FollowUp.objects.filter(order=story["a3"]).count() == 2

    rates = order_rates(user=operator, **MARCH)

    assert list(rates["stations"]) == [station.pk, other_station.pk]
    a, b, city = rates["stations"][station.pk], rates["stations"][other_station.pk], rates["total"]
    assert counts(a) == A_COUNTS
    assert counts(b) == B_COUNTS
    assert counts(city) == CITY_COUNTS
    assert (a["resolution_rate"], a["response_rate"]) == (6 / 8, 4 / 7)
    assert (a["arrival_share"], a["satisfaction_rate"]) == (4 / 5, 3 / 4)
    assert (b["resolution_rate"], b["response_rate"]) == (1.0, 1 / 2)
    assert (b["arrival_share"], b["satisfaction_rate"]) == (1.0, 1.0)
    assert (city["resolution_rate"], city["response_rate"]) == (7 / 9, 5 / 9)
    assert (city["arrival_share"], city["satisfaction_rate"]) == (5 / 6, 4 / 5)


@pytest.mark.postgres
def test_medians_in_minutes_on_postgresql(story, operator, station, other_station):
    rates = order_rates(user=operator, **MARCH)
    a, b, city = rates["stations"][station.pk], rates["stations"][other_station.pk], rates["total"]
    # To take, seconds: A 180 240 300 360 1200 7320 → (300 + 360) / 2 = 330 s
    #   B 180 → 180 s; city 180 180 240 300 360 1200 7320 → 300 s
    assert (a["median_take_minutes"], b["median_take_minutes"]) == (5.5, 3.0)
    assert city["median_take_minutes"] == 5.0
    # To arrive, reported only (a8 left out): A 420 420 480 540 900 → 480 s;
    #   B 600; city 420 420 480 540 600 900 → (480 + 540) / 2 = 510 s
    assert (a["median_arrival_minutes"], b["median_arrival_minutes"]) == (8.0, 10.0)
    assert city["median_arrival_minutes"] == 8.5


def test_medians_are_none_without_postgresql(story, operator, station):
    if selectors.medians_supported():
        pytest.skip("SQLite only: PostgreSQL computes the medians")
    rates = order_rates(user=operator, **MARCH)
    assert rates["stations"][station.pk]["median_take_minutes"] is None
    assert rates["total"]["median_arrival_minutes"] is None


def test_urgency_narrows_to_emergencies(story, operator, other_station):
    rates = order_rates(user=operator, urgency="emergency", **MARCH)
    assert list(rates["stations"]) == [other_station.pk]
    # b1 alone: received, dispatched, taken and arrived in target, 基本满意
    assert rates["total"]["received"] == 1
    assert rates["total"]["response_rate"] == 1.0
    assert rates["total"]["satisfaction_rate"] == 1.0


def test_the_range_is_shanghai_days_with_the_end_included(story, operator, station):
    # 1 March alone: a7 (00:30 in Shanghai, still 28 Feb in UTC); not "before".
    one_day = order_rates(
        user=operator, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 1)
    )
    assert one_day["total"]["received"] == 1
    assert one_day["stations"][station.pk]["taken_in_target"] == 1
    # 28 February alone: "before" (23:59) only, with its 满意 follow-up.
    feb = order_rates(
        user=operator, start=datetime.date(2026, 2, 28), end=datetime.date(2026, 2, 28)
    )
    assert (feb["total"]["received"], feb["total"]["satisfied"]) == (1, 1)


def test_a_station_manager_gets_only_their_stations(story, station_manager, station):
    rates = order_rates(user=station_manager, **MARCH)
    assert list(rates["stations"]) == [station.pk]
    assert counts(rates["total"]) == A_COUNTS  # their total, not the city's


def test_station_ids_narrow_within_the_scope_never_beyond(
    story, operator, station_manager, station, other_station
):
    only_b = order_rates(user=operator, station_ids=[other_station.pk], **MARCH)
    assert list(only_b["stations"]) == [other_station.pk]
    assert counts(only_b["total"]) == B_COUNTS
    beyond = order_rates(user=station_manager, station_ids=[other_station.pk], **MARCH)
    assert beyond["stations"] == {}
    assert beyond["total"]["received"] == 0


@pytest.mark.parametrize("who", ["outsider", "volunteer_user"])
def test_anyone_without_a_station_scope_gets_nothing(story, request, who):
    rates = order_rates(user=request.getfixturevalue(who), **MARCH)
    assert rates["stations"] == {}
    assert rates["total"]["received"] == 0
    assert rates["total"]["response_rate"] is None
    assert rates["total"]["median_take_minutes"] is None


def test_no_orders_gives_none_rates_not_zero(operator):
    rates = order_rates(user=operator, **MARCH)
    assert rates["stations"] == {}
    assert rates["total"]["resolution_rate"] is None


def _bulk_orders(n: int, station, other_station) -> None:
    """``n`` orders in varied states written directly (bulk_create): the
    query count, not the figures, is under test here."""
    resident, item = ResidentFactory(), ServiceItemFactory()
    day = t(10, 9, 0)
    rows = []
    for i in range(n):
        done = i % 3 == 0
        rows.append(
            ServiceRequest(
                number=f"BULK{n:03d}{i:05d}",
                resident=resident,
                item=item,
                station=station if i % 2 else other_station,
                address="南湖区",
                quoted_price=Decimal(0),
                received_at=day,
                status="completed" if done else "taken",
                dispatched_at=day,
                taken_at=day,
                response_seconds=60 * (i % 15),
                arrived_at=day if done else None,
                arrival_seconds=60 * (i % 13) if done else None,
                arrival_unreported=done and i % 2 == 0,
                completed_at=day if done else None,
            )
        )
    orders = ServiceRequest.objects.bulk_create(rows)
    FollowUp.objects.bulk_create(
        FollowUp(order=o, satisfaction="satisfied", score=5) for o in orders[::3]
    )


@pytest.mark.parametrize("n", [10, 50])
def test_query_count_is_constant_as_orders_grow(
    n, station_manager, station, other_station, django_assert_num_queries
):
    _bulk_orders(n, station, other_station)
    # the manager's stations, orders by station, latest follow-ups by
    # station, and (PostgreSQL) the total's medians
    expected = 4 if selectors.medians_supported() else 3
    with django_assert_num_queries(expected):
        rates = order_rates(user=station_manager, **MARCH)
    assert rates["total"]["received"] == n // 2
