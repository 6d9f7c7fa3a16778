"""Micro-wish reminders (requests.services.reminders_wishes) on a frozen
clock: the adopter's contact deadline (near, passed), the wish's deadline
approaching, and the station's digest of wishes about to roll over."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from center.models import Delivery, Notification, Role
from requests.models import MicroWish, WishAdoption
from requests.services import reminders_wishes
from requests.services.wishes import wish_adopt
from requests.tasks import remind_wish_contacts, remind_wish_deadlines
from tests.factories import MicroWishFactory, OrganizationFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 27)
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
S = MicroWish.Status


@pytest.fixture
def at_ten():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def adopted(station, *, due=None, status=S.ADOPTED, login=True, deadline=None, **wish):
    """A wish adopted by one volunteer (their adoption returned)."""
    w = MicroWishFactory(
        station=station,
        status=status,
        shares_taken=1,
        contact_due_at=due,
        deadline=deadline or TODAY + datetime.timedelta(days=20),
        **wish,
    )
    member = VolunteerFactory(user=UserFactory(role=Role.VOLUNTEER) if login else None)
    return WishAdoption.objects.create(wish=w, volunteer=member)


def told(message):
    return list(Notification.objects.filter(message=message).order_by("pk"))


# --- The adopter's contact deadline -----------------------------------------------------------


def test_the_contact_deadline_near_is_told_once_a_day_before(station, at_ten):
    soon = adopted(station, due=NOW + datetime.timedelta(hours=20))
    later = adopted(station, due=NOW + datetime.timedelta(hours=30))
    contacted = adopted(station, due=NOW + datetime.timedelta(hours=20), status=S.CONTACTED)
    assert reminders_wishes.wish_contact_remind() == 1
    assert reminders_wishes.wish_contact_remind() == 0  # hourly: told once
    remind_wish_contacts.delay()
    (note,) = told("requests.wish.contact_soon")
    assert note.recipient == soon.volunteer.user
    assert note.key == f"requests.reminder.wish_contact_soon.{soon.pk}"
    assert note.params == {"title": soon.wish.title, "due": "2026-11-28 06:00"}
    for other in (later, contacted):
        assert not Notification.objects.filter(recipient=other.volunteer.user).exists()
    # Six hours on, the later one is inside its last day.
    with time_machine.travel(NOW + datetime.timedelta(hours=7), tick=False):
        assert reminders_wishes.wish_contact_remind() == 1
    assert told("requests.wish.contact_soon")[-1].recipient == later.volunteer.user


def test_a_passed_contact_deadline_is_told_when_nothing_released_it(station, at_ten):
    passed = adopted(station, due=NOW - datetime.timedelta(hours=1))
    stale = adopted(station, due=NOW - datetime.timedelta(days=4))
    released = adopted(station, due=NOW - datetime.timedelta(hours=1))
    released.status = WishAdoption.Status.RELEASED
    released.save()
    assert reminders_wishes.wish_contact_remind() == 1
    assert reminders_wishes.wish_contact_remind() == 0
    (note,) = told("requests.wish.contact_passed")
    assert note.recipient == passed.volunteer.user
    assert note.key == f"requests.reminder.wish_contact_passed.{passed.pk}"
    for other in (stale, released):
        assert not Notification.objects.filter(recipient=other.volunteer.user).exists()


def test_the_contact_reminders_follow_the_adoption_service(station, settings):
    """wish_adopt sets the deadline WISH_CONTACT_DAYS on: the day before it,
    the adopter is told; after it, told it passed."""
    settings.LIANXIN = {**settings.LIANXIN, "WISH_CONTACT_DAYS": 7}
    wish = MicroWishFactory(station=station, status=S.PUBLISHED)
    member = VolunteerFactory(user=UserFactory(role=Role.VOLUNTEER))
    with time_machine.travel(NOW, tick=False):
        wish_adopt(actor=member.user, wish=wish, volunteer=member)
    for day, expected in ((5, 0), (6, 1), (7, 1), (8, 0)):
        with time_machine.travel(NOW + datetime.timedelta(days=day, minutes=1), tick=False):
            assert reminders_wishes.wish_contact_remind() == expected, day
    assert [
        n.message for n in Notification.objects.filter(recipient=member.user).order_by("pk")
    ] == [
        "requests.wish.contact_soon",
        "requests.wish.contact_passed",
    ]


def test_a_volunteer_without_a_login_gets_an_sms_and_an_organization_its_staff(
    station, operator, at_ten
):
    no_login = adopted(station, due=NOW + datetime.timedelta(hours=2), login=False)
    wish = MicroWishFactory(
        station=station,
        status=S.ADOPTED,
        shares_taken=1,
        contact_due_at=NOW + datetime.timedelta(hours=2),
    )
    org = WishAdoption.objects.create(
        wish=wish, organization=OrganizationFactory(), acted_by=operator
    )
    assert reminders_wishes.wish_contact_remind() == 2
    row = Delivery.objects.get(recipient=None)
    assert (row.address, row.message) == (no_login.volunteer.mobile, "requests.wish.contact_soon")
    assert row.key == f"requests.reminder.wish_contact_soon.{no_login.pk}:sms"
    assert Notification.objects.get().recipient == operator
    assert reminders_wishes.wish_contact_remind() == 0
    assert org.pk


# --- The wish's deadline approaching ---------------------------------------------------------


def test_the_wish_deadline_three_days_ahead_is_told_to_the_adopters(station, at_ten):
    day = datetime.timedelta(days=1)
    three = adopted(station, deadline=TODAY + 3 * day)
    two = adopted(station, deadline=TODAY + 2 * day, status=S.CONTACTED)  # a run missed
    four = adopted(station, deadline=TODAY + 4 * day)
    fulfilled = adopted(station, deadline=TODAY + 3 * day, status=S.FULFILLED)
    assert reminders_wishes.wish_deadline_remind() == 2
    assert reminders_wishes.wish_deadline_remind() == 0
    notes = told("requests.wish.deadline_soon")
    assert {n.recipient_id for n in notes} == {three.volunteer.user_id, two.volunteer.user_id}
    note = next(n for n in notes if n.recipient_id == three.volunteer.user_id)
    assert note.key == f"requests.reminder.wish_deadline.{three.pk}.20261130"
    assert note.params == {"title": three.wish.title, "deadline": "2026-11-30"}
    for other in (four, fulfilled):
        assert not Notification.objects.filter(recipient=other.volunteer.user).exists()


# --- Wishes not adopted, the day before they roll over -------------------------------------


def test_the_rollover_digest_counts_the_stations_wishes_due_today(
    station, other_station, station_manager, at_ten
):
    MicroWishFactory.create_batch(2, station=station, status=S.PUBLISHED, deadline=TODAY)
    MicroWishFactory(station=station, status=S.PUBLISHED, deadline=TODAY + datetime.timedelta(1))
    adopted(station, deadline=TODAY)  # adopted: it does not roll over
    MicroWishFactory(station=other_station, status=S.PUBLISHED, deadline=TODAY)  # no manager
    assert reminders_wishes.wish_rollover_digest() == 1
    assert reminders_wishes.wish_rollover_digest() == 0
    remind_wish_deadlines.delay()
    (note,) = told("requests.wish.rollover_soon")
    assert note.recipient == station_manager
    assert note.params == {"station": station.name, "n": 2}
    assert note.key == f"requests.reminder.wish_rollover.{station.pk}.20261127.{station_manager.pk}"
    # Tonight they roll over (a new round, a new deadline): tomorrow's digest
    # counts only the wish due tomorrow.
    from requests.services.wishes import wishes_roll_over

    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        assert wishes_roll_over() == 3
        assert reminders_wishes.wish_rollover_digest() == 1
    assert told("requests.wish.rollover_soon")[-1].params["n"] == 1


# --- Both languages, and the cost -----------------------------------------------------------


def test_the_wish_reminders_read_in_both_languages(station, station_manager, at_ten):
    adopted(station, due=NOW + datetime.timedelta(hours=2), title="一台电饭煲")
    adopted(station, due=NOW - datetime.timedelta(hours=2), title="一台收音机")
    adopted(station, deadline=TODAY + datetime.timedelta(days=3), title="一把轮椅")
    MicroWishFactory(station=station, status=S.PUBLISHED, deadline=TODAY)
    reminders_wishes.wish_contact_remind()
    reminders_wishes.wish_deadline_remind()
    reminders_wishes.wish_rollover_digest()
    soon = told("requests.wish.contact_soon")[0]
    passed = told("requests.wish.contact_passed")[0]
    deadline = told("requests.wish.deadline_soon")[0]
    digest = told("requests.wish.rollover_soon")[0]
    with translation.override("en"):
        assert (
            soon.display_title == "Contact the family of the wish “一台电饭煲” by 2026-11-27 12:00"
        )
        assert passed.display_title == "The time to contact the family of “一台收音机” has passed"
        assert deadline.display_title == "The wish “一把轮椅” is due on 2026-11-30"
        assert (
            digest.display_title == f"{station.name}: wishes not adopted, rolling over tonight: 1"
        )
    with translation.override("zh-hans"):
        assert soon.display_title == "请在 2026-11-27 12:00 前联系微心愿“一台电饭煲”的家庭"
        assert passed.display_title == "联系微心愿“一台收音机”家庭的期限已过"
        assert deadline.display_title == "微心愿“一把轮椅”将于 2026-11-30 到期"
        assert digest.display_title == f"{station.name}：今晚转入下一轮的未认领微心愿 1 个"
    from center.delivery import sms_text

    for row in Delivery.objects.filter(channel="sms"):
        assert len(sms_text(row)) <= 120, sms_text(row)


def test_the_contact_reminder_costs_a_constant_per_adopter(station, at_ten, monkeypatch):
    monkeypatch.setattr(reminders_wishes, "BATCH", 2)

    def add(n):
        for _i in range(n):
            adopted(station, due=NOW + datetime.timedelta(hours=2))

    add(4)
    with CaptureQueriesContext(connection) as first:
        reminders_wishes.wish_contact_remind()
    with CaptureQueriesContext(connection) as again:
        reminders_wishes.wish_contact_remind()
    add(4)
    with CaptureQueriesContext(connection) as more:
        reminders_wishes.wish_contact_remind()
    # All told: two reads (near, passed) and per batch a lookup and a savepoint.
    assert len(again.captured_queries) <= 2 + 2 * 3
    assert (len(first.captured_queries) - len(again.captured_queries)) / 4 <= 14
    assert len(more.captured_queries) - len(first.captured_queries) <= 2 * 3
