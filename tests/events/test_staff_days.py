"""Staff's service-day pages and services: the list of days (add, move),
a day's venues, stalls and shifts (set up by managers, read by operators),
the rules of ``events.services.stalls`` (validation, refusal, audit), and
the scoping: another station's venue, stall or shift is 404."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry, Role
from events.models import ServiceDay, Shift, SignUp, Stall, Venue
from events.services import stalls as svc
from events.services.signups import SERVICE_TZ
from tests.factories import (
    MerchantFactory,
    OrganizationFactory,
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)
from volunteers import services as vs
from volunteers.models import ServiceTeam

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def today():
    return timezone.localdate()


@pytest.fixture
def day(db):
    return ServiceDayFactory(date=today() + datetime.timedelta(days=10))


@pytest.fixture
def past_day(db):
    return ServiceDayFactory(date=today() - datetime.timedelta(days=10))


@pytest.fixture
def venue(day, station):
    return VenueFactory(day=day, station=station, name="甲站广场")


@pytest.fixture
def other_venue(day, other_station):
    return VenueFactory(day=day, station=other_station, name="乙站广场")


def confirm(shift, volunteer=None, status=SignUp.Status.CONFIRMED):
    """A sign-up as the sign-up service leaves it, without its time rule."""
    volunteer = volunteer or VolunteerFactory(station=shift.stall.venue.station)
    signup = SignUp.objects.create(shift=shift, volunteer=volunteer, status=status)
    if status == SignUp.Status.CONFIRMED:
        Shift.objects.filter(pk=shift.pk).update(taken=shift.taken + 1)
        shift.refresh_from_db()
    return signup


def team_of(station, volunteer=None):
    from tests.factories import SpecialtyFactory

    return vs.team_create(
        actor=None,
        data={
            "name": f"{station.name}服务队",
            "kind": ServiceTeam.Kind.SPECIALTY,
            "specialty": SpecialtyFactory(),
            "station": station,
            "is_active": True,
            "leader": volunteer or VolunteerFactory(station=station),
        },
    )


# --- Services: venues -------------------------------------------------------------


def test_venue_create_update_delete_with_audit(station_manager, station, day):
    venue = svc.venue_create(
        actor=station_manager,
        day=day,
        data={"station": station, "kind": "square", "name": " 月河广场 ", "address": "中山路1号"},
    )
    assert venue.name == "月河广场" and venue.day == day
    assert AuditEntry.objects.filter(
        action="events.venue.created", target_id=str(venue.pk)
    ).exists()
    svc.venue_update(actor=station_manager, venue=venue, data={"name": "南湖广场"})
    entry = AuditEntry.objects.get(action="events.venue.updated")
    assert entry.data == {"before": {"name": "月河广场"}, "after": {"name": "南湖广场"}}
    svc.venue_delete(actor=station_manager, venue=venue)
    assert not Venue.objects.filter(pk=venue.pk).exists()
    assert AuditEntry.objects.filter(action="events.venue.deleted").exists()


def test_venue_create_refuses_another_station_and_operators(
    station_manager, operator, other_station, day
):
    data = {"station": other_station, "kind": "square", "name": "广场", "address": "路"}
    for actor in (station_manager, operator):
        with pytest.raises(ValidationError):
            svc.venue_create(actor=actor, day=day, data=data)
    assert not Venue.objects.exists()


def test_venue_needs_both_coordinates_or_none(center_manager, station, day):
    with pytest.raises(ValidationError) as exc:
        svc.venue_create(
            actor=center_manager,
            day=day,
            data={
                "station": station,
                "kind": "market",
                "name": "菜场",
                "address": "路",
                "latitude": "30.1",
                "longitude": None,
            },
        )
    assert "longitude" in exc.value.error_dict


@pytest.mark.usefixtures("english")
def test_past_day_is_read_only(station_manager, station, past_day):
    venue = VenueFactory(day=past_day, station=station)
    stall = StallFactory(venue=venue)
    shift = ShiftFactory(stall=stall)
    with pytest.raises(ValidationError, match="over"):
        svc.venue_update(actor=station_manager, venue=venue, data={"name": "改名"})
    with pytest.raises(ValidationError, match="over"):
        svc.stall_create(actor=station_manager, venue=venue, data={"service": "理发"})
    with pytest.raises(ValidationError, match="over"):
        svc.shift_update(
            actor=station_manager,
            shift=shift,
            start=datetime.time(9),
            end=datetime.time(12),
            capacity=3,
        )
    with pytest.raises(ValidationError, match="over"):
        svc.shift_delete(actor=station_manager, shift=shift)
    venue.refresh_from_db()
    assert venue.name != "改名" and Shift.objects.filter(pk=shift.pk).exists()


@pytest.mark.usefixtures("english")
def test_deleting_venue_stall_or_shift_with_sign_ups_is_refused(station_manager, venue):
    shift = ShiftFactory(stall=StallFactory(venue=venue))
    confirm(shift)
    for call in (
        lambda: svc.venue_delete(actor=station_manager, venue=venue),
        lambda: svc.stall_delete(actor=station_manager, stall=shift.stall),
        lambda: svc.shift_delete(actor=station_manager, shift=shift),
    ):
        with pytest.raises(ValidationError, match="signed up"):
            call()
    assert Shift.objects.filter(pk=shift.pk).exists()
    # A cancelled sign-up does not hold the shift.
    SignUp.objects.update(status=SignUp.Status.CANCELLED)
    svc.shift_delete(actor=station_manager, shift=shift)
    assert not Shift.objects.filter(pk=shift.pk).exists()


# --- Services: stalls -------------------------------------------------------------


def test_stall_runner_rules(station_manager, station, other_station, venue):
    own_team, other_team = team_of(station), team_of(other_station)
    own_merchant = MerchantFactory(stations=[station])
    other_merchant = MerchantFactory(stations=[other_station])
    gas = OrganizationFactory(name="嘉兴燃气")

    stall = svc.stall_create(
        actor=station_manager, venue=venue, data={"service": "维修", "team": own_team}
    )
    assert stall.team == own_team
    svc.stall_create(
        actor=station_manager, venue=venue, data={"service": "燃气", "organization": gas}
    )
    svc.stall_create(
        actor=station_manager, venue=venue, data={"service": "配钥匙", "merchant": own_merchant}
    )
    bad = [
        ({"service": "x", "team": own_team, "organization": gas}, None),
        ({"service": "x", "team": other_team}, "team"),
        ({"service": "x", "merchant": other_merchant}, "merchant"),
        ({"service": ""}, "service"),
    ]
    for data, field in bad:
        with pytest.raises(ValidationError) as exc:
            svc.stall_create(actor=station_manager, venue=venue, data=data)
        if field:
            assert field in exc.value.error_dict
    assert Stall.objects.filter(venue=venue).count() == 3


def test_stall_named_after_its_item_and_update_is_audited(center_manager, venue):
    from tests.factories import ServiceItemFactory

    item = ServiceItemFactory(name="家电维修")
    stall = svc.stall_create(actor=center_manager, venue=venue, data={"item": item, "service": ""})
    assert stall.service == "家电维修"
    svc.stall_update(actor=center_manager, stall=stall, data={"item": item, "service": "修电视"})
    entry = AuditEntry.objects.get(action="events.stall.updated", target_id=str(stall.pk))
    assert entry.data == {"before": {"service": "家电维修"}, "after": {"service": "修电视"}}


@pytest.mark.usefixtures("english")
def test_stall_report_on_or_after_the_day_never_negative(station_manager, station, past_day, day):
    stall = StallFactory(venue=VenueFactory(day=past_day, station=station))
    svc.stall_report_update(actor=station_manager, stall=stall, people_served=42, notes="顺利")
    stall.refresh_from_db()
    assert (stall.people_served, stall.notes) == (42, "顺利")
    entry = AuditEntry.objects.get(action="events.stall.reported")
    assert (
        entry.data["before"]["people_served"] == "0"
        and entry.data["after"]["people_served"] == "42"
    )
    with pytest.raises(ValidationError, match="negative"):
        svc.stall_report_update(actor=station_manager, stall=stall, people_served=-1, notes="")
    coming = StallFactory(venue=VenueFactory(day=day, station=station))
    with pytest.raises(ValidationError, match="on the service day or after"):
        svc.stall_report_update(actor=station_manager, stall=coming, people_served=3, notes="")
    stall.refresh_from_db()
    assert stall.people_served == 42


# --- Services: shifts -------------------------------------------------------------


def test_shift_create_on_the_day_in_shanghai_time(station_manager, venue):
    stall = StallFactory(venue=venue)
    shift = svc.shift_create(
        actor=station_manager,
        stall=stall,
        start=datetime.time(8, 30),
        end=datetime.time(11),
        capacity=4,
    )
    local = timezone.localtime(shift.starts_at, SERVICE_TZ)
    assert (local.date(), local.time()) == (venue.day.date, datetime.time(8, 30))
    assert AuditEntry.objects.filter(action="events.shift.created").exists()
    for start, end, capacity, field in (
        (datetime.time(11), datetime.time(11), 2, "end"),
        (datetime.time(12), datetime.time(9), 2, "end"),
        (datetime.time(9), datetime.time(10), 0, "capacity"),
    ):
        with pytest.raises(ValidationError) as exc:
            svc.shift_create(
                actor=station_manager, stall=stall, start=start, end=end, capacity=capacity
            )
        assert field in exc.value.error_dict
    assert stall.shifts.count() == 1


@pytest.mark.usefixtures("english")
def test_shift_capacity_never_below_taken_and_more_places_go_to_the_waiting(station_manager, venue):
    shift = ShiftFactory(stall=StallFactory(venue=venue), capacity=2)
    confirm(shift)
    confirm(shift)
    waiting = confirm(shift, status=SignUp.Status.WAITING)
    times = {"start": datetime.time(9), "end": datetime.time(11)}
    with pytest.raises(ValidationError, match="2 places are taken"):
        svc.shift_update(actor=station_manager, shift=shift, capacity=1, **times)
    shift.refresh_from_db()
    assert shift.capacity == 2
    svc.shift_update(actor=station_manager, shift=shift, capacity=4, **times)
    shift.refresh_from_db()
    waiting.refresh_from_db()
    assert (shift.capacity, shift.taken, waiting.status) == (4, 3, SignUp.Status.CONFIRMED)
    entry = AuditEntry.objects.get(action="events.shift.updated")
    assert entry.data["promoted"] == [waiting.pk]
    assert entry.data["before"] == {"capacity": "2"} and entry.data["after"] == {"capacity": "4"}


# --- Pages: the list of days -------------------------------------------------------


def test_day_list_counts_the_users_scope(client, station_manager, venue, other_venue):
    shift = ShiftFactory(stall=StallFactory(venue=venue), capacity=3)
    confirm(shift)
    confirm(shift, status=SignUp.Status.WAITING)
    ShiftFactory(stall=StallFactory(venue=other_venue), capacity=9)
    client.force_login(station_manager)
    response = client.get(reverse("events:day_list"))
    assert response.status_code == 200
    row = next(d for d in response.context["days"] if d.pk == venue.day_id)
    assert (row.venue_count, row.stall_count, row.places, row.taken, row.waiting) == (
        1,
        1,
        3,
        1,
        1,
    )
    # A station manager does not add or move days.
    assert "events:day_add" not in response.content.decode()
    assert reverse("events:day_add") not in response.content.decode()


def test_day_list_orders_coming_then_recent_and_hides_old(client, operator, day, past_day):
    old = ServiceDayFactory(date=today() - datetime.timedelta(days=400))
    soon = ServiceDayFactory(date=today() + datetime.timedelta(days=2))
    client.force_login(operator)
    days = list(client.get(reverse("events:day_list")).context["days"])
    assert [d.pk for d in days] == [soon.pk, day.pk, past_day.pk]
    assert old.pk not in [d.pk for d in days]


def test_day_list_query_count_is_constant(
    client, station_manager, station, django_assert_num_queries
):
    def grow(n):
        for _ in range(n):
            venue = VenueFactory(day=ServiceDayFactory(), station=station)
            confirm(ShiftFactory(stall=StallFactory(venue=venue)))

    grow(1)
    client.force_login(station_manager)
    url = reverse("events:day_list")
    # session, user, the manager's stations, count (capped), the page of days
    with django_assert_num_queries(5):
        assert len(client.get(url).context["days"]) == 1
    grow(5)
    with django_assert_num_queries(5):
        assert len(client.get(url).context["days"]) == 6


def test_center_manager_adds_and_moves_a_day(client, center_manager, day):
    client.force_login(center_manager)
    new = today() + datetime.timedelta(days=40)
    response = client.post(reverse("events:day_add"), {"date": new.isoformat(), "theme": ""})
    assert response.status_code == 302
    added = ServiceDay.objects.get(date=new)
    assert added.is_extra
    target = day.date + datetime.timedelta(days=1)
    client.post(reverse("events:day_move", args=[day.pk]), {"date": target.isoformat()})
    day.refresh_from_db()
    assert day.moved_from is not None and day.date == target
    body = client.get(reverse("events:day_list"), **EN).content.decode()
    assert f"moved from {day.moved_from:%Y-%m-%d}" in body
    # A date in the past: refused with the service's message, nothing changes.
    response = client.post(
        reverse("events:day_move", args=[day.pk]),
        {"date": (today() - datetime.timedelta(days=3)).isoformat()},
        follow=True,
        **EN,
    )
    assert "cannot be moved into the past" in response.content.decode()
    day.refresh_from_db()
    assert day.date == target


@pytest.mark.parametrize("role", ["station_manager", "operator"])
def test_only_center_managers_add_or_move_days(client, request, role, day):
    client.force_login(request.getfixturevalue(role))
    new = (today() + datetime.timedelta(days=50)).isoformat()
    assert client.post(reverse("events:day_add"), {"date": new}).status_code == 403
    assert client.post(reverse("events:day_move", args=[day.pk]), {"date": new}).status_code == 403
    assert not ServiceDay.objects.filter(date=new).exists()


# --- Pages: a day -----------------------------------------------------------------


def test_day_page_shows_only_the_managers_venues(client, station_manager, venue, other_venue):
    shift = ShiftFactory(stall=StallFactory(venue=venue, service="磨刀"), capacity=2)
    confirm(shift)
    confirm(shift)
    confirm(shift, status=SignUp.Status.WAITING)
    StallFactory(venue=other_venue, service="乙站理发")
    client.force_login(station_manager)
    response = client.get(reverse("events:day_detail", args=[venue.day_id]), **EN)
    body = response.content.decode()
    assert response.status_code == 200
    assert "甲站广场" in body and "磨刀" in body and "2 of 2 places taken" in body
    assert "1 waiting" in body
    assert "乙站广场" not in body and "乙站理发" not in body
    assert reverse("events:venue_create", args=[venue.day_id]) in body


def test_operator_reads_the_day_without_edit_links(client, operator, venue, other_venue):
    client.force_login(operator)
    url = reverse("events:day_detail", args=[venue.day_id])
    # City-wide: a table of the stations first, one station's venues on demand.
    response = client.get(url)
    summary = response.context["summary"]
    assert {row["pk"] for row in summary} == {venue.station_id, other_venue.station_id}
    assert "甲站广场" not in response.content.decode()
    body = client.get(url, {"station": venue.station_id}).content.decode()
    assert "甲站广场" in body and "乙站广场" not in body
    assert reverse("events:venue_create", args=[venue.day_id]) not in body
    assert reverse("events:venue_update", args=[venue.pk]) not in body


def test_the_city_wide_summary_is_one_query_however_many_stations(
    client, center_manager, day, django_assert_num_queries
):
    from tests.factories import StationFactory

    def grow(n):
        for _ in range(n):
            stall = StallFactory(venue=VenueFactory(day=day, station=StationFactory()))
            ShiftFactory(stall=stall)

    client.force_login(center_manager)
    url = reverse("events:day_detail", args=[day.pk])
    grow(1)
    # session, user, the day, the summary
    with django_assert_num_queries(4):
        client.get(url)
    grow(4)
    with django_assert_num_queries(4):
        response = client.get(url)
    assert len(response.context["summary"]) == 5


def test_day_page_query_count_is_constant(
    client, station_manager, station, day, django_assert_num_queries
):
    def grow(n):
        for _ in range(n):
            venue = VenueFactory(day=day, station=station)
            stall = StallFactory(venue=venue, organization=OrganizationFactory())
            confirm(ShiftFactory(stall=stall))
            confirm(ShiftFactory(stall=stall), status=SignUp.Status.WAITING)

    grow(1)
    client.force_login(station_manager)
    url = reverse("events:day_detail", args=[day.pk])
    # session, user, the day, the manager's stations, venues (+station),
    # stalls (+item, runners), shifts (+waiting count)
    with django_assert_num_queries(7):
        client.get(url)
    grow(5)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert response.context["venue_count"] == 6


def test_past_day_page_is_read_only(client, station_manager, station, past_day):
    venue = VenueFactory(day=past_day, station=station)
    stall = StallFactory(venue=venue)
    client.force_login(station_manager)
    body = client.get(reverse("events:day_detail", args=[past_day.pk])).content.decode()
    assert reverse("events:stall_update", args=[stall.pk]) not in body
    assert reverse("events:stall_report", args=[stall.pk]) in body


# --- Pages: the forms ---------------------------------------------------------------


def test_manager_sets_up_a_venue_a_stall_and_a_shift_through_the_forms(
    client, station_manager, station, other_station, day
):
    client.force_login(station_manager)
    url = reverse("events:venue_create", args=[day.pk])
    form = client.get(url)
    assert form.status_code == 200
    # Only the manager's stations to choose from.
    options = form.content.decode()
    assert f'value="{station.pk}"' in options and f'value="{other_station.pk}"' not in options
    response = client.post(
        url,
        {"station": station.pk, "kind": "square", "name": "新广场", "address": "路1号"},
    )
    assert response.status_code == 302
    venue = Venue.objects.get(name="新广场")
    response = client.post(
        reverse("events:stall_create", args=[venue.pk]), {"service": "理发", "item": ""}
    )
    assert response.status_code == 302
    stall = venue.stalls.get()
    shift_url = reverse("events:shift_create", args=[stall.pk])
    page = client.get(shift_url).content.decode()
    assert 'type="time"' in page
    response = client.post(shift_url, {"start": "09:00", "end": "08:00", "capacity": "3"}, **EN)
    assert response.status_code == 200
    assert "end after it starts" in response.content.decode()
    assert not stall.shifts.exists()
    response = client.post(shift_url, {"start": "09:00", "end": "11:30", "capacity": "3"})
    assert response.status_code == 302
    shift = stall.shifts.get()
    assert timezone.localtime(shift.ends_at, SERVICE_TZ).time() == datetime.time(11, 30)
    # The edit form shows the times as the time input reads them.
    page = client.get(reverse("events:shift_update", args=[shift.pk])).content.decode()
    assert 'value="09:00"' in page and 'value="11:30"' in page


def test_venue_form_refuses_another_stations_id(client, station_manager, other_station, day):
    client.force_login(station_manager)
    response = client.post(
        reverse("events:venue_create", args=[day.pk]),
        {"station": other_station.pk, "kind": "square", "name": "偷偷", "address": "路"},
    )
    assert response.status_code == 200 and not Venue.objects.filter(name="偷偷").exists()


def test_delete_page_refuses_with_a_clear_message(client, station_manager, venue):
    shift = ShiftFactory(stall=StallFactory(venue=venue))
    confirm(shift)
    client.force_login(station_manager)
    response = client.post(reverse("events:shift_delete", args=[shift.pk]), {}, **EN)
    assert response.status_code == 200
    assert "cancel their sign-ups before deleting it" in response.content.decode()
    assert Shift.objects.filter(pk=shift.pk).exists()


# --- Scoping and roles -----------------------------------------------------------------


def _object_urls(venue):
    stall = StallFactory(venue=venue)
    shift = ShiftFactory(stall=stall)
    return [
        reverse("events:venue_update", args=[venue.pk]),
        reverse("events:venue_delete", args=[venue.pk]),
        reverse("events:venue_roster", args=[venue.pk]),
        reverse("events:venue_roster_fragment", args=[venue.pk]),
        reverse("events:stall_create", args=[venue.pk]),
        reverse("events:stall_update", args=[stall.pk]),
        reverse("events:stall_delete", args=[stall.pk]),
        reverse("events:stall_report", args=[stall.pk]),
        reverse("events:shift_create", args=[stall.pk]),
        reverse("events:shift_update", args=[shift.pk]),
        reverse("events:shift_delete", args=[shift.pk]),
    ]


def test_another_stations_manager_gets_404(client, other_station, venue):
    manager_b = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    client.force_login(manager_b)
    for url in _object_urls(venue):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "x"}).status_code in (404, 405), url
    assert Venue.objects.filter(pk=venue.pk).exists()


def test_volunteer_403_and_visitor_to_login(client, volunteer_user, venue):
    urls = [reverse("events:day_list"), reverse("events:day_detail", args=[venue.day_id])]
    urls += _object_urls(venue)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url
    client.force_login(volunteer_user)
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_operator_reads_but_every_write_is_403(client, operator, venue):
    client.force_login(operator)
    urls = _object_urls(venue)
    readable = {
        reverse("events:venue_roster", args=[venue.pk]),
        reverse("events:venue_roster_fragment", args=[venue.pk]),
        reverse("events:stall_report", args=[venue.stalls.get().pk]),
    }
    for url in urls:
        assert client.get(url).status_code == (200 if url in readable else 403), url
        assert client.post(url, {"name": "x", "people_served": "5"}).status_code in (403, 405), url
    assert client.get(reverse("events:day_message", args=[venue.day_id])).status_code == 403
    assert Stall.objects.get().people_served == 0


def test_staff_menu_has_service_days(client, station_manager, volunteer_user):
    link = f'href="{reverse("events:day_list")}"'
    client.force_login(station_manager)
    assert link in client.get(reverse("center:home")).content.decode()
    client.force_login(volunteer_user)  # theirs is /v/service-days/
    assert link not in client.get(reverse("center:home")).content.decode()
