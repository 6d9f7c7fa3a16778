"""Care reminders (requests.services.reminders_care) on a frozen clock: the
paired member's visit due and overdue, the station managers' daily digest of
silent residents."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from center.models import Delivery, Notification, Role
from requests.services import reminders_care
from requests.tasks import remind_care_visits, remind_silent_residents
from tests.factories import (
    CommunityFactory,
    PairingFactory,
    ResidentFactory,
    ResidentGroupFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers.models import ProviderStatus

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 27)
MORNING = datetime.datetime(2026, 11, 27, 8, 30, tzinfo=TZ)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def at_morning():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


def pairing(station, community, due, login=True, **volunteer):
    member = VolunteerFactory(
        station=station, user=UserFactory(role=Role.VOLUNTEER) if login else None, **volunteer
    )
    resident = ResidentFactory(community=community, name="张三丰")
    return PairingFactory(
        resident=resident,
        volunteer=member,
        started_on=due - datetime.timedelta(days=14),
        next_visit_due=due,
    )


def told(message):
    return list(Notification.objects.filter(message=message).order_by("pk"))


# --- Visits due and overdue --------------------------------------------------------------


def test_a_visit_due_today_is_told_once_and_not_before(station, community, at_morning):
    today = pairing(station, community, TODAY)
    tomorrow = pairing(station, community, days(1))
    yesterday = pairing(station, community, days(-1))  # a run missed: caught up
    ended = pairing(station, community, TODAY)
    ended.ended_on = days(-2)
    ended.save()
    suspended = pairing(
        station,
        community,
        TODAY,
        status=ProviderStatus.SUSPENDED,
        suspended_until=days(10),
    )
    assert reminders_care.care_visit_remind() == 2
    assert reminders_care.care_visit_remind() == 0  # run twice: told once
    remind_care_visits.delay()  # the task: nobody twice either
    notes = told("requests.care.visit_due")
    assert {n.recipient_id for n in notes} == {
        today.volunteer.user_id,
        yesterday.volunteer.user_id,
    }
    note = next(n for n in notes if n.recipient_id == today.volunteer.user_id)
    assert note.key == f"requests.reminder.care_due.{today.pk}.20261127"
    # The resident named masked, with the community: an SMS is read by whoever holds the phone.
    assert note.params == {
        "resident": "张**",
        "community": community.name,
        "due": "2026-11-27",
        "days": 0,
    }
    for other in (tomorrow, ended, suspended):
        assert not Notification.objects.filter(recipient=other.volunteer.user).exists()
    # Tomorrow, the pairing due then is told, the others are not again.
    with time_machine.travel(MORNING + datetime.timedelta(days=1), tick=False):
        assert reminders_care.care_visit_remind() == 1
    assert told("requests.care.visit_due")[-1].recipient == tomorrow.volunteer.user


def test_an_overdue_visit_is_told_three_days_after(station, community, at_morning):
    three = pairing(station, community, days(-3))
    four = pairing(station, community, days(-4))  # a run missed: caught up
    two = pairing(station, community, days(-2))  # not yet overdue enough
    long_ago = pairing(station, community, days(-30))  # stale: not told every day
    assert reminders_care.care_visit_remind() == 2
    assert reminders_care.care_visit_remind() == 0
    notes = told("requests.care.visit_overdue")
    assert {n.recipient_id for n in notes} == {three.volunteer.user_id, four.volunteer.user_id}
    assert notes[0].params["days"] in (3, 4)
    for other in (two, long_ago):
        assert not Notification.objects.filter(recipient=other.volunteer.user).exists()


def test_a_member_without_a_login_gets_an_sms(station, community, at_morning):
    p = pairing(station, community, TODAY, login=False)
    assert reminders_care.care_visit_remind() == 1
    row = Delivery.objects.get()
    assert (row.recipient, row.address, row.channel) == (None, p.volunteer.mobile, "sms")
    assert row.key == f"requests.reminder.care_due.{p.pk}.20261127:sms"
    assert reminders_care.care_visit_remind() == 0
    assert Delivery.objects.count() == 1 and not Notification.objects.exists()


def test_a_recorded_visit_moves_the_due_date_and_the_next_is_told_in_turn(
    station, community, at_morning
):
    p = pairing(station, community, TODAY)
    assert reminders_care.care_visit_remind() == 1
    p.next_visit_due = days(14)
    p.save()
    with time_machine.travel(MORNING + datetime.timedelta(days=14), tick=False):
        assert reminders_care.care_visit_remind() == 1
    assert len(told("requests.care.visit_due")) == 2


def test_the_visit_reminders_read_in_both_languages(station, community, at_morning):
    pairing(station, community, TODAY)
    pairing(station, community, days(-3))
    reminders_care.care_visit_remind()
    due, late = told("requests.care.visit_due")[0], told("requests.care.visit_overdue")[0]
    with translation.override("en"):
        assert due.display_title == "A care visit is due: 张**"
        assert "due 2026-11-27" in due.display_body
        assert late.display_title == "The care visit to 张** is overdue"
    with translation.override("zh-hans"):
        assert due.display_title == "该走访了：张**"
        assert late.display_title == "对 张** 的走访已逾期"
        assert "2026-11-24" in late.display_body


def test_the_visit_reminder_costs_a_constant_per_member(
    station, community, at_morning, monkeypatch
):
    monkeypatch.setattr(reminders_care, "BATCH", 2)
    for _i in range(4):
        pairing(station, community, TODAY)
    with CaptureQueriesContext(connection) as first:
        reminders_care.care_visit_remind()
    with CaptureQueriesContext(connection) as again:
        reminders_care.care_visit_remind()
    for _i in range(4):
        pairing(station, community, TODAY)
    with CaptureQueriesContext(connection) as more:
        reminders_care.care_visit_remind()
    # All told: two reads (due, overdue) and per batch one lookup and a savepoint.
    assert len(again.captured_queries) <= 2 + 2 * 3
    assert (len(first.captured_queries) - len(again.captured_queries)) / 4 <= 14
    # Four new among eight cost what four new did, plus two batches.
    assert len(more.captured_queries) - len(first.captured_queries) <= 2 * 3


# --- Silent residents: one digest per station ------------------------------------------------


def silent(community, contact=None):
    resident = ResidentFactory(community=community)
    ResidentGroupFactory(resident=resident)
    resident.__class__.objects.filter(pk=resident.pk).update(last_contact_at=contact)
    return resident


def test_the_silent_digest_goes_to_the_station_managers_once_a_day(
    station, other_station, community, station_manager, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "CARE_SILENT_DAYS": 30}
    silent(community)  # never contacted
    silent(community, MORNING - datetime.timedelta(days=31))
    silent(community, MORNING - datetime.timedelta(days=29))  # contacted recently
    ResidentFactory(community=community)  # not in a special group
    UserFactory(role=Role.STATION_MANAGER, stations=[station], is_active=False)
    elsewhere = CommunityFactory()
    other_station.communities.add(elsewhere)
    silent(elsewhere)
    other_manager = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    quiet = CommunityFactory()
    quiet_station_manager = UserFactory(role=Role.STATION_MANAGER)
    with time_machine.travel(MORNING, tick=False):
        assert reminders_care.care_silent_digest() == 2
        assert reminders_care.care_silent_digest() == 0
        remind_silent_residents.delay()
    notes = told("requests.care.silent")
    assert {n.recipient_id: n.params["n"] for n in notes} == {
        station_manager.pk: 2,
        other_manager.pk: 1,
    }
    note = next(n for n in notes if n.recipient_id == station_manager.pk)
    assert note.params == {"station": station.name, "n": 2, "days": 30}
    assert note.key == f"requests.reminder.care_silent.{station.pk}.20261127.{station_manager.pk}"
    assert quiet and not Notification.objects.filter(recipient=quiet_station_manager).exists()
    # The next day: a new digest.
    with time_machine.travel(MORNING + datetime.timedelta(days=1), tick=False):
        assert reminders_care.care_silent_digest() == 2


def test_the_silent_digest_reads_in_both_languages(station, community, station_manager):
    silent(community)
    with time_machine.travel(MORNING, tick=False):
        reminders_care.care_silent_digest()
    note = Notification.objects.get()
    with translation.override("en"):
        assert note.display_title == f"{station.name}: residents without contact for 30 days: 1"
    with translation.override("zh-hans"):
        assert note.display_title == f"{station.name}：30 天未联系的居民 1 位"


def test_the_silent_digest_costs_the_same_however_many_residents(
    station, community, station_manager
):
    def queries(day: int) -> int:  # a new day: a new digest
        with time_machine.travel(MORNING + datetime.timedelta(days=day), tick=False):
            with CaptureQueriesContext(connection) as ctx:
                assert reminders_care.care_silent_digest() == 1
        return len(ctx.captured_queries)

    silent(community)
    few = queries(0)
    for _i in range(5):
        silent(community)
    assert queries(1) == few
