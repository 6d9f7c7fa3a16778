"""The monthly report's figures (``reports.selectors_report.monthly_report``)
on a fixture computed by hand: March 2026, Asia/Shanghai.

The orders are those of ``tests/reports/test_rates.py`` (``story``: station
A's a1–a9 with a reopened order, unreported arrivals, a cancel; station B's
b1–b2; orders just outside the month), all in one category ``cat1``, plus:

- c1 at A in ``cat2``: received 12 Mar 09:00, taken 2 min, arrived 4 min
  later, completed, 满意.
- Calls (CallLog): every hotline order logs its call (``order_create``):
  A/cat1 9 (a1–a9), A/cat2 1 (c1), B/cat1 2; and, logged apart: A/cat1 an
  enquiry; A with no category one enquiry; no station and no category an enquiry and a
  complaint; B/cat1 a repeat call; B/cat2 an enquiry at 1 Mar 00:10 (28 Feb
  in UTC: a March call); A/cat1 a call at 1 Apr 00:00 (outside).
- Unmatched requests: A/cat2 one (a call), none/none one (a community talk),
  A/cat2 one dated 1 Apr (outside).
- Complaints: A three in March (two ruled valid → a warning, then a yellow
  card; one invalid) and one in February (invalid, outside); B one pending.
- Hours (verified unless said; thresholds 100/300/600/1000/1500):
  X (home A) 95 h in Feb, 10 h on 10 Mar at A → 95 → 105: 0 → 1 star.
  Y (home A) 290 h in Jan, 5 h on 11 Mar at A, 20 h on 2 Apr → 290 → 295:
  still 1 star (the April hours are after the range: 315 h today).
  Z (home B) 50 h on 12 Mar recorded at A, 2 h on 13 Mar recorded at B.
  V (home B) 280 h in Feb, 30 h on 31 Mar at B → 280 → 310: 1 → 2 stars.
  W (home A) 7 h on 14 Mar at A, not verified (left out).
  Completing an order credits its provider (arrival, else take, to
  completion, rounded up to quarter hours, at least one), dated the day of
  completion at the order's station: va (A) a1 28 min 0.5, a2 25 min 0.5,
  a3 (first completion, unreported) 0.25, a7 20 min 0.5, a8 0.25, a9 35 min
  0.75, c1 24 min 0.5, "before" (completed 1 Mar 00:10) 9 min 0.25 = 3.5 h in
  8 entries; vb (B) b1 47 min 1.0.
  Hours by recording station: A va 3.5 + X 10 + Y 5 + Z 50 (24 + 24 + 2) =
  68.5 h, 4 volunteers, 8 + 1 + 1 + 3 = 13 entries; B vb 1 + Z 2 + V 30
  (24 + 6) = 33 h, 3 volunteers, 4 entries; in total 6 volunteers (Z once).
- Volunteers added in March: two at A, one at B (the others earlier).
- Wishes: A fulfilled 12 Mar (spent 150) and confirmed after fulfilment on
  20 Mar (50); A fulfilled in Feb (outside); B fulfilled 31 Mar 23:30 (0).
- Service day 28 Mar: A one venue, stalls of 30 and 12 people; B two venues,
  one stall of 5. A venue on 28 Feb (outside).
- Activities: A held holiday visits 5 Mar (20 people) and a call-up 6 Mar
  (7); A planned 20 Mar (not held); B held holiday visits 31 Mar (3); B
  cancelled 25 Mar; A held 1 Apr (outside).
"""

import datetime
from decimal import Decimal

import pytest
import time_machine

from events.models import Activity
from reports import selectors
from reports.selectors_report import CELL, GRAND_TOTAL, STATION_TOTAL, monthly_report
from requests.models import CallLog, MicroWish, UnmatchedRequest
from tests.factories import (
    ActivityFactory,
    MicroWishFactory,
    ServiceCategoryFactory,
    ServiceDayFactory,
    ServiceItemFactory,
    StallFactory,
    VenueFactory,
    VolunteerFactory,
)
from tests.reports.test_rates import A_COUNTS, B_COUNTS, MARCH, TZ, Desk, story, t  # noqa: F401
from volunteers import services as vs
from volunteers.models import HoursEntry, Volunteer

pytestmark = pytest.mark.django_db


def _credit(volunteer, station, total, day: datetime.date, verified=True):
    """``total`` hours dated ``day`` (entries of at most 24 h each)."""
    left = Decimal(total)
    while left > 0:
        chunk = min(left, Decimal(24))
        vs.hours_record(
            actor=None,
            volunteer=volunteer,
            date=day,
            hours=chunk,
            source=HoursEntry.Source.MANUAL,
            description="服务",
            station=station,
            reason="fixture",
            verified=verified,
        )
        left -= chunk


def _call(station, category, kind, when):
    CallLog.objects.create(at=when, station=station, category=category, kind=kind)


@pytest.fixture
def report_story(story, operator, station, other_station):  # noqa: F811
    A, B = station, other_station
    cat1 = story["a1"].item.category
    cat2 = ServiceCategoryFactory(name="咨询类")
    item2 = ServiceItemFactory(category=cat2)
    va = Volunteer.objects.get(station=A)
    vb = Volunteer.objects.get(station=B)

    desk = Desk(operator, story["a1"].resident, item2)
    c1 = desk.receive(t(12, 9, 0), A)
    desk.served(c1, va, taken=2, arrived=4, done=t(12, 9, 30))
    desk.follow_up(t(12, 15, 0), c1, "satisfied")

    _call(A, cat1, CallLog.Kind.ENQUIRY, t(11, 10, 0))
    _call(A, None, CallLog.Kind.ENQUIRY, t(11, 11, 0))
    _call(None, None, CallLog.Kind.ENQUIRY, t(11, 12, 0))
    _call(None, None, CallLog.Kind.COMPLAINT, t(11, 13, 0))
    _call(B, cat1, CallLog.Kind.REPEAT, t(15, 10, 3))
    _call(B, cat2, CallLog.Kind.ENQUIRY, t(1, 0, 10))
    _call(A, cat1, CallLog.Kind.ORDER, t(1, 0, 0, month=4))

    for category, station, day, source in (
        (cat2, A, datetime.date(2026, 3, 12), "call"),
        (None, None, datetime.date(2026, 3, 20), "talk"),
        (cat2, A, datetime.date(2026, 4, 1), "call"),
    ):
        UnmatchedRequest.objects.create(
            source=source, text="代买药品", category=category, station=station, occurred_on=day
        )

    def complaint(when, provider, valid=None):
        with time_machine.travel(when, tick=False):
            c = vs.complaint_record(actor=operator, provider=provider, description="态度差")
            if valid is not None:
                vs.complaint_rule(actor=operator, complaint=c, valid=valid, reason="核实")

    complaint(t(20, 9, 0, month=2), va, valid=False)
    complaint(t(20, 10, 0), va, valid=True)  # warning
    complaint(t(21, 10, 0), va, valid=True)  # yellow card
    complaint(t(22, 10, 0), va, valid=False)
    complaint(t(23, 10, 0), vb)  # pending

    x, y, w = (VolunteerFactory(station=A) for _i in range(3))
    z, v = VolunteerFactory(station=B), VolunteerFactory(station=B)
    _credit(x, A, 95, datetime.date(2026, 2, 10))
    _credit(x, A, 10, datetime.date(2026, 3, 10))
    _credit(y, A, 290, datetime.date(2026, 1, 10))
    _credit(y, A, 5, datetime.date(2026, 3, 11))
    _credit(y, A, 20, datetime.date(2026, 4, 2))
    _credit(z, A, 50, datetime.date(2026, 3, 12))
    _credit(z, B, 2, datetime.date(2026, 3, 13))
    _credit(v, B, 280, datetime.date(2026, 2, 10))
    _credit(v, B, 30, datetime.date(2026, 3, 31))
    _credit(w, A, 7, datetime.date(2026, 3, 14), verified=False)

    for when, home in ((t(3, 9, 0), A), (t(31, 23, 0), A), (t(2, 9, 0), B)):
        with time_machine.travel(when, tick=False):
            VolunteerFactory(station=home)
    with time_machine.travel(t(1, 0, 0, month=4), tick=False):
        VolunteerFactory(station=B)  # April: outside

    def wish(station, when, status, spent):
        MicroWishFactory(station=station, status=status, fulfilled_at=when, spent_total=spent)

    wish(A, t(12, 10, 0), MicroWish.Status.FULFILLED, Decimal(150))
    wish(A, t(20, 10, 0), MicroWish.Status.CONFIRMED, Decimal(50))
    wish(A, t(27, 10, 0, month=2), MicroWish.Status.FULFILLED, Decimal(80))
    wish(B, t(31, 23, 30), MicroWish.Status.FULFILLED, Decimal(0))

    day = ServiceDayFactory(date=datetime.date(2026, 3, 28))
    venue_a = VenueFactory(day=day, station=A)
    StallFactory(venue=venue_a, people_served=30)
    StallFactory(venue=venue_a, people_served=12)
    StallFactory(venue=VenueFactory(day=day, station=B), people_served=5)
    VenueFactory(day=day, station=B)
    feb = ServiceDayFactory(date=datetime.date(2026, 2, 28))
    StallFactory(venue=VenueFactory(day=feb, station=A), people_served=100)

    held = Activity.Status.HELD
    for station_, date, kind, status, served in (
        (A, datetime.date(2026, 3, 5), "holiday_visit", held, 20),
        (A, datetime.date(2026, 3, 6), "call_up", held, 7),
        (A, datetime.date(2026, 3, 20), "holiday_visit", "planned", 0),
        (B, datetime.date(2026, 3, 31), "holiday_visit", held, 3),
        (B, datetime.date(2026, 3, 25), "other", "cancelled", 0),
        (A, datetime.date(2026, 4, 1), "holiday_visit", held, 9),
    ):
        ActivityFactory(station=station_, date=date, kind=kind, status=status, people_served=served)
    return {"cat1": cat1, "cat2": cat2, "orders": story, "c1": c1}


# --- What the report must say, by hand ----------------------------------------------------

NO_ORDERS = {
    "received": 0,
    "cancelled": 0,
    "completed": 0,
    "resolution_rate": None,
    "dispatched": 0,
    "response_rate": None,
    "median_take_minutes": None,
    "arrivals": 0,
    "arrivals_unreported": 0,
    "arrival_share": None,
    "median_arrival_minutes": None,
    "follow_ups": 0,
    "satisfaction_rate": None,
}
NO_COMPLAINTS = {
    "complaints": None,
    "complaints_valid": None,
    "warnings": None,
    "yellow_cards": None,
    "red_cards": None,
}


def _orders(counts, median_take, median_arrival) -> dict:
    """The order columns from test_rates' counts and the medians (minutes)."""
    return {
        "received": counts["received"],
        "cancelled": counts["cancelled"],
        "completed": counts["completed"],
        "resolution_rate": counts["completed"] / counts["accepted"],
        "dispatched": counts["dispatched"],
        "response_rate": counts["taken_in_target"] / counts["dispatched"],
        "median_take_minutes": median_take,
        "arrivals": counts["arrivals"],
        "arrivals_unreported": counts["arrivals_unreported"],
        "arrival_share": counts["arrivals_in_target"] / counts["arrivals"],
        "median_arrival_minutes": median_arrival,
        "follow_ups": counts["follow_ups"],
        "satisfaction_rate": counts["satisfied"] / counts["follow_ups"],
    }


C1 = {
    "received": 1,
    "cancelled": 0,
    "accepted": 1,
    "completed": 1,
    "dispatched": 1,
    "taken_in_target": 1,
    "arrivals": 1,
    "arrivals_in_target": 1,
    "arrivals_unreported": 0,
    "follow_ups": 1,
    "satisfied": 1,
}
A_ALL = {k: A_COUNTS[k] + C1[k] for k in A_COUNTS}
CITY = {k: A_ALL[k] + B_COUNTS[k] for k in A_COUNTS}


def expected_order_rows(medians: bool, *, city: bool = True) -> list[dict]:
    """Section "orders", row by row (station code, category, calls, ...).
    Medians (minutes), by hand, from test_rates' seconds plus c1's 120/240:
    A/cat1 take 330 s, arrive 480 s; A/cat2 120, 240; A all take 120 180 240
    300 360 1200 7320 → 300 s, arrive 240 420 420 480 540 900 → 450 s;
    B 180 / 600; city take 120 180 180 240 300 360 1200 7320 → 270 s,
    arrive 240 420 420 480 540 600 900 → 480 s."""

    def m(value):
        return value if medians else None

    rows = [
        (
            "BR-A",
            "cat1",
            dict(calls=10, enquiries=1, unmatched=0),
            _orders(A_COUNTS, m(5.5), m(8.0)),
        ),
        ("BR-A", "cat2", dict(calls=1, enquiries=0, unmatched=1), _orders(C1, m(2.0), m(4.0))),
        ("BR-A", None, dict(calls=1, enquiries=1, unmatched=0), NO_ORDERS),
        (
            "BR-A",
            "all",
            dict(
                calls=12,
                enquiries=2,
                unmatched=1,
                complaints=3,
                complaints_valid=2,
                warnings=1,
                yellow_cards=1,
                red_cards=0,
            ),
            _orders(A_ALL, m(5.0), m(7.5)),
        ),
    ]
    if city:
        rows += [
            (
                "BR-B",
                "cat1",
                dict(calls=3, enquiries=0, unmatched=0),
                _orders(B_COUNTS, m(3.0), m(10.0)),
            ),
            ("BR-B", "cat2", dict(calls=1, enquiries=1, unmatched=0), NO_ORDERS),
            (
                "BR-B",
                "all",
                dict(
                    calls=4,
                    enquiries=1,
                    unmatched=0,
                    complaints=1,
                    complaints_valid=0,
                    warnings=0,
                    yellow_cards=0,
                    red_cards=0,
                ),
                _orders(B_COUNTS, m(3.0), m(10.0)),
            ),
            ("", None, dict(calls=2, enquiries=1, unmatched=1), NO_ORDERS),
            (
                "",
                "all",
                dict(
                    calls=2,
                    enquiries=1,
                    unmatched=1,
                    complaints=0,
                    complaints_valid=0,
                    warnings=0,
                    yellow_cards=0,
                    red_cards=0,
                ),
                NO_ORDERS,
            ),
            (
                "total",
                "all",
                dict(
                    calls=18,
                    enquiries=4,
                    unmatched=2,
                    complaints=4,
                    complaints_valid=2,
                    warnings=1,
                    yellow_cards=1,
                    red_cards=0,
                ),
                _orders(CITY, m(4.5), m(8.0)),
            ),
        ]
    else:
        rows.append(
            (
                "total",
                "all",
                dict(
                    calls=12,
                    enquiries=2,
                    unmatched=1,
                    complaints=3,
                    complaints_valid=2,
                    warnings=1,
                    yellow_cards=1,
                    red_cards=0,
                ),
                _orders(A_ALL, m(5.0), m(7.5)),
            )
        )
    out = []
    for code, category, extra, orders in rows:
        row = {"station_code": "" if code == "total" else code, "category": category}
        if category == "all":
            row["kind"] = GRAND_TOTAL if code == "total" else STATION_TOTAL
        else:
            row["kind"] = CELL
            row.update(NO_COMPLAINTS)
        row.update(extra)
        row.update(orders)
        out.append(row)
    return out


def comparable(row: dict, names: dict) -> dict:
    """A report row with the category named as in ``expected_order_rows``."""
    label = row["category"]
    category = names.get(label, label)
    out = {k: v for k, v in row.items() if k not in ("station", "category")}
    out["category"] = category
    return out


def category_keys(report_story) -> dict:
    return {
        report_story["cat1"].name: "cat1",
        report_story["cat2"].name: "cat2",
        "Unassigned": None,
        "All categories": "all",
    }


def assert_close(actual: list[dict], expected: list[dict]) -> None:
    assert len(actual) == len(expected), [(r["station_code"], r["category"]) for r in actual]
    for got, want in zip(actual, expected, strict=True):
        assert set(got) == set(want), (set(got) ^ set(want), want)
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value), (
                    want["station_code"],
                    want["category"],
                    key,
                )
            else:
                assert got[key] == value, (want["station_code"], want["category"], key, got[key])


EXPECTED_SECTIONS = {
    # (station code, figures...) + the total row
    "volunteers": [("BR-A", 2), ("BR-B", 1), ("", 3)],
    "hours": [
        ("BR-A", 4, 13, Decimal("68.5")),
        ("BR-B", 3, 4, Decimal(33)),
        ("", 6, 17, Decimal("101.5")),
    ],
    "stars": [("BR-A", 0, 1, 1), ("BR-B", 1, 2, 1), ("", None, None, 2)],
    "wishes": [("BR-A", 2, Decimal(200)), ("BR-B", 1, Decimal(0)), ("", 3, Decimal(200))],
    "service_days": [
        (datetime.date(2026, 3, 28), "BR-A", 1, 2, 42),
        (datetime.date(2026, 3, 28), "BR-B", 2, 1, 5),
        (None, "", 3, 3, 47),
    ],
    "activities": [
        ("BR-A", "Emergency call-up", 1, 7),
        ("BR-A", "Holiday visits", 1, 20),
        ("BR-B", "Holiday visits", 1, 3),
        ("", "", 3, 30),
    ],
}


def section_values(report, key) -> list[tuple]:
    section = report.section(key)
    cols = [c.key for c in section.columns if c.key != "station"]
    return [tuple(row[c] for c in cols) for row in section.rows]


def test_every_figure_of_the_report_on_the_fixture(report_story, center_manager, settings):
    from django.utils import translation

    with translation.override("en"):
        report = monthly_report(user=center_manager, **MARCH)
        summary = {str(label): value for label, value, _kind in report.summary}
    medians = selectors.medians_supported()
    orders = report.section("orders")
    names = category_keys(report_story)
    assert_close([comparable(r, names) for r in orders.rows], expected_order_rows(medians))
    assert [r["station"] for r in orders.rows if r["station_code"] == ""] == [
        "Unassigned",
        "Unassigned",
        "Total",
    ]
    for key, rows in EXPECTED_SECTIONS.items():
        assert section_values(report, key) == rows, key
    assert summary["Calls"] == 18 and summary["Enquiries"] == 4
    assert summary["Unmatched requests"] == 2
    assert summary["Orders received"] == 12
    assert summary["Resolution rate"] == pytest.approx(8 / 10)
    assert summary["Response rate"] == pytest.approx(6 / 10)
    assert summary["Share arrived within 10 minutes"] == pytest.approx(6 / 7)
    assert summary["Satisfaction rate"] == pytest.approx(5 / 6)
    assert summary["Arrivals not reported"] == 1
    assert summary["Median minutes to take"] == (4.5 if medians else None)
    assert summary["Complaints"] == 4 and summary["Valid complaints"] == 2
    assert (summary["Warnings"], summary["Yellow cards"], summary["Red cards"]) == (1, 1, 0)
    assert summary["Volunteers added"] == 3
    assert summary["Hours served"] == Decimal("101.5")
    assert summary["Volunteers credited"] == 6
    assert summary["Volunteers whose star level changed"] == 2
    assert summary["Wishes fulfilled"] == 3
    assert summary["Service-day stalls"] == 3
    assert summary["People served at stalls"] == 47
    assert summary["Activities held"] == 3
    assert summary["People served at activities"] == 30
    assert report.is_city


def test_a_station_manager_gets_their_stations_only(report_story, station_manager, station):
    from django.utils import translation

    with translation.override("en"):
        report = monthly_report(user=station_manager, **MARCH)
    assert report.station_ids == frozenset({station.pk})
    names = category_keys(report_story)
    assert_close(
        [comparable(r, names) for r in report.section("orders").rows],
        expected_order_rows(selectors.medians_supported(), city=False),
    )
    assert section_values(report, "hours") == [
        ("BR-A", 4, 13, Decimal("68.5")),
        ("", 4, 13, Decimal("68.5")),
    ]
    assert section_values(report, "stars") == [("BR-A", 0, 1, 1), ("", None, None, 1)]
    assert section_values(report, "volunteers") == [("BR-A", 2), ("", 2)]


def test_station_ids_narrow_within_the_scope_never_beyond(
    report_story, center_manager, station_manager, other_station
):
    only_b = monthly_report(user=center_manager, station_ids=[other_station.pk], **MARCH)
    codes = {r["station_code"] for r in only_b.section("orders").rows}
    assert codes == {"BR-B", ""}  # B and the total; no unassigned rows
    assert only_b.section("orders").rows[-1]["received"] == 2
    beyond = monthly_report(user=station_manager, station_ids=[other_station.pk], **MARCH)
    assert beyond.station_ids == frozenset()
    assert [r["kind"] for r in beyond.section("orders").rows] == [GRAND_TOTAL]
    assert beyond.section("orders").rows[-1]["calls"] == 0


@pytest.mark.parametrize("who", ["outsider", "volunteer_user"])
def test_anyone_without_stations_gets_an_empty_report(report_story, request, who):
    report = monthly_report(user=request.getfixturevalue(who), **MARCH)
    assert all(len(s.rows) == 1 for s in report.sections)  # the total rows only
    assert all(value in (0, None) for _label, value, _kind in report.summary)


def test_a_star_change_uses_the_hours_dated_in_the_range_not_today(report_story, center_manager):
    """Y reached 2 stars only in April: in March Y stays at 1."""
    y_stars = Volunteer.objects.filter(verified_hours=315)
    assert y_stars.count() == 1 and y_stars.get().star_level == 2
    report = monthly_report(user=center_manager, **MARCH)
    assert sum(r["volunteers"] for r in report.section("stars").rows[:-1]) == 2
    april = monthly_report(
        user=center_manager, start=datetime.date(2026, 4, 1), end=datetime.date(2026, 4, 30)
    )
    assert section_values(april, "stars")[0] == ("BR-A", 1, 2, 1)


def _bulk(n: int, station, other_station) -> None:
    """``n`` orders and as many calls written directly (bulk_create): the
    query count, not the figures, is under test."""
    from tests.reports.test_rates import _bulk_orders

    _bulk_orders(n, station, other_station)
    CallLog.objects.bulk_create(
        CallLog(at=t(10, 9, 0), station=station, kind="enquiry") for _i in range(n)
    )


@pytest.mark.parametrize("n", [100, 10_000])
def test_query_count_is_constant_as_orders_grow(
    n, center_manager, station, other_station, django_assert_num_queries
):
    _bulk(n, station, other_station)
    medians = selectors.medians_supported()
    # PostgreSQL: the orders by (station, category), station and total in
    # one scan (GROUPING SETS), the latest follow-ups by (station, category);
    # SQLite: orders and follow-ups by station, then by station and
    # category (no medians). Then: calls, unmatched,
    # complaints, sanctions, volunteers added, hours by station, hours'
    # volunteers in total, star changes, wishes, service days, activities;
    # the stations named, the categories
    with django_assert_num_queries(15 if medians else 17):
        report = monthly_report(user=center_manager, **MARCH)
    assert report.section("orders").rows[-1]["received"] == n
    assert report.section("orders").rows[-1]["calls"] == n
