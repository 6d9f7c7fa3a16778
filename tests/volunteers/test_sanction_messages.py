"""Sanction messages that leave the portal (issue 13): the notice when a
sanction is applied or revoked reaches a provider without a login by SMS;
the end of a suspension is told once, when they may take orders again."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from center import delivery as outbox
from center.models import Delivery, Notification
from tests.factories import MerchantFactory, UserFactory, VolunteerFactory
from volunteers import services
from volunteers.models import ProviderStatus, Sanction

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def at_noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def valid_complaint(provider, ruler, text="上门迟到"):
    complaint = services.complaint_record(actor=ruler, provider=provider, description=text)
    return services.complaint_rule(actor=ruler, complaint=complaint, valid=True, reason="属实")


def _text(delivery, language):
    delivery.language = language
    return outbox.sms_text(delivery)


def test_a_sanction_reaches_a_provider_without_a_login_by_sms(center_manager):
    volunteer = VolunteerFactory()
    assert volunteer.user_id is None
    valid_complaint(volunteer, center_manager)
    row = Delivery.objects.get(message="volunteers.sanction.suspended")
    assert (row.address, row.recipient, row.urgent) == (volunteer.mobile, None, False)
    assert not Notification.objects.filter(kind="volunteers.sanction").exists()
    assert "警告" in _text(row, "zh-hans") and "Warning" in _text(row, "en")


def test_a_merchant_with_a_login_gets_inbox_and_sms(center_manager):
    merchant = MerchantFactory(user=UserFactory(role="merchant", mobile="13912340000"))
    valid_complaint(merchant, center_manager)
    note = Notification.objects.get(kind="volunteers.sanction")
    assert note.recipient == merchant.user
    assert Delivery.objects.get(notification=note, channel="sms").address == "13912340000"


def test_a_revocation_reaches_a_provider_without_a_login_by_sms(center_manager):
    volunteer = VolunteerFactory()
    sanction = valid_complaint(volunteer, center_manager).sanction
    services.sanction_revoke(actor=center_manager, sanction=sanction, reason="申诉成立")
    row = Delivery.objects.get(message="volunteers.sanction.revoked")
    assert row.address == volunteer.mobile and row.params["reason"] == "申诉成立"


def test_the_end_of_a_suspension_is_told_once(center_manager):
    volunteer = VolunteerFactory()
    valid_complaint(volunteer, center_manager)
    volunteer.refresh_from_db()
    end = volunteer.suspended_until
    assert services.sanctions_expire(today=end - datetime.timedelta(days=1)) == 0
    assert not Delivery.objects.filter(message="volunteers.sanction.ended").exists()
    assert services.sanctions_expire(today=end) == 1
    assert services.sanctions_expire(today=end) == 0  # run twice: told once
    sanction = Sanction.objects.get(provider__volunteer=volunteer)
    (row,) = Delivery.objects.filter(message="volunteers.sanction.ended")
    assert (row.key, row.address) == (f"sanction-ended:{sanction.pk}:sms", volunteer.mobile)
    assert "您的警告已到期" in _text(row, "zh-hans") and "可以重新接单" in _text(row, "zh-hans")
    assert "Your Warning has ended" in _text(row, "en")
    assert "take orders again" in _text(row, "en")


def test_a_provider_with_a_login_is_told_in_the_inbox_too(center_manager):
    volunteer = VolunteerFactory(user=UserFactory(role="volunteer"))
    valid_complaint(volunteer, center_manager)
    volunteer.refresh_from_db()
    services.sanctions_expire(today=volunteer.suspended_until)
    note = Notification.objects.get(kind="volunteers.sanction", message="volunteers.sanction.ended")
    assert note.recipient == volunteer.user
    with translation.override("en"):
        assert note.display_title == "Your Warning has ended"


def test_not_told_while_another_sanction_still_holds_them(center_manager, settings):
    volunteer = VolunteerFactory()
    valid_complaint(volunteer, center_manager)  # warning: one month
    valid_complaint(volunteer, center_manager, text="又迟到")  # yellow card: three months
    warning, yellow = Sanction.objects.filter(provider__volunteer=volunteer).order_by("pk")
    assert services.sanctions_expire(today=warning.ends_on) == 1
    volunteer.refresh_from_db()
    assert volunteer.status == ProviderStatus.SUSPENDED
    assert not Delivery.objects.filter(message="volunteers.sanction.ended").exists()
    assert services.sanctions_expire(today=yellow.ends_on) == 1
    (row,) = Delivery.objects.filter(message="volunteers.sanction.ended")
    assert row.key == f"sanction-ended:{yellow.pk}:sms" and row.params == {"level": "yellow"}


def test_the_expiry_costs_a_constant_per_sanction(center_manager):
    def expire(n):
        volunteers = [VolunteerFactory() for _ in range(n)]
        for v in volunteers:
            valid_complaint(v, center_manager)
        end = Sanction.objects.filter(status="active").latest("pk").ends_on
        with CaptureQueriesContext(connection) as ctx:
            assert services.sanctions_expire(today=end) == n
        return len(ctx)

    one, three = expire(1), expire(3)
    per_sanction = (three - one) // 2
    assert three == one + 2 * per_sanction and per_sanction <= 25
