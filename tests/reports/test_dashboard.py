"""The staff dashboards (issue 14, part C) on a fixture computed by hand.

Now: Wednesday 18 March 2026, 15:30 Asia/Shanghai; the week runs from
Monday 16 March. Target 10 minutes (600 s); limits (yellow, red) in minutes:
normal (120, 1440), emergency (10, 30). Rows are written directly (the
figures, not the services, are under test here; tests/reports/test_rates.py
drives the services).

Station A (``station``, managed by ``station_manager``) and B (``other_station``):

  order  station received        status     take  arrive  notes
  A1     A       today 09:10     completed  300   420
  A2     A       today 09:40     arrived    1200  900     late both; open: yellow
  A3     A       today 10:05     completed  480   —       arrival unreported
  A4     A       today 14:20     received   —     —       70 min old: no flag
  A5     A       Mon 16 08:00    archived   360   300     reopened: 不满意 09:00
                                                          then 满意 13:00 today
  A6     A       Mon 16 12:00    taken      900   —       open: red
  A7     A       today 12:00     dispatched —     —       210 min: yellow
  A8     A       Sun 15 20:00    received   —     —       last week; red
  A9     A       Thu 12 10:00    archived                 follow-up 满意 yesterday
  B1     B       today 09:20     completed  120   600     600 = within
  B2     B       today 11:00     received                 emergency, 270 min: red
  B3     B       Fri 13 10:00    archived                 follow-up 不满意 today 10:00

Calls: today 09:05 (A), 09:15 (B), 09:50 (A), 14:00 (no station: city only),
yesterday 20:00 (A, not today).
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from center.models import Station
from reports import selectors_dashboard as sd
from reports import snapshot
from reports.models import DashboardSnapshot
from reports.selectors import medians_supported
from reports.tasks import refresh_dashboard_snapshot
from requests.models import CallLog, FollowUp, MicroWish, OrderMonthStat, Resident, ServiceRequest
from tests.factories import (
    CommunityFactory,
    MicroWishFactory,
    PairingFactory,
    ResidentFactory,
    ServiceCategoryFactory,
    ServiceDayFactory,
    ServiceItemFactory,
    ShiftFactory,
    StallFactory,
    StationFactory,
    VenueFactory,
    VolunteerFactory,
)
from volunteers.models import Complaint, HoursEntry, Provider, Sanction

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 18, 15, 30, tzinfo=TZ)
TODAY = NOW.date()


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _order(number, station, resident, item, received, status, *, take=None, arrive=None, **kw):
    dispatched = received + datetime.timedelta(minutes=1)
    fields = {
        "number": number,
        "station": station,
        "resident": resident,
        "item": item,
        "address": "南湖区",
        "quoted_price": Decimal(0),
        "received_at": received,
        "status": status,
    }
    if status != "received":
        fields["dispatched_at"] = dispatched
    if take is not None:
        fields["taken_at"] = received + datetime.timedelta(seconds=take)
        fields["response_seconds"] = take
    if arrive is not None:
        fields["arrived_at"] = fields["taken_at"] + datetime.timedelta(seconds=arrive)
        fields["arrival_seconds"] = arrive
    if status in ("completed", "archived"):
        fields["completed_at"] = received + datetime.timedelta(hours=1)
    fields.update(kw)
    return ServiceRequest.objects.create(**fields)


@pytest.fixture
def story(clock, station, other_station):
    item = ServiceItemFactory()
    res_a, res_b = ResidentFactory(), ResidentFactory()
    o = {}
    o["A1"] = _order("A1", station, res_a, item, at(18, 9, 10), "completed", take=300, arrive=420)
    o["A2"] = _order("A2", station, res_a, item, at(18, 9, 40), "arrived", take=1200, arrive=900)
    o["A3"] = _order(
        "A3",
        station,
        res_a,
        item,
        at(18, 10, 5),
        "completed",
        take=480,
        arrive=3000,
        arrival_unreported=True,
    )
    o["A4"] = _order("A4", station, res_a, item, at(18, 14, 20), "received")
    o["A5"] = _order(
        "A5", station, res_a, item, at(16, 8), "archived", take=360, arrive=300, reopen_count=1
    )
    o["A6"] = _order("A6", station, res_a, item, at(16, 12), "taken", take=900)
    o["A7"] = _order("A7", station, res_a, item, at(18, 12), "dispatched")
    o["A8"] = _order("A8", station, res_a, item, at(15, 20), "received")
    o["A9"] = _order("A9", station, res_a, item, at(12, 10), "archived", take=100, arrive=100)
    o["B1"] = _order(
        "B1", other_station, res_b, item, at(18, 9, 20), "completed", take=120, arrive=600
    )
    o["B2"] = _order("B2", other_station, res_b, item, at(18, 11), "received", urgency="emergency")
    o["B3"] = _order("B3", other_station, res_b, item, at(13, 10), "archived", take=100, arrive=100)
    # Follow-ups in the order they were made (ids grow with time, as in production).
    for when, order, satisfaction in (
        (at(17, 16), o["A9"], "satisfied"),
        (at(18, 9), o["A5"], "dissatisfied"),
        (at(18, 10), o["B3"], "dissatisfied"),
        (at(18, 13), o["A5"], "satisfied"),
    ):
        clock.move_to(when)
        FollowUp.objects.create(order=order, satisfaction=satisfaction, score=3)
    clock.move_to(NOW)
    for when, st in (
        (at(18, 9, 5), station),
        (at(18, 9, 15), other_station),
        (at(18, 9, 50), station),
        (at(18, 14), None),
        (at(17, 20), station),
    ):
        CallLog.objects.create(at=when, kind="enquiry", station=st)
    return {"orders": o, "res_a": res_a, "res_b": res_b}


@pytest.fixture
def care(story, station, other_station):
    """Pairings overdue: res_a's (A and city), res_b's (city); an ended one
    does not count. Silent: res_a (never contacted; A and city) and a third
    special resident 40 days silent (city only); res_b was called last week."""
    yesterday = TODAY - datetime.timedelta(days=1)
    PairingFactory(resident=story["res_a"], next_visit_due=yesterday)
    PairingFactory(resident=story["res_b"], next_visit_due=yesterday)
    PairingFactory(resident=story["res_b"], next_visit_due=yesterday, ended_on=yesterday)
    PairingFactory(resident=story["res_a"], next_visit_due=TODAY)  # due today: not overdue
    third = ResidentFactory()
    Resident.objects.filter(pk=story["res_a"].pk).update(is_special=True, last_contact_at=None)
    Resident.objects.filter(pk=story["res_b"].pk).update(
        is_special=True, last_contact_at=NOW - datetime.timedelta(days=7)
    )
    Resident.objects.filter(pk=third.pk).update(
        is_special=True, last_contact_at=NOW - datetime.timedelta(days=40)
    )
    community = CommunityFactory()
    for st, status, extra in (
        (station, MicroWish.Status.PUBLISHED, {}),
        (station, MicroWish.Status.PUBLISHED, {}),
        (other_station, MicroWish.Status.PUBLISHED, {}),
        (station, MicroWish.Status.ADOPTED, {"contact_due_at": NOW - datetime.timedelta(hours=1)}),
        (station, MicroWish.Status.ADOPTED, {"contact_due_at": NOW + datetime.timedelta(hours=1)}),
        (station, MicroWish.Status.DRAFT, {}),
    ):
        MicroWishFactory(
            station=st, status=status, resident=ResidentFactory(community=community), **extra
        )
    day = ServiceDayFactory(date=TODAY + datetime.timedelta(days=10))
    ServiceDayFactory(date=TODAY - datetime.timedelta(days=5))  # past: not the next
    ServiceDayFactory(date=TODAY + datetime.timedelta(days=40))  # later
    ShiftFactory(
        stall=StallFactory(venue=VenueFactory(day=day, station=station)), capacity=4, taken=3
    )
    ShiftFactory(
        stall=StallFactory(venue=VenueFactory(day=day, station=other_station)), capacity=2, taken=1
    )
    return day


# --- The operator's figures -------------------------------------------------------------


def test_calls_and_orders_by_hour_city_and_station(story, operator, station_manager):
    city = sd.by_hour(ids=None, today=TODAY)
    assert len(city) == 24
    assert city[9] == [9, 3, 3]  # calls 09:05 09:15 09:50; orders A1 A2 B1
    assert city[10] == [10, 0, 1]  # A3
    assert city[11] == [11, 0, 1]  # B2
    assert city[12] == [12, 0, 1]  # A7
    assert city[14] == [14, 1, 1]  # the call without a station; A4
    assert sum(r[1] for r in city) == 4 and sum(r[2] for r in city) == 7
    mine = sd.by_hour(ids=frozenset({story["orders"]["A1"].station_id}), today=TODAY)
    assert mine[9] == [9, 2, 2] and mine[11] == [11, 0, 0] and mine[14] == [14, 0, 1]


def test_open_orders_by_status(story, station):
    assert sd.open_by_status(ids=None) == {
        "received": 3,  # A4 A8 B2
        "dispatched": 1,  # A7
        "taken": 1,  # A6
        "on_the_way": 0,
        "arrived": 1,  # A2
    }
    assert sd.open_by_status(ids=frozenset({station.pk}))["received"] == 2


def test_take_and_arrive_today_and_this_week(story, station):
    city = sd.take_and_arrive(ids=None, today=TODAY)
    assert city["target_minutes"] == 10
    today, week = city["today"], city["week"]
    assert (today["received"], today["dispatched"], today["taken_in_target"]) == (7, 5, 3)
    assert today["response_rate"] == pytest.approx(3 / 5)
    assert (today["arrivals"], today["arrivals_in_target"], today["arrivals_unreported"]) == (
        3,
        2,
        1,
    )
    assert today["arrival_share"] == pytest.approx(2 / 3)
    # the week adds A5 and A6 (Monday), not A8 (Sunday) nor A9 (last week)
    assert (week["received"], week["dispatched"], week["taken_in_target"]) == (9, 7, 4)
    assert (week["arrivals"], week["arrivals_in_target"]) == (4, 3)
    mine = sd.take_and_arrive(ids=frozenset({station.pk}), today=TODAY)["today"]
    assert (mine["received"], mine["dispatched"], mine["taken_in_target"]) == (5, 4, 2)
    assert (mine["arrivals"], mine["arrivals_in_target"], mine["arrivals_unreported"]) == (2, 1, 1)
    if not medians_supported():
        assert today["median_take_minutes"] is None


@pytest.mark.postgres
def test_medians_of_today_and_this_week(story, station):
    city = sd.take_and_arrive(ids=None, today=TODAY)
    # today: takes 120 300 480 1200 s → 390 s; arrivals 420 600 900 → 600 s
    assert city["today"]["median_take_minutes"] == 6.5
    assert city["today"]["median_arrival_minutes"] == 10.0
    # week: + 360 (A5) and 900 (A6): 120 300 360 480 900 1200 → 420 s;
    # arrivals + 300 (A5): 300 420 600 900 → 510 s
    assert city["week"]["median_take_minutes"] == 7.0
    assert city["week"]["median_arrival_minutes"] == 8.5
    mine = sd.take_and_arrive(ids=frozenset({station.pk}), today=TODAY)["today"]
    assert mine["median_take_minutes"] == 8.0  # 300 480 1200
    assert mine["median_arrival_minutes"] == 11.0  # 420 900 (A3 unreported is left out)


def test_follow_ups_waiting(story, station):
    city = sd.follow_ups_waiting(ids=None)
    assert city["count"] == 3  # A1 A3 B1
    oldest = datetime.datetime.fromisoformat(city["oldest"])
    assert oldest == at(18, 9, 10) + datetime.timedelta(hours=1)  # A1's completion
    assert sd.follow_ups_waiting(ids=frozenset({station.pk}))["count"] == 2


def test_satisfaction_today_counts_each_orders_latest_call(story, station):
    # A5: 不满意 then 满意 today (the latest counts), B3 不满意; A9's was yesterday
    city = sd.satisfaction_today(ids=None, today=TODAY)
    assert city == {"follow_ups": 2, "satisfied": 1, "rate": 0.5}
    mine = sd.satisfaction_today(ids=frozenset({station.pk}), today=TODAY)
    assert mine == {"follow_ups": 1, "satisfied": 1, "rate": 1.0}


def test_satisfaction_today_on_a_first_day(clock, station):
    """No follow-up before today: the window starts at the first row."""
    order = _order("X1", station, ResidentFactory(), ServiceItemFactory(), at(18, 8), "archived")
    clock.move_to(at(18, 9))
    FollowUp.objects.create(order=order, satisfaction="basically", score=4)
    clock.move_to(NOW)
    assert sd.satisfaction_today(ids=None, today=TODAY)["satisfied"] == 1


def test_overdue_red_and_yellow(story, operator, station_manager):
    city = sd.overdue(user=operator)
    assert (city["red"], city["yellow"]) == (3, 2)  # red A6 A8 B2; yellow A2 A7
    assert [o.number for o in city["rows"]] == ["A8", "A6", "A2", "B2", "A7"]
    assert [o.flag for o in city["rows"]] == ["red", "red", "yellow", "red", "yellow"]
    mine = sd.overdue(user=station_manager)
    assert (mine["red"], mine["yellow"]) == (2, 2)
    assert "B2" not in [o.number for o in mine["rows"]]


def test_care_wishes_and_next_service_day(care, operator, station_manager):
    city = sd.care_and_wishes(user=operator, today=TODAY)
    assert city == {
        "visits_overdue": 2,
        "silent": 2,
        "wishes_waiting": 3,
        "wishes_contact_overdue": 1,
    }
    mine = sd.care_and_wishes(user=station_manager, today=TODAY)
    assert mine == {
        "visits_overdue": 1,
        "silent": 1,
        "wishes_waiting": 2,
        "wishes_contact_overdue": 1,
    }
    day = sd.next_service_day(user=operator, today=TODAY)
    assert day["pk"] == care.pk and day["date"] == "2026-03-28"
    assert (day["venues"], day["stalls"], day["places"], day["taken"]) == (2, 2, 6, 4)
    mine_day = sd.next_service_day(user=station_manager, today=TODAY)
    assert (mine_day["venues"], mine_day["places"], mine_day["taken"]) == (1, 4, 3)


# --- Pages and scoping --------------------------------------------------------------------


def test_operator_sees_the_city_from_the_snapshot(care, login, operator):
    response = login(operator).get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="overdue-red">3<' in page
    assert 'data-testid="overdue-yellow">2<' in page
    assert 'data-testid="follow-ups-waiting">3<' in page
    assert 'data-testid="satisfaction-today">50.0%<' in page
    assert 'data-testid="wishes-waiting">3<' in page
    assert "City figures as of 15:30:00" in page
    assert DashboardSnapshot.objects.filter(key="city").exists()
    assert 'hx-trigger="every 60s"' in page
    assert 'id="calls-orders-by-hour-data"' in page  # the chart's json_script


def test_station_manager_sees_only_their_stations(care, login, station_manager):
    response = login(station_manager).get(reverse("reports:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="overdue-red">2<' in page
    assert 'data-testid="follow-ups-waiting">2<' in page
    assert 'data-testid="satisfaction-today">100.0%<' in page
    assert 'data-testid="wishes-waiting">2<' in page
    assert 'data-testid="visits-overdue">1<' in page
    assert ">B2<" not in page and ">A8<" in page
    assert not DashboardSnapshot.objects.filter(key="city").exists()
    assert DashboardSnapshot.objects.filter(key__startswith="scope:").count() == 1


@pytest.mark.parametrize("who", ["outsider", "volunteer_user"])
@pytest.mark.parametrize(
    "name",
    ["reports:dashboard", "reports:dashboard_figures", "reports:center_dashboard"],
)
def test_refused_without_a_staff_role(request, who, name, login):
    response = login(request.getfixturevalue(who)).get(reverse(name))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["operator", "station_manager"])
def test_center_dashboard_is_for_center_managers(request, who, login):
    response = login(request.getfixturevalue(who)).get(reverse("reports:center_dashboard"))
    assert response.status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_htmx_fragment_is_the_figures_block(story, login, operator):
    response = login(operator).get(reverse("reports:dashboard_figures"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and "<nav" not in page
    assert 'data-testid="overdue-red">3<' in page
    assert 'data-testid="chart-open-by-status"' in page


def test_stale_snapshot_is_shown_with_a_warning(story, login, operator, clock):
    snapshot.refresh("city")
    clock.move_to(NOW + datetime.timedelta(minutes=10))
    page = login(operator).get(reverse("reports:dashboard")).content.decode()
    assert 'data-testid="stale"' in page


# --- The snapshot ---------------------------------------------------------------------------


def test_snapshot_task_is_idempotent(story):
    refresh_dashboard_snapshot("city")
    first = DashboardSnapshot.objects.get(key="city")
    refresh_dashboard_snapshot("city")
    assert DashboardSnapshot.objects.filter(key="city").count() == 1
    second = DashboardSnapshot.objects.get(key="city")
    assert second.data == first.data
    assert second.data["follow_ups_waiting"]["count"] == 3


def test_snapshot_is_computed_once_when_missing(story, django_assert_num_queries):
    snapshot.refresh("city")
    with django_assert_num_queries(1):  # the stored row
        assert snapshot.read("city").data["open"]["received"] == 3


def test_scope_snapshot_is_refreshed_when_old(care, station_manager, station, clock):
    first = snapshot.read_scope(station_manager)
    assert first.data["care"]["wishes_waiting"] == 2
    MicroWishFactory(station=station)
    clock.move_to(NOW + datetime.timedelta(minutes=2))
    # old: served as stored while the task (eager in tests) refreshes it
    assert snapshot.read_scope(station_manager).data["care"]["wishes_waiting"] == 2
    assert snapshot.read_scope(station_manager).data["care"]["wishes_waiting"] == 3


# --- The center manager's dashboard ----------------------------------------------------------


@pytest.fixture
def center(story, station, other_station, center_station):
    """March 2026 (and February) in OrderMonthStat; a service point under A;
    complaints, sanctions, star levels and hours."""
    point = StationFactory(parent=station, kind=Station.Kind.SERVICE_POINT)
    cat = ServiceCategoryFactory()
    names = (
        "received",
        "cancelled",
        "completed",
        "dispatched",
        "taken_in_target",
        "follow_ups",
        "satisfied",
    )
    for month, st, values in (
        (datetime.date(2026, 3, 1), station, (10, 2, 6, 8, 6, 4, 3)),
        (datetime.date(2026, 3, 1), point, (2, 0, 1, 2, 0, 0, 0)),
        (datetime.date(2026, 3, 1), other_station, (5, 0, 5, 5, 2, 5, 5)),
        (datetime.date(2026, 2, 1), station, (4, 0, 4, 4, 4, 2, 1)),
        (datetime.date(2025, 3, 1), station, (99, 0, 0, 99, 0, 0, 0)),  # 13 months back: out
    ):
        OrderMonthStat.objects.create(
            month=month,
            station=st,
            category=cat,
            refreshed_at=NOW,
            **dict(zip(names, values, strict=True)),
        )
    v0 = VolunteerFactory(station=station, verified_hours=Decimal(0))
    v1 = VolunteerFactory(station=point, verified_hours=Decimal(150))
    v3 = VolunteerFactory(station=other_station, verified_hours=Decimal(650))
    VolunteerFactory(station=other_station, verified_hours=Decimal(1500))
    prov = {v.pk: Provider.objects.get(volunteer=v) for v in (v0, v1, v3)}
    c_a1 = Complaint.objects.create(
        provider=prov[v0.pk], station=station, description="x", status="valid"
    )
    Complaint.objects.create(provider=prov[v1.pk], station=point, description="x")
    c_b = Complaint.objects.create(
        provider=prov[v3.pk], station=other_station, description="x", status="valid"
    )
    old = Complaint.objects.create(provider=prov[v3.pk], station=other_station, description="x")
    Complaint.objects.filter(pk=old.pk).update(recorded_at=at(20, 10, month=2))
    Sanction.objects.create(provider=prov[v0.pk], complaint=c_a1, level="warning", starts_on=TODAY)
    Sanction.objects.create(provider=prov[v3.pk], complaint=c_b, level="yellow", starts_on=TODAY)
    for v, st, day, hours, verified in (
        (v0, station, datetime.date(2026, 3, 5), "2.5", True),
        (v1, point, datetime.date(2026, 3, 6), "1", False),  # not verified
        (v0, station, datetime.date(2026, 2, 28), "3", True),  # February
        (v3, other_station, datetime.date(2026, 3, 17), "4", True),
    ):
        HoursEntry.objects.create(
            volunteer=v,
            station=st,
            date=day,
            hours=Decimal(hours),
            source="manual",
            reason="x",
            description="x",
            verified_at=NOW if verified else None,
        )
    return point


def test_center_figures_by_branch(center, station, other_station, center_station, monkeypatch):
    monkeypatch.setattr(sd, "RANK_MIN_DISPATCHED", 5)
    monkeypatch.setattr(sd, "TOP_STATIONS", 1)
    data = sd.center_figures(today=TODAY)
    city = data["city"]
    assert (city["received"], city["cancelled"], city["completed"]) == (17, 2, 12)
    assert city["response_rate"] == pytest.approx(8 / 15)
    assert city["resolution_rate"] == pytest.approx(12 / 15)
    assert city["satisfaction_rate"] == pytest.approx(8 / 9)
    trend = city["trend"]
    # [month, response, resolution, satisfaction], April 2025 to March 2026
    assert len(trend) == 12 and trend[0][0] == "2025-04-01" and trend[-1][0] == "2026-03-01"
    assert trend[-2] == ["2026-02-01", 1.0, 1.0, 0.5]
    assert trend[-1][1:] == [pytest.approx(8 / 15), pytest.approx(12 / 15), pytest.approx(8 / 9)]
    assert trend[0][1:] == [None, None, None]  # no orders: empty, not 0
    by_pk = {b["pk"]: b for b in data["branches"]}
    a, b = by_pk[station.pk], by_pk[other_station.pk]
    assert a["stations"] == 2  # the branch and its service point
    assert (a["received"], a["dispatched"], a["taken_in_target"]) == (12, 10, 6)
    assert a["resolution_rate"] == pytest.approx(7 / 10)
    assert a["satisfaction_rate"] == pytest.approx(3 / 4)
    assert b["response_rate"] == pytest.approx(2 / 5)
    assert (a["complaints"], a["complaints_valid"], a["sanctions"]) == (2, 1, 1)
    assert (b["complaints"], b["sanctions"]) == (1, 1)
    assert city["complaints"] == {"total": 3, "valid": 2, "pending": 1}
    assert city["sanctions"] == {"warning": 1, "yellow": 1, "red": 0}
    assert city["stars"] == [1, 1, 0, 1, 0, 1]
    assert a["stars"] == [1, 1, 0, 0, 0, 0]
    assert (city["hours"], a["hours"], b["hours"]) == (6.5, 2.5, 4.0)
    assert [s["pk"] for s in data["top"]] == [station.pk]  # 6/8; the point has 2 dispatched
    assert [s["pk"] for s in data["bottom"]] == [other_station.pk]  # 2/5


def test_branch_stations_table(center, station):
    rows = {r["pk"]: r for r in sd.branch_stations(branch_id=station.pk, today=TODAY)}
    assert set(rows) == {station.pk, center.pk}
    assert rows[center.pk]["received"] == 2 and rows[center.pk]["response_rate"] == 0.0
    assert rows[station.pk]["complaints"] == 1 and rows[station.pk]["hours"] == 2.5


def test_center_dashboard_page_and_branch_filter(center, login, center_manager, station):
    client = login(center_manager)
    page = client.get(
        reverse("reports:center_dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'data-testid="month-received">17<' in page
    assert 'data-testid="month-response">53.3%<' in page
    assert f'data-testid="branch-{station.pk}"' in page
    assert 'id="rates-trend-data"' in page and 'id="stars-data"' in page
    page = client.get(
        reverse("reports:center_dashboard") + f"?branch={station.pk}", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'data-testid="month-received">12<' in page
    assert f'data-testid="station-{center.pk}"' in page
    # a branch that does not exist shows the city
    page = client.get(reverse("reports:center_dashboard") + "?branch=x").content.decode()
    assert 'data-testid="month-received">17<' in page


# --- Query counts -----------------------------------------------------------------------------


def _bulk(n: int, station, other_station):
    item, resident = ServiceItemFactory(), ResidentFactory()
    ServiceRequest.objects.bulk_create(
        ServiceRequest(
            number=f"Q{n:04d}{i:05d}",
            station=station if i % 2 else other_station,
            resident=resident,
            item=item,
            address="x",
            quoted_price=Decimal(0),
            received_at=NOW - datetime.timedelta(minutes=5 * i),
            status="taken" if i % 3 else "received",
            dispatched_at=NOW - datetime.timedelta(minutes=5 * i),
            response_seconds=60 * (i % 15) if i % 3 else None,
            urge_count=i % 4 == 1,  # urged: yellow, at station A
        )
        for i in range(n)
    )
    CallLog.objects.bulk_create(
        CallLog(at=NOW - datetime.timedelta(minutes=7 * i), kind="order", station=station)
        for i in range(n)
    )


@pytest.mark.parametrize("n", [10, 100])
def test_station_dashboard_queries_are_constant(
    n, clock, login, station_manager, station, other_station, django_assert_num_queries
):
    _bulk(n, station, other_station)
    client = login(station_manager)
    client.get(reverse("reports:dashboard"))  # the scope's snapshot is stored
    # session, user, the manager's stations, the scope's snapshot; live: calls
    # and orders by hour (2), open by status; overdue: counts, rows,
    # item+station names, residents (providers: none taken)
    with django_assert_num_queries(11):
        response = client.get(reverse("reports:dashboard_figures"))
    assert response.status_code == 200


@pytest.mark.parametrize("n", [10, 100])
def test_city_dashboard_queries_are_constant(
    n, clock, login, operator, station, other_station, django_assert_num_queries
):
    _bulk(n, station, other_station)
    client = login(operator)
    client.get(reverse("reports:dashboard"))  # the city snapshot is stored
    # session, user; the city snapshot; overdue: counts, rows, item+station
    # names, residents
    with django_assert_num_queries(7):
        response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200


@pytest.mark.parametrize("n", [10, 100])
def test_center_dashboard_queries_are_constant(
    n, clock, login, center_manager, station, other_station, django_assert_num_queries
):
    _bulk(n, station, other_station)
    client = login(center_manager)
    client.get(reverse("reports:center_dashboard"))  # both snapshots and the block stored
    branch = reverse("reports:center_dashboard") + f"?branch={station.pk}"
    client.get(branch)
    # session, user; the city snapshot; overdue: counts, rows, item+station
    # names, residents; the center snapshot's time (its block is cached)
    with django_assert_num_queries(8):
        response = client.get(reverse("reports:center_dashboard"))
    assert response.status_code == 200
    # A branch's block is not cached: the snapshot's time, the snapshot, and
    # the branch's stations' four queries instead of the cached block.
    with django_assert_num_queries(13):
        assert client.get(branch).status_code == 200


def test_center_block_is_rendered_again_after_a_refresh(center, login, center_manager, clock):
    client = login(center_manager)
    url = reverse("reports:center_dashboard")
    assert 'data-testid="month-received">17<' in client.get(url).content.decode()
    OrderMonthStat.objects.filter(station=center).update(received=7)
    # cached until the snapshot is refreshed
    assert 'data-testid="month-received">17<' in client.get(url).content.decode()
    clock.move_to(NOW + datetime.timedelta(minutes=5))
    snapshot.refresh("center")
    assert 'data-testid="month-received">22<' in client.get(url).content.decode()


# --- The chart partial ---------------------------------------------------------------------


def test_chart_partial_renders_table_and_json():
    from django.template.loader import render_to_string

    chart = {
        "id": "demo",
        "title": "订单",
        "type": "bar",
        "x_label": "小时",
        "series": ["来电", "工单"],
        "rows": [["09:00", 3, 2], ["10:00", None, 1]],
        "unit": "%",
    }
    html = render_to_string("reports/_chart.html", {"chart": chart})
    assert '<figure class="chart-figure' in html and "<canvas" in html
    assert '<script id="demo-data" type="application/json">' in html
    assert '"rows": [["09:00", 3, 2], ["10:00", null, 1]]' in html
    assert (
        '<th scope="row">09:00</th><td class="text-end">3%</td><td class="text-end">2%</td>' in html
    )
    assert '<td class="text-end">—</td>' in html  # None
    assert 'aria-controls="demo-table"' in html and 'id="demo-table"' in html
    assert "<script>" not in html  # nothing inline to run (CSP)


def test_home_card_and_menu_for_staff_only(login, operator, center_manager, volunteer_user):
    page = login(operator).get(reverse("center:home")).content.decode()
    assert 'data-testid="home-dashboard"' in page
    assert reverse("reports:dashboard") in page
    assert reverse("reports:center_dashboard") not in page  # center managers only
    page = login(center_manager).get(reverse("center:home")).content.decode()
    assert reverse("reports:center_dashboard") in page
    page = login(volunteer_user).get(reverse("center:home")).content.decode()
    assert 'data-testid="home-dashboard"' not in page


def test_figures_keep_their_order_whatever_order_the_snapshot_keeps():
    """A snapshot is jsonb on PostgreSQL, which stores keys sorted by length
    and bytes, not as written: the page orders statuses and periods itself."""
    from reports.views_dashboard import open_chart

    scrambled = {"taken": 3, "arrived": 1, "received": 5, "dispatched": 2, "on_the_way": 4}
    labels = [row[0] for row in open_chart({"open": scrambled})["rows"]]
    statuses = dict(ServiceRequest.Status.choices)
    assert labels == [statuses[s] for s in ServiceRequest.OPEN]


def test_the_minutes_table_shows_today_before_the_week(login, operator, clock):
    from reports.models import DashboardSnapshot

    login(operator).get(reverse("reports:dashboard"))  # the city snapshot stored
    row = DashboardSnapshot.objects.get(key="city")
    row.data["minutes"] = {
        "week": row.data["minutes"]["week"],
        "target_minutes": row.data["minutes"]["target_minutes"],
        "today": row.data["minutes"]["today"],
    }
    row.save(update_fields=["data"])
    page = login(operator).get(reverse("reports:dashboard")).content.decode()
    assert page.index('data-testid="minutes-today"') < page.index('data-testid="minutes-week"')


def test_a_scope_snapshot_hours_old_is_computed_again_and_a_week_unread_is_deleted(
    login, station_manager, station, clock
):
    from reports import snapshot, tasks
    from reports.models import DashboardSnapshot

    login(station_manager).get(reverse("reports:dashboard"))
    first = DashboardSnapshot.objects.get(key__startswith="scope:")
    clock.move_to(NOW + datetime.timedelta(hours=2))
    login(station_manager).get(reverse("reports:dashboard"))
    again = DashboardSnapshot.objects.get(key__startswith="scope:")
    assert again.computed_at > first.computed_at  # not shown two hours old
    clock.move_to(NOW + datetime.timedelta(days=9))
    tasks.refresh_dashboard_snapshot("center")
    assert not DashboardSnapshot.objects.filter(key__startswith="scope:").exists()
    assert snapshot.purge_scopes() == 0
