"""The public record (issue 12): the totals of a month, a quarter and a year
on a hand-computed fixture; period parsing; the closed-period cache; the
highlight services and who may use them."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from center.models import AuditEntry, Role
from events import selectors_record as record
from events.models import Activity, Highlight, Participation, SignUp
from events.services import highlights as hl
from tests.factories import (
    ActivityFactory,
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)
from volunteers.models import HoursEntry

pytestmark = pytest.mark.django_db

D = datetime.date


def _day(date, *venues):
    """A service day on ``date``; each venue a (station, [people served per stall]) pair."""
    day = ServiceDayFactory(date=date)
    stalls = []
    for station, served in venues:
        venue = VenueFactory(day=day, station=station)
        stalls += [StallFactory(venue=venue, people_served=n) for n in served]
    return day, stalls


def _signup(stall, volunteer, status=SignUp.Status.CONFIRMED, checked_in=True):
    # Written as the rows would stand after the day: the services refuse past shifts.
    shift = stall.shifts.first() or ShiftFactory(stall=stall, capacity=10)
    return SignUp.objects.create(
        shift=shift,
        volunteer=volunteer,
        status=status,
        checked_in_at=shift.starts_at if checked_in else None,
    )


def _activity(date, status, kind, served, station, attended=(), other=()):
    activity = ActivityFactory(
        date=date, status=status, kind=kind, people_served=served, station=station
    )
    for v in attended:
        Participation.objects.create(
            activity=activity, volunteer=v, status=Participation.Status.ATTENDED
        )
    for v, status_ in other:
        Participation.objects.create(activity=activity, volunteer=v, status=status_)
    return activity


_refs = itertools.count(1)


def _hours(volunteer, station, date, hours, source, verified=True, ref=None):
    """An hours row; a service-day or activity row carries the reference
    attendance gives it (``shift:…`` / ``participation:…``) unless ``ref``."""
    n = next(_refs)
    if ref is None:
        ref = {
            HoursEntry.Source.SERVICE_DAY: f"shift:{n}:volunteer:{volunteer.pk}",
            HoursEntry.Source.ACTIVITY: f"participation:{n}",
        }.get(source, "")
    return HoursEntry.objects.create(
        volunteer=volunteer,
        station=station,
        date=date,
        hours=Decimal(hours),
        source=source,
        source_ref=ref,
        description="服务",
        reason="更正" if source == HoursEntry.Source.MANUAL else "",
        verified_at=timezone.now() if verified else None,
    )


@pytest.fixture
def fixture_2025(station, other_station):
    """Oct–Dec 2025 and the rows just outside: every number in the tests below
    is counted by hand from this list."""
    v1, v2, v3, v4, v5 = (VolunteerFactory(station=station) for _ in range(5))
    A, B = station, other_station
    S, HOLIDAY, WISH, CALL = (
        HoursEntry.Source,
        Activity.Kind.HOLIDAY_VISIT,
        Activity.Kind.WISH_DRIVE,
        Activity.Kind.CALL_UP,
    )
    HELD, PLANNED, CANCELLED = (
        Activity.Status.HELD,
        Activity.Status.PLANNED,
        Activity.Status.CANCELLED,
    )
    # November 2025.
    # 11-08: three venues (A: stalls 12 and 30; B: stall 5; A: no stall): one day.
    d1, (s1, _s2, _s3) = _day(D(2025, 11, 8), (A, [12, 30]), (B, [5]), (A, []))
    # 11-15: a day without any venue: not held.
    ServiceDayFactory(date=D(2025, 11, 15))
    # 11-29: one venue (B: stall 7).
    _d2, (s4,) = _day(D(2025, 11, 29), (B, [7]))
    _signup(s1, v1)  # counts
    _signup(s1, v2)  # counts
    _signup(s1, v3, checked_in=False)  # signed up, never came
    _signup(s1, v4, status=SignUp.Status.CANCELLED)  # cancelled (check-in stamp ignored)
    _signup(s1, v5, status=SignUp.Status.WAITING, checked_in=False)
    _signup(s4, v1)  # counts
    _activity(
        D(2025, 11, 10),
        HELD,
        WISH,
        8,
        A,
        attended=[v1, v2],
        other=[(v3, Participation.Status.ABSENT), (v4, Participation.Status.JOINED)],
    )
    _activity(D(2025, 11, 30), HELD, HOLIDAY, 15, A, attended=[v1])  # last day of the month
    _activity(D(2025, 11, 20), PLANNED, HOLIDAY, 99, A, other=[(v1, Participation.Status.JOINED)])
    _activity(D(2025, 11, 21), CANCELLED, CALL, 50, B)
    _hours(v1, A, D(2025, 11, 8), "2.5", S.SERVICE_DAY)  # counts
    _hours(v1, A, D(2025, 11, 10), "3", S.ACTIVITY)  # counts
    _hours(v2, A, D(2025, 11, 29), "1.25", S.SERVICE_DAY, verified=False)  # not verified
    _hours(v1, A, D(2025, 11, 12), "4", S.ORDER)  # an order: not an event
    _hours(v1, A, D(2025, 11, 13), "5", S.MANUAL)  # manual: no
    _hours(v1, A, D(2025, 11, 14), "1", S.CARE_VISIT)  # care visit: no
    # Labelled "service day" but no attendance's credit (old imported data): no.
    _hours(v1, A, D(2025, 11, 15), "6", S.SERVICE_DAY, ref="import-2025-11")
    # October and December 2025: in the quarter, not in the month.
    _d4, (s5,) = _day(D(2025, 10, 25), (A, [20]))
    _signup(s5, v1)
    _signup(s5, v2)
    _d6, (s_dec,) = _day(D(2025, 12, 1), (B, [9]))
    _signup(s_dec, v1)
    _activity(D(2025, 12, 1), HELD, CALL, 4, B, attended=[v2])
    _activity(D(2025, 10, 1), HELD, HOLIDAY, 6, A, attended=[v1])  # first day of the quarter
    _hours(v1, A, D(2025, 10, 31), "2", S.SERVICE_DAY)
    _hours(v1, A, D(2025, 12, 1), "1.5", S.ACTIVITY)
    # September 2025: in the year, not in the quarter.
    _d5, (s6,) = _day(D(2025, 9, 27), (A, [100]))
    _signup(s6, v1)
    _activity(D(2025, 9, 30), HELD, WISH, 40, A, attended=[v1])
    _hours(v1, A, D(2025, 9, 30), "0.5", S.SERVICE_DAY)
    # Outside the year on both sides.
    _d7, (s7,) = _day(D(2024, 12, 28), (A, [1000]))
    _signup(s7, v1)
    _activity(D(2026, 1, 1), HELD, WISH, 300, A, attended=[v1])
    _hours(v1, A, D(2026, 1, 1), "7", S.ACTIVITY)
    _hours(v1, A, D(2024, 12, 31), "9", S.SERVICE_DAY)
    return {"d1": d1, "s1": s1, "s4": s4}


def test_month_totals_on_the_hand_computed_fixture(fixture_2025):
    t = record.record_totals(record.period_from_string("2025-11"))
    # Days 11-08 and 11-29 (11-15 had no venue): 2; venues 3 + 1 = 4;
    # stalls 12, 30, 5, 7: 4, serving 12 + 30 + 5 + 7 = 54.
    assert (t.service_days, t.venues, t.stalls, t.stall_people_served) == (2, 4, 4, 54)
    # Held: the wish drive (11-10) and the visits of 11-30: 2, serving 8 + 15 = 23.
    assert t.activities_held == 2 and t.activity_people_served == 23
    assert t.activities_by_kind == [("holiday_visit", 1, 15), ("wish_drive", 1, 8)]
    # Checked in: v1, v2 at s1 and v1 at s4 = 3; attended: 2 + 1 = 3.
    assert (t.signups_checked_in, t.participations_attended) == (3, 3)
    assert t.events_held == 4  # 2 days + 2 activities
    assert t.participations == 6  # 3 + 3
    assert t.hours == Decimal("5.5")  # 2.5 + 3
    assert t.people_served == 77  # 54 + 23


def test_quarter_totals_on_the_hand_computed_fixture(fixture_2025):
    t = record.record_totals(record.period_from_string("2025-Q4"))
    # Days: 10-25, 11-08, 11-29, 12-01 = 4; venues 1 + 4 + 1 = 6; stalls 1 + 4 + 1 = 6.
    assert (t.service_days, t.venues, t.stalls) == (4, 6, 6)
    assert t.stall_people_served == 83  # 20 + 54 + 9
    # Held: 10-01 visits (6), 11-10 (8), 11-30 (15), 12-01 call-up (4): 4, 33 people.
    assert t.activities_held == 4 and t.activity_people_served == 33
    assert t.activities_by_kind == [
        ("call_up", 1, 4),
        ("holiday_visit", 2, 21),
        ("wish_drive", 1, 8),
    ]
    assert t.signups_checked_in == 6  # Oct 2 + Nov 3 + Dec 1
    assert t.participations_attended == 5  # 10-01: 1, 11-10: 2, 11-30: 1, 12-01: 1
    assert t.events_held == 8  # 4 + 4
    assert t.participations == 11  # 6 + 5
    assert t.hours == Decimal("9")  # 5.5 + 2 (10-31) + 1.5 (12-01)
    assert t.people_served == 116  # 83 + 33


def test_year_totals_on_the_hand_computed_fixture(fixture_2025):
    t = record.record_totals(record.period_from_string("2025"))
    # The quarter plus September (day 09-27: 1 venue, 1 stall of 100; the 09-30 drive: 40).
    assert (t.service_days, t.venues, t.stalls, t.stall_people_served) == (5, 7, 7, 183)
    assert (t.activities_held, t.activity_people_served) == (5, 73)  # 4 + 1; 33 + 40
    assert (t.signups_checked_in, t.participations_attended) == (7, 6)  # 6 + 1; 5 + 1
    assert t.events_held == 10  # 5 + 5
    assert t.participations == 13  # 7 + 6
    assert t.hours == Decimal("9.5")  # 9 + 0.5; 2024-12-31 and 2026-01-01 are outside
    assert t.people_served == 256  # 183 + 73


def test_an_empty_period_is_all_zeros(db):
    t = record.record_totals(record.period_from_string("2019-02"))
    assert (t.events_held, t.participations, t.hours, t.people_served) == (0, 0, Decimal("0"), 0)


def test_totals_are_five_queries_however_many_rows(fixture_2025, django_assert_num_queries):
    # venues+stalls, sign-ups, activities by kind, participations, hours
    with django_assert_num_queries(5):
        record.record_totals(record.period_from_string("2026"))


def test_a_closed_period_is_cached_a_day_an_open_one_ten_minutes(
    fixture_2025, station, django_assert_num_queries
):
    november = record.period_from_string("2025-11")
    with django_assert_num_queries(5):
        first = record.record_totals(november)
    with django_assert_num_queries(0):  # from the cache
        again = record.record_totals(november)
    assert again.people_served == first.people_served == 77
    # The current month is open: kept ten minutes, then computed again, so a
    # new stall shows within ten minutes.
    this_month = record.current_period(record.Kind.MONTH)
    with django_assert_num_queries(5):
        record.record_totals(this_month)
    _day(timezone.localdate(), (station, [11]))
    with django_assert_num_queries(0):
        assert record.record_totals(this_month).stall_people_served == 0
    assert record.OPEN_PERIOD_CACHE_SECONDS == 600
    cache.delete(record._cache_key(this_month))  # ten minutes later: expired
    with django_assert_num_queries(5):
        assert record.record_totals(this_month).stall_people_served == 11


# --- periods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026-11", "month", D(2026, 11, 1), D(2026, 11, 30)),
        ("2024-02", "month", D(2024, 2, 1), D(2024, 2, 29)),
        ("2026-Q4", "quarter", D(2026, 10, 1), D(2026, 12, 31)),
        ("2026-Q1", "quarter", D(2026, 1, 1), D(2026, 3, 31)),
        ("2026", "year", D(2026, 1, 1), D(2026, 12, 31)),
    ],
)
def test_period_parses(text, kind, start, end):
    period = record.period_from_string(text)
    assert (period.kind, period.start, period.end, period.key) == (kind, start, end, text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-13",
        "2026-00",
        "2026-1",
        "2026-Q5",
        "2026-Q0",
        "2026-q4",
        "26",
        "1999",
        "2100",
        "2026-11-01",
        " 2026",
        "2026\n",
        "abc",
        "２０２６",
        "2026-Q4-1",
    ],
)
def test_bad_period_is_404(text):
    with pytest.raises(Http404):
        record.period_from_string(text)


def test_period_neighbours_and_parts():
    nov = record.period_from_string("2026-11")
    assert (nov.previous().key, nov.next().key) == ("2026-10", "2026-12")
    assert record.period_from_string("2026-12").next().key == "2027-01"
    assert record.period_from_string("2026-Q1").previous().key == "2025-Q4"
    assert [p.key for p in nov.parents()] == ["2026-Q4", "2026"]
    assert [m.key for m in record.period_from_string("2026-Q4").months()] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert len(record.period_from_string("2026").months()) == 12
    assert record.period_from_string("2000").previous() is None


# --- highlights --------------------------------------------------------------------------


@pytest.fixture
def held(station, other_station):
    """Last month's stall at station A and B, and an activity held at A."""
    last_month = record.current_period(record.Kind.MONTH).previous()
    day = ServiceDayFactory(date=last_month.start + datetime.timedelta(days=5))
    a_stall = StallFactory(venue=VenueFactory(day=day, station=station), people_served=30)
    b_stall = StallFactory(venue=VenueFactory(day=day, station=other_station), people_served=12)
    activity = ActivityFactory(
        station=station, date=day.date, status=Activity.Status.HELD, people_served=8
    )
    return {"period": last_month, "day": day, "a": a_stall, "b": b_stall, "activity": activity}


def _add(actor, held, **subject):
    return hl.highlight_add(
        actor=actor,
        period=held["period"].kind,
        period_start=held["period"].start,
        title="磨刀摊位服务30人",
        text="一上午",
        **subject,
    )


def test_station_manager_adds_highlights_of_own_station_in_turn(station_manager, held):
    first = _add(station_manager, held, stall=held["a"])
    second = _add(station_manager, held, activity=held["activity"])
    assert (first.position, second.position) == (0, 1)
    assert first.chosen_by == station_manager and first.stall == held["a"]
    assert AuditEntry.objects.filter(action="events.highlight.added").count() == 2


def test_another_stations_manager_is_refused_for_a_stall(held, other_station):
    manager_b = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    with pytest.raises(PermissionDenied):
        _add(manager_b, held, stall=held["a"])
    with pytest.raises(PermissionDenied):
        _add(manager_b, held, activity=held["activity"])
    assert not Highlight.objects.exists()
    _add(manager_b, held, stall=held["b"])  # their own is fine


def test_volunteer_operator_and_anonymous_are_refused(held, volunteer_user, operator):
    from django.contrib.auth.models import AnonymousUser

    for actor in (volunteer_user, operator, AnonymousUser(), None):
        with pytest.raises(PermissionDenied):
            _add(actor, held, stall=held["a"])
    assert not Highlight.objects.exists()


def test_center_manager_may_choose_anything_even_a_whole_day(center_manager, station_manager, held):
    _add(center_manager, held, stall=held["b"])
    _add(center_manager, held, service_day=held["day"])
    with pytest.raises(PermissionDenied):  # a whole day is city-wide
        _add(station_manager, held, service_day=held["day"])
    assert Highlight.objects.count() == 2


def test_bad_highlights_are_refused_and_write_nothing(station_manager, held):
    cases = [
        {},  # no subject
        {"stall": held["a"], "activity": held["activity"]},  # two
    ]
    for subject in cases:
        with pytest.raises(ValidationError):
            _add(station_manager, held, **subject)
    with pytest.raises(ValidationError):  # no title
        hl.highlight_add(
            actor=station_manager,
            period="month",
            period_start=held["period"].start,
            title="  ",
            stall=held["a"],
        )
    with pytest.raises(ValidationError):  # not the first day of a month
        hl.highlight_add(
            actor=station_manager,
            period="month",
            period_start=held["period"].start + datetime.timedelta(days=1),
            title="x",
            stall=held["a"],
        )
    with pytest.raises(ValidationError):  # the stall is not in this month
        hl.highlight_add(
            actor=station_manager,
            period="month",
            period_start=held["period"].next().start,
            title="x",
            stall=held["a"],
        )
    Activity.objects.filter(pk=held["activity"].pk).update(status=Activity.Status.PLANNED)
    with pytest.raises(ValidationError):  # not held
        _add(station_manager, held, activity=held["activity"])
    assert not Highlight.objects.exists() and not AuditEntry.objects.exists()
    _add(station_manager, held, stall=held["a"])
    with pytest.raises(ValidationError):  # already one
        _add(station_manager, held, stall=held["a"])
    assert Highlight.objects.count() == 1


def test_the_same_stall_may_be_a_highlight_of_its_quarter_too(station_manager, held):
    _add(station_manager, held, stall=held["a"])
    quarter = record.period_of("quarter", held["period"].start)
    hl.highlight_add(
        actor=station_manager,
        period="quarter",
        period_start=quarter.start,
        title="季度亮点",
        stall=held["a"],
    )
    assert Highlight.objects.count() == 2


def test_remove_is_scoped_and_audited(station_manager, other_station, held):
    highlight = _add(station_manager, held, stall=held["a"])
    manager_b = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    with pytest.raises(PermissionDenied):
        hl.highlight_remove(actor=manager_b, highlight=highlight)
    hl.highlight_remove(actor=station_manager, highlight=highlight)
    assert not Highlight.objects.exists()
    entry = AuditEntry.objects.get(action="events.highlight.removed")
    assert entry.data["stall"] == held["a"].pk
    # Round trip: added again, it comes back (last).
    again = _add(station_manager, held, stall=held["a"])
    assert again.position == 0


def test_move_swaps_neighbours(center_manager, held):
    first = _add(center_manager, held, stall=held["a"])
    second = _add(center_manager, held, stall=held["b"])
    third = _add(center_manager, held, activity=held["activity"])
    hl.highlight_move(actor=center_manager, highlight=third, direction="up")
    order = list(Highlight.objects.order_by("position").values_list("pk", flat=True))
    assert order == [first.pk, third.pk, second.pk]
    with pytest.raises(ValidationError):
        hl.highlight_move(actor=center_manager, highlight=first, direction="up")
    with pytest.raises(ValidationError):
        hl.highlight_move(actor=center_manager, highlight=first, direction="sideways")


def test_candidates_are_scoped_and_ordered(station_manager, center_manager, held):
    mine = record.highlight_candidates(user=station_manager, period=held["period"])
    assert mine["stalls"] == [held["a"]] and mine["activities"] == [held["activity"]]
    assert mine["days"] == []
    everything = record.highlight_candidates(user=center_manager, period=held["period"])
    assert everything["stalls"] == [held["a"], held["b"]]  # 30 people, then 12
    assert everything["days"] == [held["day"]]


def test_highlights_of_a_year_include_its_months_and_quarters(center_manager, held):
    month = _add(center_manager, held, stall=held["a"])
    year = record.period_of("year", held["period"].start)
    whole = hl.highlight_add(
        actor=center_manager,
        period="year",
        period_start=year.start,
        title="年度亮点",
        activity=held["activity"],
    )
    found = record.record_highlights(year)
    assert found["own"] == [whole] and found["within"] == [month]
    assert found["within"][0].record_period == held["period"]
    assert record.record_highlights(held["period"]) == {"own": [month], "within": []}


# --- demo --------------------------------------------------------------------------------


def test_demo_highlights_pick_the_busiest_stalls_once(station, center_manager):
    import random

    from events.demo.record import seed_highlights

    last_month = record.current_period(record.Kind.MONTH).previous()
    day = ServiceDayFactory(date=last_month.start + datetime.timedelta(days=2))
    venue = VenueFactory(day=day, station=station)
    StallFactory(venue=venue, people_served=10)
    busiest = StallFactory(venue=venue, people_served=40)
    ActivityFactory(station=station, date=day.date, status=Activity.Status.HELD)
    seed_highlights(random.Random(1))
    month = Highlight.objects.filter(period="month")
    assert month.count() == 2 and month.filter(stall=busiest).exists()
    year = Highlight.objects.get(period="year")
    assert year.stall == busiest and year.period_start == last_month.start.replace(month=1, day=1)
    count = Highlight.objects.count()
    seed_highlights(random.Random(1))
    assert Highlight.objects.count() == count


def test_an_open_period_counts_what_was_held_up_to_today(station):
    from tests.factories import ServiceDayFactory, VenueFactory

    today = timezone.localdate()
    year = record.current_period(record.Kind.YEAR)
    held = ServiceDayFactory(date=max(today - datetime.timedelta(days=1), year.start))
    VenueFactory(day=held, station=station)
    coming = today + datetime.timedelta(days=1)
    if coming <= year.end:  # (on 31 December the coming day is next year's anyway)
        VenueFactory(day=ServiceDayFactory(date=coming), station=station)
    totals = record.record_totals(year)
    assert (totals.service_days, totals.venues) == (1, 1)
