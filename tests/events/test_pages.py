"""The volunteer's service-day pages: the stalls near me, sign up, my shifts,
cancel; refused for everyone but volunteers; query counts constant."""

from decimal import Decimal

import pytest
from django.urls import reverse

from center.models import Role
from events.models import SignUp
from events.services.signups import signup_create
from tests.factories import (
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(station, volunteer_user):
    return VolunteerFactory(name="王志愿", station=station, user=volunteer_user, on_duty=True)


@pytest.fixture
def day(db):
    return ServiceDayFactory()


def _stall(day, station, service, lat, lng, shifts=1):
    venue = VenueFactory(day=day, station=station, latitude=Decimal(lat), longitude=Decimal(lng))
    stall = StallFactory(venue=venue, service=service)
    for _ in range(shifts):
        ShiftFactory(stall=stall)
    return stall


def test_upcoming_lists_nearest_stalls_first(client, me, station, other_station, day):
    # station is at 30.75 (factory); the far stall is ~20 km north.
    far = _stall(day, other_station, "理发", "30.930000", str(station.longitude))
    near = _stall(day, station, "磨刀", str(station.latitude), str(station.longitude))
    past_day = ServiceDayFactory(date=day.date.replace(year=day.date.year - 1))
    _stall(past_day, station, "往年配钥匙", str(station.latitude), str(station.longitude))
    client.force_login(me.user)
    response = client.get(reverse("events:upcoming"))
    assert response.status_code == 200
    assert [s.pk for s in response.context["stalls"]] == [near.pk, far.pk]
    body = response.content.decode()
    assert "磨刀" in body and "理发" in body and "往年配钥匙" not in body
    assert reverse("events:signup_create", args=[near.shifts.get().pk]) in body


def test_sign_up_then_see_it_then_cancel(client, me, station, day):
    stall = _stall(day, station, "磨刀", "30.75", "120.75")
    shift = stall.shifts.get()
    client.force_login(me.user)
    response = client.post(reverse("events:signup_create", args=[shift.pk]))
    assert response.status_code == 302 and response.url == reverse("events:my_shifts")
    signup = SignUp.objects.get(shift=shift, volunteer=me)
    assert signup.status == "confirmed"
    body = client.get(reverse("events:my_shifts")).content.decode()
    assert "磨刀" in body and reverse("events:signup_cancel", args=[signup.pk]) in body
    # The list now shows it as mine, with no second sign-up button.
    body = client.get(reverse("events:upcoming")).content.decode()
    assert reverse("events:signup_create", args=[shift.pk]) not in body
    # Twice: the service refuses, as a message, nothing written.
    response = client.post(reverse("events:signup_create", args=[shift.pk]), follow=True)
    assert list(response.context["messages"])
    assert SignUp.objects.filter(shift=shift).count() == 1
    response = client.post(reverse("events:signup_cancel", args=[signup.pk]))
    assert response.status_code == 302
    signup.refresh_from_db()
    shift.refresh_from_db()
    assert signup.status == "cancelled" and shift.taken == 0
    body = client.get(reverse("events:my_shifts")).content.decode()
    assert reverse("events:signup_cancel", args=[signup.pk]) not in body


def test_full_shift_puts_me_on_the_waiting_list(client, me, station, day):
    shift = _stall(day, station, "磨刀", "30.75", "120.75").shifts.get()
    for v in VolunteerFactory.create_batch(2, on_duty=True):
        signup_create(actor=None, shift=shift, volunteer=v)
    client.force_login(me.user)
    client.post(reverse("events:signup_create", args=[shift.pk]))
    assert SignUp.objects.get(shift=shift, volunteer=me).status == "waiting"


def test_another_volunteers_sign_up_is_404_on_cancel(client, me, station, day):
    shift = _stall(day, station, "磨刀", "30.75", "120.75").shifts.get()
    other = VolunteerFactory(station=station, on_duty=True)
    theirs = signup_create(actor=None, shift=shift, volunteer=other)
    client.force_login(me.user)
    assert client.post(reverse("events:signup_cancel", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"
    assert "磨刀" not in client.get(reverse("events:my_shifts")).content.decode()


def test_a_past_days_shift_is_404_on_sign_up(client, me, station, day):
    past_day = ServiceDayFactory(date=day.date.replace(year=day.date.year - 1))
    shift = _stall(past_day, station, "磨刀", "30.75", "120.75").shifts.get()
    client.force_login(me.user)
    assert client.post(reverse("events:signup_create", args=[shift.pk])).status_code == 404


@pytest.mark.parametrize("name", ["upcoming", "my_shifts"])
def test_only_volunteers(client, me, outsider, operator, station_manager, name, day, station):
    shift = _stall(day, station, "磨刀", "30.75", "120.75").shifts.get()
    signup = signup_create(actor=None, shift=shift, volunteer=me)
    urls = [
        ("get", reverse(f"events:{name}")),
        ("post", reverse("events:signup_create", args=[shift.pk])),
        ("post", reverse("events:signup_cancel", args=[signup.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("login") in response.url, url
    # A volunteer login without a volunteer record is refused too.
    for user in (outsider, operator, station_manager, UserFactory(role=Role.VOLUNTEER)):
        client.force_login(user)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 403, (user, url)
    signup.refresh_from_db()
    assert signup.status == "confirmed"


def test_nav_shows_service_days_to_volunteers_only(client, me, station_manager):
    client.force_login(me.user)
    assert reverse("events:upcoming") in client.get(reverse("center:home")).content.decode()
    client.force_login(station_manager)
    assert reverse("events:upcoming") not in client.get(reverse("center:home")).content.decode()


def test_upcoming_query_count_is_constant(
    client, me, station, other_station, day, django_assert_num_queries
):
    def grow(n):
        for i in range(n):
            _stall(day, station if i % 2 else other_station, "磨刀", "30.7", "120.7", 2)

    grow(2)
    first = day.venues.first().stalls.get().shifts.first()
    signup_create(actor=None, shift=first, volunteer=me)
    client.force_login(me.user)
    url = reverse("events:upcoming")
    # session, user, volunteer (+station), stalls (+venue, day, station), shifts, my sign-ups
    with django_assert_num_queries(6):
        assert len(client.get(url).context["stalls"]) == 2
    grow(5)
    with django_assert_num_queries(6):
        assert len(client.get(url).context["stalls"]) == 7


def test_my_shifts_query_count_is_constant(client, me, station, day, django_assert_num_queries):
    def grow(n):
        for _ in range(n):
            stall = _stall(ServiceDayFactory(), station, "磨刀", "30.7", "120.7")
            signup_create(actor=None, shift=stall.shifts.get(), volunteer=me)

    grow(2)
    client.force_login(me.user)
    url = reverse("events:my_shifts")
    # session, user, volunteer (+station), my sign-ups (+shift, stall, venue, day, station)
    with django_assert_num_queries(4):
        assert len(client.get(url).context["signups"]) == 2
    grow(5)
    with django_assert_num_queries(4):
        assert len(client.get(url).context["signups"]) == 7


def test_upcoming_without_a_station_location_still_lists(client, me, station, day):
    type(station).objects.filter(pk=station.pk).update(latitude=None, longitude=None)
    stall = _stall(day, station, "磨刀", "30.75", "120.75")
    client.force_login(me.user)
    response = client.get(reverse("events:upcoming"))
    assert [s.pk for s in response.context["stalls"]] == [stall.pk]
    assert response.context["stalls"][0].km is None
