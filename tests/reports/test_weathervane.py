"""The weathervane's figures (reports.selectors_weathervane) on a fixture
computed by hand. Definitions: docs/metrics.md "Weathervane".

Today is 10 April 2026 (Asia/Shanghai). The default period is March 2026
(31 days); the previous period is the 31 days before, 29 Jan – 28 Feb 2026;
a year earlier is March 2025. Minimum volume for a percentage: 10 orders.

Orders of station A (``station``), per item: this period / previous / a year earlier
  I1 代办证件 (cat 事务类, community K2)   16 / 10 /  5   prev +6  +60.0 %   year +11  — (5 < 10)
  I2 上门理发 (cat 生活类, community K1)   30 / 20 / 25   prev +10 +50.0 %   year +5   +20.0 %
  I3 管道疏通 (cat 生活类, K2; one of the
     current three has no community)       3 /  1 /  0   prev +2  — (1 < 10) year +3 new
  I4 修钥匙   (cat 生活类, community K1)    8 / 12 /  8   fell / level: never ranked
I1's orders sit on the edges: 1 Mar 00:30 (28 Feb in UTC) and 31 Mar 23:59
are current, 28 Feb 23:59 and 29 Jan 00:00 previous; 28 Jan 23:59 and
1 Apr 00:00 count nowhere.
Communities (A): K1 = I2 + I4: 38 / 32 / 33; K2 = I1 + two of I3: 18 / 11 / 5.
Station B (``other_station``): I3 50 in March (community K3), nothing before.

Unmatched requests of March (A unless said):
  call "代买药" K1, call " 代买药。" K2, call "代买 药" K1, talk "代买药" ×5 K1 — cat 生活类
      → one group: 3 calls + 5 mentions = 8, communities K1 7, K2 1
  call "代买药" cat 事务类 → another group (another category): 1
  call "Pet Sitting", call "pet  sitting!" — cat 事务类 → one group: 2
  talk "加装电梯" ×12, no category → 12 (the largest)
  call "代买药" on 28 Feb → outside; B: call "代买药" 生活类 → not A's
"""

import datetime
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from center.roles import ALL
from reports import selectors_weathervane as wv
from requests.models import ServiceRequest, UnmatchedRequest
from tests.factories import (
    CommunityFactory,
    ResidentFactory,
    ServiceCategoryFactory,
    ServiceItemFactory,
)

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 4, 10)
MARCH = wv.Period(wv.MONTH, datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
_numbers = itertools.count(1)


def at(y, m, d, hh=10, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=TZ)


def orders(n, *, item, station, community, when, resident):
    """``n`` orders received at ``when`` written directly: only received_at,
    item, community and station matter to the weathervane."""
    ServiceRequest.objects.bulk_create(
        ServiceRequest(
            number=f"WV{next(_numbers):07d}",
            resident=resident,
            item=item,
            station=station,
            community=community,
            address="南湖区",
            quoted_price=Decimal(0),
            received_at=when,
        )
        for _ in range(n)
    )


def unmatched(text, *, station, when=datetime.date(2026, 3, 15), source="call", **kw):
    return UnmatchedRequest.objects.create(
        text=text, station=station, occurred_on=when, source=source, **kw
    )


@pytest.fixture
def story(settings, station, other_station):
    settings.LIANXIN = {**settings.LIANXIN, "WEATHERVANE_MIN_VOLUME": 10}
    life = ServiceCategoryFactory(name="生活类")
    affairs = ServiceCategoryFactory(name="事务类")
    i1 = ServiceItemFactory(name="代办证件", category=affairs)
    i2 = ServiceItemFactory(name="上门理发", category=life)
    i3 = ServiceItemFactory(name="管道疏通", category=life)
    i4 = ServiceItemFactory(name="修钥匙", category=life)
    k1, k2, k3 = (CommunityFactory(name=n) for n in ("K1社区", "K2社区", "K3社区"))
    r = ResidentFactory()
    A, B = station, other_station

    def put(n, item, community, when, st=A):
        orders(n, item=item, station=st, community=community, when=when, resident=r)

    # I1 with its edge orders: current 16 = 13 + 1 Mar 00:30 + 31 Mar 23:59 + 1
    put(13, i1, k2, at(2026, 3, 10))
    put(1, i1, k2, at(2026, 3, 1, 0, 30))
    put(1, i1, k2, at(2026, 3, 31, 23, 59))
    put(1, i1, k2, at(2026, 3, 20))
    # previous 10 = 8 + 28 Feb 23:59 + 29 Jan 00:00
    put(8, i1, k2, at(2026, 2, 10))
    put(1, i1, k2, at(2026, 2, 28, 23, 59))
    put(1, i1, k2, at(2026, 1, 29, 0, 0))
    put(5, i1, k2, at(2025, 3, 12))
    # nowhere: before the previous period, after the period
    put(1, i1, k2, at(2026, 1, 28, 23, 59))
    put(1, i1, k2, at(2026, 4, 1, 0, 0))
    put(30, i2, k1, at(2026, 3, 5))
    put(20, i2, k1, at(2026, 2, 5))
    put(25, i2, k1, at(2025, 3, 5))
    put(2, i3, k2, at(2026, 3, 6))
    put(1, i3, None, at(2026, 3, 6))
    put(1, i3, k2, at(2026, 2, 6))
    put(8, i4, k1, at(2026, 3, 7))
    put(12, i4, k1, at(2026, 2, 7))
    put(8, i4, k1, at(2025, 3, 7))
    put(50, i3, k3, at(2026, 3, 8), st=B)

    unmatched("代买药", station=A, community=k1, category=life)
    unmatched(" 代买药。", station=A, community=k2, category=life)
    unmatched("代买 药", station=A, community=k1, category=life)
    unmatched("代买药", station=A, community=k1, category=life, source="talk", mentions=5)
    unmatched("代买药", station=A, community=k1, category=affairs)
    unmatched("Pet Sitting", station=A, category=affairs)
    unmatched("pet  sitting!", station=A, category=affairs)
    unmatched("加装电梯", station=A, community=k2, source="talk", mentions=12)
    unmatched("代买药", station=A, category=life, when=datetime.date(2026, 2, 28))
    unmatched("代买药", station=B, community=k3, category=life)
    return {"i": (i1, i2, i3, i4), "k": (k1, k2, k3), "life": life, "affairs": affairs}


def by_name(rows):
    return {r["name"]: (r["current"], r["previous"], r["year"]) for r in rows}


def ranked(rows, vs, by, floor=10):
    return [
        (r["name"], r["vs"]["diff"], r["vs"]["pct"])
        for r in wv.rank(rows, vs=vs, by=by, floor=floor)
    ]


# --- Periods ---------------------------------------------------------------------------


def test_default_period_is_the_last_complete_month_with_its_comparisons():
    p = wv.period_for(today=TODAY)
    assert (p.start, p.end) == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    prev = p.previous()
    assert (prev.start, prev.end) == (datetime.date(2026, 1, 29), datetime.date(2026, 2, 28))
    assert prev.days == p.days == 31
    year = p.year_earlier()
    assert (year.start, year.end) == (datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
    assert wv.snapshot_key(p) == "weathervane:city:m:2026-03"


def test_day_windows_end_yesterday_and_leap_days_go_back_to_28_february():
    p = wv.period_for("d7", today=TODAY)
    assert (p.start, p.end) == (datetime.date(2026, 4, 3), datetime.date(2026, 4, 9))
    assert (p.previous().start, p.previous().end) == (
        datetime.date(2026, 3, 27),
        datetime.date(2026, 4, 2),
    )
    assert wv.snapshot_key(p) == "weathervane:city:d7:2026-04-09"
    p30 = wv.period_for("d30", today=datetime.date(2028, 3, 1))
    assert p30.end == datetime.date(2028, 2, 29)
    assert p30.year_earlier().end == datetime.date(2027, 2, 28)


@pytest.mark.parametrize(
    "month",
    ["2026-04", "2026-05", "2026-13", "x", "1999-12", "2024-03"],  # 25 months back
)
def test_an_incomplete_bad_or_too_old_month_gives_the_last_complete_one(month):
    assert wv.period_for("month", month, today=TODAY).start == datetime.date(2026, 3, 1)


def test_a_chosen_month_up_to_two_years_back():
    assert wv.period_for("month", "2024-04", today=TODAY).start == datetime.date(2024, 4, 1)
    p = wv.period_for("month", "2024-02", today=datetime.date(2025, 4, 10))
    assert (p.start, p.end) == (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    assert (p.previous().start, p.previous().end) == (
        datetime.date(2024, 1, 3),
        datetime.date(2024, 1, 31),
    )
    assert p.year_earlier().end == datetime.date(2023, 2, 28)


# --- Demand and rises --------------------------------------------------------------------


def test_station_manager_counts_their_stations_on_shanghai_days(story, station_manager):
    with timezone.override("UTC"):  # the active zone does not move the day edges
        data = wv.weathervane(user=station_manager, period=MARCH)
    assert data["live"] and not data["city"]
    assert by_name(data["items"]) == {
        "代办证件": (16, 10, 5),
        "上门理发": (30, 20, 25),
        "管道疏通": (3, 1, 0),  # station B's 50 are not the manager's
        "修钥匙": (8, 12, 8),
    }
    assert data["totals"] == {"current": 57, "previous": 43, "year": 38}
    assert by_name(data["communities"]) == {"K1社区": (38, 32, 33), "K2社区": (18, 11, 5)}


def test_rises_against_the_previous_period(story, station_manager):
    items = wv.weathervane(user=station_manager, period=MARCH)["items"]
    assert ranked(items, "previous", "count") == [
        ("上门理发", 10, 50.0),
        ("代办证件", 6, 60.0),
        ("管道疏通", 2, None),
    ]
    # 1 → 3 is +200 %, but 1 order is under the minimum volume: not ranked by percent.
    assert ranked(items, "previous", "percent") == [("代办证件", 6, 60.0), ("上门理发", 10, 50.0)]


def test_rises_against_a_year_earlier(story, station_manager):
    items = wv.weathervane(user=station_manager, period=MARCH)["items"]
    assert ranked(items, "year", "count") == [
        ("代办证件", 11, None),  # 5 a year ago: under the minimum, no percentage
        ("上门理发", 5, 20.0),
        ("管道疏通", 3, None),
    ]
    assert ranked(items, "year", "percent") == [("上门理发", 5, 20.0)]
    new = wv.rank(items, vs="year", by="count", floor=10)[2]["vs"]
    assert new["new"] and new["base"] == 0


def test_communities_rank_the_same_way(story, station_manager):
    rows = wv.weathervane(user=station_manager, period=MARCH)["communities"]
    assert ranked(rows, "previous", "count") == [("K2社区", 7, 63.6), ("K1社区", 6, 18.8)]
    assert ranked(rows, "year", "percent") == [("K1社区", 5, 15.2)]  # K2's 5 is under 10


def test_the_minimum_volume_is_a_setting(story, settings, station_manager):
    settings.LIANXIN = {**settings.LIANXIN, "WEATHERVANE_MIN_VOLUME": 1}
    data = wv.weathervane(user=station_manager, period=MARCH)
    assert data["min_volume"] == 1
    assert ranked(data["items"], "previous", "percent", floor=data["min_volume"])[0] == (
        "管道疏通",
        2,
        200.0,
    )


def test_the_city_counts_every_station(story, operator):
    data = wv.weathervane(user=operator, period=MARCH)
    assert data["city"] and not data["live"]
    assert by_name(data["items"])["管道疏通"] == (53, 1, 0)
    assert ranked(data["items"], "previous", "count")[0] == ("管道疏通", 52, None)
    assert data["totals"]["current"] == 107


@pytest.mark.parametrize("who", ["outsider", "volunteer_user"])
def test_anyone_without_stations_gets_nothing(story, request, who):
    data = wv.weathervane(user=request.getfixturevalue(who), period=MARCH)
    assert data["items"] == [] and data["communities"] == []
    assert data["unmatched"]["groups"] == [] and data["totals"]["current"] == 0


# --- Unmatched words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("代买药", " 代买药。"),
        ("代买药", "代买 药"),
        ("代买药", "代买\u3000药！"),  # ideographic space, full-width mark
        ("Pet Sitting", "pet  sitting!"),
        ("ＡＢＣ热水器", "abc 热水器"),  # full-width letters
    ],
)
def test_wordings_that_differ_only_in_spaces_punctuation_or_case_are_one(a, b):
    assert wv.normalize_words(a) == wv.normalize_words(b)


def test_different_words_stay_apart():
    assert wv.normalize_words("代买药") != wv.normalize_words("代买菜")
    assert wv.normalize_words("买药") != wv.normalize_words("代买药")


def test_unmatched_grouped_by_words_and_category_with_talk_mentions(story, station_manager):
    u = wv.weathervane(user=station_manager, period=MARCH)["unmatched"]
    rows = [
        (g["text"], g["category"], g["calls"], g["mentions"], g["total"], g["variants"])
        for g in u["groups"]
    ]
    assert rows == [
        ("加装电梯", "", 0, 12, 12, 1),
        ("代买药", "生活类", 3, 5, 8, 3),
        ("Pet Sitting", "事务类", 2, 0, 2, 2),
        ("代买药", "事务类", 1, 0, 1, 1),
    ]
    medicine = u["groups"][1]
    assert medicine["communities"] == [["K1社区", 7], ["K2社区", 1]]
    assert medicine["stations"] == [["建设街道分站", 8]]
    assert u["total"] == 23 and u["group_count"] == 4
    cats = [
        (c["category"], c["groups"], c["calls"], c["mentions"], c["total"]) for c in u["categories"]
    ]
    assert cats == [("", 1, 0, 12, 12), ("生活类", 1, 3, 5, 8), ("事务类", 2, 3, 0, 3)]


def test_the_city_sees_every_stations_unmatched_requests(story, center_manager):
    u = wv.weathervane(user=center_manager, period=MARCH)["unmatched"]
    medicine = next(g for g in u["groups"] if g["text"] == "代买药" and g["category"] == "生活类")
    assert (medicine["calls"], medicine["total"]) == (4, 9)
    assert medicine["stations"] == [["建设街道分站", 8], ["新城街道分站", 1]]


def test_compute_is_json_safe_and_matches_the_snapshot(story):
    import json

    data = wv.compute(ALL, MARCH)
    assert json.loads(json.dumps(data)) == data
    snapshot = wv.snapshot_refresh(MARCH)
    assert snapshot.key == "weathervane:city:m:2026-03"
    assert snapshot.data == data
