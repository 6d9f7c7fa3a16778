"""Calendars: an .ics per shift and the personal feed by secret token, both
parsed back with icalendar; the times in Asia/Shanghai; another's 404; the
feed public but secret (reset: the old link 404s); its query count constant."""

import datetime

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry, Role
from events.calendar import FEED_DAYS_BACK, feed_signups
from events.models import CalendarFeed, SignUp
from events.services.calendar import calendar_feed_get_or_create, calendar_feed_reset
from events.services.signups import SERVICE_TZ, signup_cancel, signup_create
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
    return VolunteerFactory(
        name="王志愿", mobile="13812345678", station=station, user=volunteer_user, on_duty=True
    )


@pytest.fixture
def shift(station):
    """09:00–11:00 (Asia/Shanghai) on a coming service day."""
    venue = VenueFactory(station=station, name="月河广场", address="嘉兴市南湖区中山路1号")
    return ShiftFactory(stall=StallFactory(venue=venue, service="磨刀"))


def _events(body: bytes):
    cal = icalendar.Calendar.from_ical(body)
    return cal, list(cal.walk("VEVENT"))


def _shanghai(value):
    return value.astimezone(SERVICE_TZ).replace(tzinfo=None)


def test_shift_ics_parses_back_with_the_times_in_shanghai(client, me, shift, station):
    signup = signup_create(actor=None, shift=shift, volunteer=me)
    client.force_login(me.user)
    response = client.get(reverse("events:shift_ics", args=[signup.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    cal, events = _events(response.content)
    assert len(events) == 1
    event = events[0]
    day = shift.stall.venue.day.date
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.tzinfo is not None and end.tzinfo is not None
    assert _shanghai(start) == datetime.datetime.combine(day, datetime.time(9, 0))
    assert _shanghai(end) == datetime.datetime.combine(day, datetime.time(11, 0))
    assert start == shift.starts_at and end == shift.ends_at
    assert str(event["uid"]) == f"shift-{shift.pk}-signup-{signup.pk}@lianxin"
    assert str(event["summary"]).endswith("服务日 · 磨刀")  # 党员志愿服务日 · 磨刀
    assert str(event["location"]) == "月河广场, 嘉兴市南湖区中山路1号"
    assert station.name in str(event["description"])
    assert "http://testserver" + reverse("events:my_shifts") in str(event["description"])
    assert str(event["status"]) == "CONFIRMED"
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    # Nothing about the person in the file.
    assert "王志愿".encode() not in response.content and b"13812345678" not in response.content


def test_waiting_sign_up_is_tentative_in_english(client, me, shift):
    for v in VolunteerFactory.create_batch(2, on_duty=True):
        signup_create(actor=None, shift=shift, volunteer=v)
    waiting = signup_create(actor=None, shift=shift, volunteer=me)
    client.force_login(me.user)
    response = client.get(reverse("events:shift_ics", args=[waiting.pk]), HTTP_ACCEPT_LANGUAGE="en")
    event = _events(response.content)[1][0]
    assert str(event["status"]) == "TENTATIVE"
    assert str(event["summary"]).startswith("Service day · 磨刀")


def test_another_volunteers_or_a_cancelled_ics_is_404(client, me, shift, station):
    other = VolunteerFactory(station=station, on_duty=True)
    theirs = signup_create(actor=None, shift=shift, volunteer=other)
    mine = signup_create(actor=None, shift=ShiftFactory(stall=shift.stall), volunteer=me)
    client.force_login(me.user)
    assert client.get(reverse("events:shift_ics", args=[theirs.pk])).status_code == 404
    signup_cancel(actor=None, signup=mine)
    assert client.get(reverse("events:shift_ics", args=[mine.pk])).status_code == 404


@pytest.mark.parametrize("name", ["calendar", "shift_ics"])
def test_calendar_pages_are_for_volunteers_only(client, me, shift, station_manager, name):
    signup = signup_create(actor=None, shift=shift, volunteer=me)
    url = reverse(f"events:{name}", args=[signup.pk] if name == "shift_ics" else [])
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response.url
    for user in (station_manager, UserFactory(role=""), UserFactory(role=Role.VOLUNTEER)):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(station_manager)
    assert client.post(reverse("events:calendar_reset")).status_code == 403
    assert not CalendarFeed.objects.exists()


def test_feed_page_shows_the_links_and_the_feed_works_without_login(client, me, shift):
    signup = signup_create(actor=None, shift=shift, volunteer=me)
    client.force_login(me.user)
    response = client.get(reverse("events:calendar"))
    assert response.status_code == 200
    feed = CalendarFeed.objects.get(volunteer=me)
    assert len(feed.token) >= 43
    feed_path = reverse("events:calendar_feed", kwargs={"token": feed.token})
    body = response.content.decode()
    assert f"https://testserver{feed_path}" in body or f"http://testserver{feed_path}" in body
    assert f"webcal://testserver{feed_path}" in body
    assert reverse("events:calendar_reset") in body
    # Opening the page again keeps the link; made once, audited once.
    client.get(reverse("events:calendar"))
    assert CalendarFeed.objects.get(volunteer=me).token == feed.token
    assert AuditEntry.objects.filter(action="events.calendar_feed.created").count() == 1

    client.logout()
    response = client.get(feed_path)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    events = _events(response.content)[1]
    assert [str(e["uid"]) for e in events] == [f"shift-{shift.pk}-signup-{signup.pk}@lianxin"]
    assert _shanghai(events[0].decoded("dtstart")).time() == datetime.time(9, 0)
    assert "王志愿".encode() not in response.content and b"13812345678" not in response.content
    assert (
        client.get(reverse("events:calendar_feed", kwargs={"token": "x" * 43})).status_code == 404
    )


def test_reset_makes_the_old_link_404(client, me, shift):
    signup_create(actor=None, shift=shift, volunteer=me)
    old = calendar_feed_get_or_create(me).token
    client.force_login(me.user)
    response = client.post(reverse("events:calendar_reset"))
    assert response.status_code == 302 and response.url == reverse("events:calendar")
    new = CalendarFeed.objects.get(volunteer=me).token
    assert new != old
    entry = AuditEntry.objects.get(action="events.calendar_feed.reset")
    assert entry.actor == me.user and old not in str(entry.data) and new not in str(entry.data)
    client.logout()
    assert client.get(reverse("events:calendar_feed", kwargs={"token": old})).status_code == 404
    assert client.get(reverse("events:calendar_feed", kwargs={"token": new})).status_code == 200
    # The reset page is a POST action only.
    client.force_login(me.user)
    assert client.get(reverse("events:calendar_reset")).status_code == 405


def test_the_feed_stops_once_the_login_is_switched_off(client, me, shift):
    signup_create(actor=None, shift=shift, volunteer=me)
    url = reverse("events:calendar_feed", kwargs={"token": calendar_feed_get_or_create(me).token})
    assert client.get(url).status_code == 200
    me.user.is_active = False
    me.user.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_reset_without_a_feed_makes_one(me):
    feed = calendar_feed_reset(actor=me.user, volunteer=me)
    assert CalendarFeed.objects.get(volunteer=me).token == feed.token


def test_feed_holds_my_active_sign_ups_from_30_days_ago_in_order(me, station):
    today = timezone.localdate()
    old_day = ServiceDayFactory(date=today - datetime.timedelta(days=FEED_DAYS_BACK + 5))
    recent_day = ServiceDayFactory(date=today - datetime.timedelta(days=3))
    coming = ShiftFactory.create_batch(2, stall__venue__station=station)
    rows = [
        SignUp.objects.create(
            shift=ShiftFactory(stall__venue__day=old_day), volunteer=me, status="confirmed"
        ),
        SignUp.objects.create(
            shift=ShiftFactory(stall__venue__day=recent_day), volunteer=me, status="confirmed"
        ),
        *(signup_create(actor=None, shift=s, volunteer=me) for s in reversed(coming)),
    ]
    cancelled = signup_create(actor=None, shift=ShiftFactory(), volunteer=me)
    signup_cancel(actor=None, signup=cancelled)
    signup_create(actor=None, shift=ShiftFactory(), volunteer=VolunteerFactory(on_duty=True))
    got = feed_signups(calendar_feed_get_or_create(me))
    expected = sorted(rows[1:], key=lambda s: (s.shift.starts_at, s.pk))
    assert [s.pk for s in got] == [s.pk for s in expected]


def test_feed_query_count_is_constant(client, me, station, django_assert_num_queries):
    token = calendar_feed_get_or_create(me).token
    url = reverse("events:calendar_feed", kwargs={"token": token})

    def grow(n):
        for _ in range(n):
            signup_create(
                actor=None, shift=ShiftFactory(stall__venue__station=station), volunteer=me
            )

    grow(1)
    with django_assert_num_queries(2):  # the feed by token, the sign-ups (+shift, stall, venue…)
        response = client.get(url)
    assert len(_events(response.content)[1]) == 1
    grow(5)
    with django_assert_num_queries(2):
        response = client.get(url)
    assert len(_events(response.content)[1]) == 6


def test_my_shifts_links_to_the_calendar(client, me, shift):
    signup = signup_create(actor=None, shift=shift, volunteer=me)
    client.force_login(me.user)
    body = client.get(reverse("events:my_shifts")).content.decode()
    assert reverse("events:shift_ics", args=[signup.pk]) in body
    assert reverse("events:calendar") in body


def test_a_located_venue_gives_the_event_a_geo(client, me, station):
    venue = VenueFactory(station=station, latitude="30.751234", longitude="120.756789")
    signup = signup_create(
        actor=None, shift=ShiftFactory(stall=StallFactory(venue=venue)), volunteer=me
    )
    client.force_login(me.user)
    event = _events(client.get(reverse("events:shift_ics", args=[signup.pk])).content)[1][0]
    assert (event["geo"].latitude, event["geo"].longitude) == (30.751234, 120.756789)
