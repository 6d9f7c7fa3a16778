"""Order reminders that leave the portal (issue 13, requests.services.reminders):
offered and urged to providers without a login by SMS, emergencies urgent;
taken to the resident with who comes and when; near and past the time limit
to the provider and the station's managers; the daily follow-up digest."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from center import delivery as outbox
from center import messages
from center.models import Delivery, Notification
from requests import services
from requests.models import ResidentPhone, ServiceRequest
from requests.services import reminders
from tests.factories import ResidentFactory, UserFactory
from tests.requests.conftest import near

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=TZ)
NIGHT = datetime.datetime(2026, 11, 27, 23, 0, tzinfo=TZ)
S = ServiceRequest.Status


@pytest.fixture
def at_noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def _render(key, params, language):
    with translation.override(language):
        return " ".join(messages.render(key, params))


def _sms(delivery, language=None):
    if language:
        delivery.language = language
    return outbox.sms_text(delivery)


# --- offered, urged: providers without a login get an SMS ------------------------------


def test_an_offer_reaches_a_volunteer_without_a_login_by_sms(
    make_order, operator, station, item, at_noon
):
    volunteer = near(station, item, 1, name="王小明")
    assert volunteer.user_id is None
    order = make_order()
    services.order_offer(actor=operator, order=order)
    (row,) = Delivery.objects.filter(message="requests.order.offered")
    assert (row.channel, row.address, row.recipient, row.urgent) == (
        "sms",
        volunteer.mobile,
        None,
        False,
    )
    assert not Notification.objects.filter(kind="requests.offer").exists()  # no inbox: no login


def test_an_emergency_offer_is_urgent_and_not_held_by_the_quiet_hours(
    make_order, operator, station, item
):
    volunteer = near(station, item, 1)
    with time_machine.travel(NIGHT, tick=False):
        order = make_order(urgency="emergency")
        services.order_offer(actor=operator, order=order)
        row = Delivery.objects.get(message="requests.order.offered", address=volunteer.mobile)
        assert row.urgent and row.not_before == NIGHT  # goes now, at 23:00


def test_a_normal_offer_at_night_waits_for_the_morning(make_order, operator, station, item):
    near(station, item, 1)
    with time_machine.travel(NIGHT, tick=False):
        services.order_offer(actor=operator, order=make_order())
    row = Delivery.objects.get(message="requests.order.offered")
    assert not row.urgent and row.not_before == datetime.datetime(2026, 11, 28, 7, 30, tzinfo=TZ)


def test_urging_reaches_the_provider_without_a_login_by_sms(
    make_order, operator, station, item, at_noon
):
    volunteer = near(station, item, 1)
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=volunteer)
    services.order_urge(actor=operator, order=order, note="居民又来电")
    row = Delivery.objects.get(message="requests.order.urged")
    assert (row.address, row.recipient, row.params["note"]) == (
        volunteer.mobile,
        None,
        "居民又来电",
    )


def test_a_provider_with_a_login_gets_inbox_and_sms_on_the_logins_number(
    make_order, operator, near_volunteer, at_noon
):
    services.order_offer(actor=operator, order=make_order())
    note = Notification.objects.get(kind="requests.offer")
    assert note.recipient == near_volunteer.user
    row = Delivery.objects.get(message="requests.order.offered")
    assert (row.address, row.recipient) == (near_volunteer.user.mobile, near_volunteer.user)


# --- taken: the resident is told who comes and when ---------------------------------------


def _take(make_order, operator, volunteer, **kw):
    order = make_order(**kw)
    services.order_offer(actor=operator, order=order)
    return services.order_take(actor=None, order=order, provider=volunteer)


def test_the_resident_is_texted_who_comes_and_when(
    make_order, operator, station, item, resident, at_noon
):
    volunteer = near(station, item, 1, name="王小明")
    order = _take(make_order, operator, volunteer, caller_phone="13812345678")
    row = Delivery.objects.get(message="requests.order.taken")
    assert (row.address, row.recipient, row.key) == (
        "13812345678",
        None,
        f"requests.order.taken.{order.pk}.0:sms",
    )
    # The provider's surname and the ETA: the 10-minute promise (1 km is 4 minutes).
    assert row.params == {"name": "王师傅", "number": order.number, "minutes": 10}
    zh = _sms(row)
    assert "王师傅已接您的服务单" in zh and "约10分钟" in zh
    en = _render(row.message, row.params, "en")
    assert "has taken your order" in en and "within about 10 minutes" in en
    # Nothing else of anyone: not the volunteer's full name or mobile, not the address.
    for private in ("王小明", volunteer.mobile, resident.name, order.address, resident.address):
        assert private not in zh and private not in en
    assert not Notification.objects.filter(kind="requests.resident").exists()


def test_the_resident_is_told_when_it_is_done_and_that_the_center_will_call(
    make_order, operator, station, item, at_noon
):
    from decimal import Decimal

    volunteer = near(station, item, 1, name="王小明")
    order = _take(make_order, operator, volunteer, caller_phone="13812345678")
    services.order_complete(actor=None, order=order, notes="修好了", fee=Decimal("0"))
    row = Delivery.objects.get(message="requests.order.completed")
    assert (row.address, row.key) == ("13812345678", f"requests.order.completed.{order.pk}:sms")
    assert row.params == {"number": order.number}
    assert "回访" in _sms(row) or "电话" in _sms(row)
    assert "call you" in _render(row.message, row.params, "en")


def test_a_far_provider_gives_their_own_travel_time(make_order, operator, station, item, at_noon):
    volunteer = near(station, item, 4.5, name="李四")  # 4.5 km at 15 km/h: 18 minutes
    _take(make_order, operator, volunteer)
    assert Delivery.objects.get(message="requests.order.taken").params["minutes"] == 18


def test_an_appointment_gives_the_agreed_time(make_order, operator, station, item, at_noon):
    volunteer = near(station, item, 1, name="欧阳明")
    when = NOON + datetime.timedelta(days=1, hours=-3)
    order = make_order(preferred_time=when)
    services.order_assign(actor=operator, order=order, provider=volunteer)
    services.order_take(actor=None, order=order, provider=volunteer)
    row = Delivery.objects.get(message="requests.order.taken_for")
    assert row.params["time"] == "11-28 09:00" and row.params["name"] == "欧阳师傅"
    assert "11-28 09:00" in _sms(row) and "11-28 09:00" in _render(row.message, row.params, "en")


def test_a_landline_caller_is_texted_on_the_residents_mobile(
    make_order, operator, station, item, community, at_noon
):
    resident = ResidentFactory(community=community, phone="057382001234")
    ResidentPhone.objects.create(resident=resident, number="13955556666")
    volunteer = near(station, item, 1)
    _take(make_order, operator, volunteer, resident=resident, caller_phone="057382001234")
    assert Delivery.objects.get(message="requests.order.taken").address == "13955556666"


def test_no_mobile_or_the_center_says_no_no_text(
    make_order, operator, station, item, community, settings, at_noon
):
    volunteer = near(station, item, 1)
    landline_only = ResidentFactory(community=community, phone="057382001234")
    _take(make_order, operator, volunteer, resident=landline_only)
    settings.LIANXIN = {**settings.LIANXIN, "RESIDENT_SMS": False}
    _take(make_order, operator, near(station, item, 1.2))
    assert not Delivery.objects.filter(message__startswith="requests.order.taken").exists()


def test_a_merchant_is_named_by_its_business_name(make_order, operator, station, item, at_noon):
    from tests.factories import MerchantFactory

    merchant = MerchantFactory(name="张记家电维修")
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=merchant)
    services.order_take(actor=operator, order=order)  # staff record the take
    assert Delivery.objects.get(message="requests.order.taken").params["name"] == "张记家电维修"


# --- near and past the time limit -------------------------------------------------------


@pytest.fixture
def held_order(make_order, operator, station, item, station_manager):
    """A normal order (near at 120 minutes, limit 1440) received at noon and
    assigned to a volunteer without a login."""
    volunteer = near(station, item, 1)
    with time_machine.travel(NOON, tick=False):
        order = make_order()
        services.order_assign(actor=operator, order=order, provider=volunteer)
    order.refresh_from_db()
    return order


def _at(minutes):
    return NOON + datetime.timedelta(minutes=minutes)


def test_near_then_late_each_told_once_to_provider_and_manager(held_order, station_manager):
    provider = held_order.provider
    assert reminders.order_limits_remind(now=_at(119)) == 0  # not yet near
    with time_machine.travel(_at(121), tick=False):
        assert reminders.order_limits_remind() == 2
        assert reminders.order_limits_remind() == 0  # told: never twice
    near_keys = {
        f"requests.reminder.near.{held_order.pk}.p{provider.pk}:sms",
        f"requests.reminder.near.{held_order.pk}.{station_manager.pk}:sms",
    }
    assert near_keys <= set(Delivery.objects.values_list("key", flat=True))
    # The provider has no login: an SMS, no inbox row. The manager: the inbox.
    assert list(
        Notification.objects.filter(kind="requests.reminder").values_list("key", flat=True)
    ) == [f"requests.reminder.near.{held_order.pk}.{station_manager.pk}"]
    assert reminders.order_limits_remind(now=_at(600)) == 0  # still near: already told
    assert reminders.order_limits_remind(now=_at(1441)) == 2
    assert reminders.order_limits_remind(now=_at(1446)) == 0
    late = Delivery.objects.get(key=f"requests.reminder.late.{held_order.pk}.p{provider.pk}:sms")
    zh, en = _sms(late), _render(late.message, late.params, "en")
    assert late.params["time"] == "11-28 12:00"
    assert "已超时" in zh and held_order.number in zh and "11-28 12:00" in zh
    assert "past its time limit" in en and held_order.number in en


def test_a_closed_order_or_one_long_past_is_not_told(held_order, make_order, operator):
    ServiceRequest.objects.filter(pk=held_order.pk).update(status=S.COMPLETED)
    assert reminders.order_limits_remind(now=_at(121)) == 0
    # An order that crossed its limit long before the lookback window (a
    # beat down for days) is on the console's red list, not re-announced.
    ServiceRequest.objects.filter(pk=held_order.pk).update(status=S.TAKEN)
    assert reminders.order_limits_remind(now=_at(1440 + 24 * 60)) == 0


def test_an_emergency_past_its_limit_is_urgent(
    make_order, operator, station, item, station_manager
):
    near(station, item, 1)
    with time_machine.travel(NOON, tick=False):
        order = make_order(urgency="emergency")  # near at 10 minutes, limit 30
    with time_machine.travel(_at(31), tick=False):
        assert reminders.order_limits_remind() == 1  # nobody holds it: the manager
    row = Delivery.objects.get(key__startswith=f"requests.reminder.late.{order.pk}.")
    assert row.urgent and row.address == station_manager.mobile


def test_the_limit_reminder_costs_the_same_whatever_was_already_told(
    make_order, operator, station, item, station_manager
):
    def run_twice(n):
        with time_machine.travel(NOON, tick=False):
            for _ in range(n):
                services.order_assign(
                    actor=operator, order=make_order(), provider=near(station, item, 1)
                )
        reminders.order_limits_remind(now=_at(121))
        with CaptureQueriesContext(connection) as ctx:
            assert reminders.order_limits_remind(now=_at(126)) == 0
        return len(ctx)

    assert run_twice(2) == run_twice(8) <= 6


# --- follow-up calls due: one digest per station a day ------------------------------------


def test_follow_ups_due_digest_once_a_day_per_station(
    make_order, station, station_manager, other_station
):
    other_manager = UserFactory(role="station_manager", stations=[other_station])
    with time_machine.travel(NOON, tick=False):
        orders = [make_order() for _ in range(3)]
    yesterday, this_morning = _at(-60 * 20), _at(60 * 20)  # 11-26 16:00, 11-28 08:00
    ServiceRequest.objects.filter(pk__in=[orders[0].pk, orders[1].pk]).update(
        status=S.COMPLETED, completed_at=yesterday
    )
    ServiceRequest.objects.filter(pk=orders[2].pk).update(
        status=S.COMPLETED, completed_at=this_morning
    )
    nine = datetime.datetime(2026, 11, 28, 9, 0, tzinfo=TZ)
    with time_machine.travel(nine, tick=False):
        assert reminders.follow_ups_due_remind() == 1  # one station, one manager: one digest
        assert reminders.follow_ups_due_remind() == 0
    note = Notification.objects.get(kind="requests.reminder")
    assert note.recipient == station_manager and note.key.endswith(
        f".20261128.{station_manager.pk}"
    )
    assert note.params["n"] == 2 and note.params["date"] == "2026-11-26"
    assert not Notification.objects.filter(recipient=other_manager).exists()
    with translation.override("zh-hans"):
        assert "待回访2单" in note.display_title
    with translation.override("en"):
        assert "2 follow-up calls due" in note.display_title
    # The next day: told again (the order completed on the 28th is due too).
    with time_machine.travel(nine + datetime.timedelta(days=1), tick=False):
        assert reminders.follow_ups_due_remind() == 1
    assert Notification.objects.filter(kind="requests.reminder").latest("pk").params["n"] == 3


def test_the_tasks_call_the_reminders():
    from requests import tasks

    assert tasks.remind_order_limits() == 0
    assert tasks.remind_follow_ups() == 0
