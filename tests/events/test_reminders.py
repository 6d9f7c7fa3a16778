"""The service days' reminders (events.services.reminders), each on a frozen
clock: a week before to the stations' volunteers, the evening before and two
hours before to those signed up; the waiting-list promotion and the day
message reach volunteers without a login by SMS."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from center import messages
from center.models import Delivery, Notification, Role
from events.models import SignUp
from events.services import reminders
from events.services import stalls as stall_services
from events.services.signups import signup_cancel, signup_create
from events.tasks import announce_service_days, remind_service_day_eve, remind_shifts_soon
from tests.factories import (
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)
from volunteers.models import ProviderStatus

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
SATURDAY = datetime.date(2026, 11, 28)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


def days_before(n: int, hour: int = 9) -> datetime.datetime:
    return at(SATURDAY - datetime.timedelta(days=n), hour)


@pytest.fixture
def day(db):
    return ServiceDayFactory(date=SATURDAY, theme="党在我心中")


@pytest.fixture
def venue(day, station):
    return VenueFactory(day=day, station=station, name="月河广场", address="中山路1号")


@pytest.fixture
def shift(venue):
    return ShiftFactory(stall=StallFactory(venue=venue, service="磨刀"), capacity=5)


def volunteer(station, login=True, **fields):
    user = UserFactory(role=Role.VOLUNTEER) if login else None
    return VolunteerFactory(station=station, user=user, **fields)


def signed_up(shift, login=True, status=SignUp.Status.CONFIRMED):
    v = volunteer(shift.stall.venue.station, login=login)
    return SignUp.objects.create(shift=shift, volunteer=v, status=status)


def sms_to(v) -> Delivery:
    return Delivery.objects.get(recipient=None, address=v.mobile, channel="sms")


# --- A week before ------------------------------------------------------------------------


def test_the_week_announcement_reaches_the_stations_volunteers_once(
    day, venue, station, other_station
):
    with_login = volunteer(station)
    without = volunteer(station, login=False)
    suspended = volunteer(
        station,
        status=ProviderStatus.SUSPENDED,
        suspended_until=SATURDAY + datetime.timedelta(days=30),
    )
    back_by_then = volunteer(station, status=ProviderStatus.SUSPENDED, suspended_until=SATURDAY)
    elsewhere = volunteer(other_station)  # no venue of their station on the day

    with time_machine.travel(days_before(8), tick=False):
        assert reminders.service_day_announce() == 0  # not yet a week before
    with time_machine.travel(days_before(7), tick=False):
        assert reminders.service_day_announce() == 3
        assert reminders.service_day_announce() == 0  # run twice: told once
    with time_machine.travel(days_before(6), tick=False):
        assert reminders.service_day_announce() == 0  # the catch-up day: already told

    notes = Notification.objects.filter(message="events.reminder.week")
    assert {n.recipient_id for n in notes} == {with_login.user_id, back_by_then.user_id}
    note = notes.get(recipient=with_login.user)
    assert note.key == f"events.reminder.week.{day.pk}.v{with_login.pk}"
    assert note.params == {"date": "2026-11-28", "theme": "党在我心中"}
    # Without a login: an SMS to their mobile, no inbox.
    assert sms_to(without).key == f"events.reminder.week.{day.pk}.v{without.pk}:sms"
    assert not Notification.objects.filter(recipient__in=[suspended.user, elsewhere.user]).exists()
    assert not Delivery.objects.filter(address__in=[suspended.mobile, elsewhere.mobile]).exists()


def test_a_missed_run_is_caught_up_the_next_day(day, venue, station):
    v = volunteer(station)
    with time_machine.travel(days_before(6), tick=False):
        assert reminders.service_day_announce() == 1
    with time_machine.travel(days_before(5), tick=False):
        assert reminders.service_day_announce() == 0  # too close: a week's notice is past
    assert Notification.objects.get().recipient == v.user


def test_the_task_runs_the_announcement(day, venue, station):
    volunteer(station)
    with time_machine.travel(days_before(7), tick=False):
        announce_service_days.delay()
    assert Notification.objects.filter(message="events.reminder.week").count() == 1


def test_the_announcement_reads_in_both_languages(day):
    params = {"date": "2026-11-28", "theme": "党在我心中"}
    with translation.override("en"):
        title, body = messages.render("events.reminder.week", params)
    assert title == "Service day 2026-11-28: 党在我心中"
    assert "Find a stall near you" in body
    with translation.override("zh-hans"):
        title, body = messages.render("events.reminder.week", params)
    assert title == "2026-11-28 服务日：党在我心中"
    assert "摊位" in body


def _announce_queries(new_pairs: int, station) -> int:
    """Add ``new_pairs`` volunteers with a login and as many without, then
    count the queries of the week's announcement."""
    for _i in range(new_pairs):
        volunteer(station)
        volunteer(station, login=False)
    with time_machine.travel(days_before(7), tick=False):
        with CaptureQueriesContext(connection) as ctx:
            reminders.service_day_announce()
    return len(ctx.captured_queries)


def test_the_announcement_costs_a_constant_per_volunteer(day, venue, station, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 3)  # small batches: several are crossed
    first = _announce_queries(3, station)  # 6 volunteers, all new: 2 batches
    again = _announce_queries(0, station)  # all told: reads only
    more = _announce_queries(3, station)  # 6 new among 12: 4 batches
    # Already told: the day, the volunteers, and per batch two lookups (and
    # its savepoint): nothing per volunteer.
    assert again <= 2 + 2 * 4
    # A new volunteer costs a constant (notify: the inbox row, one delivery per channel)...
    assert (first - again) / 6 <= 14
    # ...so six new among twelve cost what six new among six did, plus two batches.
    assert more - first <= 2 * 4


# --- The evening before and two hours before ------------------------------------------------


def test_the_evening_before_tells_each_confirmed_sign_up_once(shift):
    confirmed = signed_up(shift)
    waiting = signed_up(shift, status=SignUp.Status.WAITING)
    cancelled = signed_up(shift, status=SignUp.Status.CANCELLED)
    no_login = signed_up(shift, login=False)
    later = ShiftFactory(
        stall=StallFactory(
            venue=VenueFactory(day=ServiceDayFactory(date=SATURDAY + datetime.timedelta(days=7)))
        )
    )
    signed_up(later)

    with time_machine.travel(days_before(2, hour=18), tick=False):
        assert reminders.service_day_eve_remind() == 0  # the day after tomorrow: not yet
    with time_machine.travel(days_before(1, hour=18), tick=False):
        assert reminders.service_day_eve_remind() == 2
        remind_service_day_eve.delay()  # the task, again: nobody twice
    notes = Notification.objects.filter(message="events.reminder.eve")
    assert [n.recipient_id for n in notes] == [confirmed.volunteer.user_id]
    assert notes[0].key == f"events.reminder.eve.{confirmed.pk}"
    assert notes[0].params == {
        "date": "2026-11-28",
        "service": "磨刀",
        "venue": "月河广场",
        "address": "中山路1号",
        "start": "09:00",
        "end": "11:00",
    }
    assert sms_to(no_login.volunteer).key == f"events.reminder.eve.{no_login.pk}:sms"
    for other in (waiting, cancelled):
        assert not Notification.objects.filter(recipient=other.volunteer.user).exists()


def test_two_hours_before_once_per_sign_up_whatever_the_cadence(shift):
    s = signed_up(shift)
    no_login = signed_up(shift, login=False)
    # The shift starts at 09:00; the window is [now + 1h45, now + 2h15).
    with time_machine.travel(at(SATURDAY, 6, 40), tick=False):
        assert reminders.shift_soon_remind() == 0  # 2h20 before: not yet
    told = []
    for minute in range(45, 60 + 30, 5):  # every 5 minutes from 06:45 to 07:25
        with time_machine.travel(
            at(SATURDAY, 6, 0) + datetime.timedelta(minutes=minute), tick=False
        ):
            told.append(reminders.shift_soon_remind())
    assert sum(told) == 2 and told[0] == 0  # 06:45 is 2h15 before: the window's end
    with time_machine.travel(at(SATURDAY, 7, 0), tick=False):
        remind_shifts_soon.delay()
    note = Notification.objects.get(message="events.reminder.soon")
    assert note.recipient == s.volunteer.user and note.key == f"events.reminder.soon.{s.pk}"
    assert sms_to(no_login.volunteer).message == "events.reminder.soon"


def test_the_shift_reminders_read_in_both_languages(shift):
    s = signed_up(shift)
    with time_machine.travel(days_before(1, hour=18), tick=False):
        reminders.service_day_eve_remind()
    with time_machine.travel(at(SATURDAY, 7, 0), tick=False):
        reminders.shift_soon_remind()
    eve = Notification.objects.get(recipient=s.volunteer.user, message="events.reminder.eve")
    soon = Notification.objects.get(recipient=s.volunteer.user, message="events.reminder.soon")
    with translation.override("en"):
        assert eve.display_title == "Tomorrow 09:00–11:00: 磨刀"
        assert "Service day 2026-11-28 at 月河广场, 中山路1号" in eve.display_body
        assert soon.display_title == "Your shift starts at 09:00: 磨刀"
    with translation.override("zh-hans"):
        assert eve.display_title == "明天 09:00–11:00：磨刀"
        assert soon.display_title == "您的班次 09:00 开始：磨刀"
        assert "签到" in soon.display_body
    # The SMS (sign, title, body) fits one message's budget in Chinese.
    from center.delivery import sms_text

    for message in ("events.reminder.eve", "events.reminder.soon"):
        row = Delivery.objects.filter(message=message, channel="sms").first()
        assert row is not None and len(sms_text(row)) <= 120


def test_the_evening_reminder_costs_a_constant_per_sign_up(shift, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 2)
    for _i in range(4):
        signed_up(shift)
    with time_machine.travel(days_before(1, hour=18), tick=False):
        with CaptureQueriesContext(connection) as first:
            reminders.service_day_eve_remind()
        with CaptureQueriesContext(connection) as again:
            reminders.service_day_eve_remind()
        for _i in range(4):
            signed_up(shift)
        with CaptureQueriesContext(connection) as more:
            reminders.service_day_eve_remind()
    # Already told: one read of the sign-ups plus two lookups per batch.
    assert len(again.captured_queries) <= 1 + 2 * 2 + 2
    # Four new among eight: the same cost as the first four, plus two batches' lookups.
    assert len(more.captured_queries) - len(first.captured_queries) <= 2 * 2 + 2


# --- The waiting list and the day message reach volunteers without a login -------------------


def test_a_promotion_reaches_a_volunteer_without_a_login_by_sms(station):
    shift = ShiftFactory(stall__venue__station=station, capacity=1)
    first = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    waiting = signup_create(
        actor=None, shift=shift, volunteer=VolunteerFactory(user=None, station=station)
    )
    signup_cancel(actor=None, signup=first)
    row = sms_to(waiting.volunteer)
    assert row.key == f"events.signup.promoted.{waiting.pk}.v{waiting.volunteer_id}:sms"
    assert row.message == "events.signup.promoted" and not Notification.objects.exists()


def test_the_day_message_reaches_volunteers_without_a_login_once(station_manager, shift):
    with_login = signed_up(shift)
    without = signed_up(shift, login=False)
    waiting = signed_up(shift, login=False, status=SignUp.Status.WAITING)
    cancelled = signed_up(shift, login=False, status=SignUp.Status.CANCELLED)
    with time_machine.travel(days_before(3), tick=False):
        told = stall_services.day_message_send(
            actor=station_manager, day=shift.stall.venue.day, text="8:30 集合"
        )
        assert told == 3
        again = stall_services.day_message_send(
            actor=station_manager, day=shift.stall.venue.day, text="8:30 集合"
        )
    assert again == 0
    assert Notification.objects.get().recipient == with_login.volunteer.user
    for s in (without, waiting):
        row = sms_to(s.volunteer)
        assert row.message == "events.day.message" and row.params["text"] == "8:30 集合"
    assert not Delivery.objects.filter(address=cancelled.volunteer.mobile).exists()
