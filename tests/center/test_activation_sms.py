"""The activation code of a new provider login leaves by SMS (issue 13):
through the outbox, to the login's mobile, at once when issued at the desk,
in the morning for an import's many; the text is blanked once the code is
used or replaced."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from center import accounts
from center import delivery as outbox
from center.models import ActivationCode, Delivery, Notification, Role

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NIGHT = datetime.datetime(2026, 11, 27, 22, 30, tzinfo=TZ)


def _login(mobile):
    return accounts.NewLogin(username=f"JX-{mobile}", mobile=mobile, full_name="张三")


def _text(delivery, language):
    delivery.language = language
    return outbox.sms_text(delivery)


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


def test_a_code_issued_at_the_desk_is_texted_at_once(station_manager, at_night):
    issued = accounts.provider_login_create(
        actor=station_manager, role=Role.VOLUNTEER, login=_login("13600000001")
    )
    code_row = ActivationCode.objects.get(user=issued.user)
    row = Delivery.objects.get(message="center.account.activation")
    assert (row.key, row.address, row.recipient, row.channel) == (
        f"center.account.activation.{code_row.pk}:sms",
        "13600000001",
        None,
        "sms",
    )
    # The provider is waiting at the desk: not held by the quiet hours (22:30).
    assert row.urgent and row.not_before == NIGHT
    assert not Notification.objects.exists()  # no session yet: no inbox row
    zh, en = _text(row, "zh-hans"), _text(row, "en")
    assert f"您的激活码：{issued.code}" in zh and "11-30 22:30" in zh  # 72 hours
    assert f"Your activation code: {issued.code}" in en and "11-30 22:30" in en
    assert "张三" not in zh and len(zh) <= 70


def test_an_imports_codes_wait_for_the_morning(station_manager, at_night):
    issued = accounts.provider_logins_create(
        actor=station_manager,
        role=Role.VOLUNTEER,
        logins=[_login("13600000001"), _login("13600000002")],
    )
    rows = Delivery.objects.filter(message="center.account.activation").order_by("address")
    assert [r.address for r in rows] == ["13600000001", "13600000002"]
    assert [r.params["code"] for r in rows] == [i.code for i in issued]
    morning = datetime.datetime(2026, 11, 28, 7, 30, tzinfo=TZ)
    assert all(not r.urgent and r.not_before == morning for r in rows)


def test_the_text_is_blanked_once_the_code_is_used(client, station_manager, at_night):
    issued = accounts.provider_login_create(
        actor=station_manager, role=Role.VOLUNTEER, login=_login("13600000001")
    )
    response = client.post(
        reverse("account_activate"),
        {
            "mobile": "13600000001",
            "code": issued.code,
            "password": "Hongqi-piao-2026",
            "password2": "Hongqi-piao-2026",
        },
    )
    assert response.status_code == 302
    row = Delivery.objects.get(message="center.account.activation")
    assert issued.code not in str(row.params) and row.params["code"] == "********"


def test_a_new_code_cancels_the_unsent_old_one(station_manager, at_night):
    first = accounts.provider_logins_create(
        actor=station_manager, role=Role.VOLUNTEER, logins=[_login("13600000001")]
    )[0]
    old = Delivery.objects.get(message="center.account.activation")
    old.urgent, old.status = False, Delivery.Status.PENDING
    old.save()
    second = accounts.activation_code_issue(actor=station_manager, user=first.user)
    old.refresh_from_db()
    assert old.status == Delivery.Status.CANCELLED and first.code not in str(old.params)
    new = Delivery.objects.exclude(pk=old.pk).get(message="center.account.activation")
    assert new.params["code"] == second.code and new.urgent


def test_a_configured_sender_hook_replaces_the_outbox(settings, at_night):
    settings.LIANXIN = {
        **settings.LIANXIN,
        "ACTIVATION_SMS_SENDER": "tests.center.test_accounts.fake_sms_sender",
    }
    accounts.provider_login_create(actor=None, role=Role.VOLUNTEER, login=_login("13600000001"))
    assert not Delivery.objects.exists()  # one text, not two


def test_a_volunteer_registered_on_the_form_gets_the_code_by_sms(
    station_manager, station, at_night
):
    from volunteers import services

    volunteer = services.volunteer_create(
        actor=station_manager,
        data={"name": "李四", "mobile": "13600000009", "station": station, "kind": "community"},
    )
    row = Delivery.objects.get(message="center.account.activation")
    assert row.address == "13600000009" and row.params["code"] == volunteer.activation.code


def test_the_code_is_blanked_in_the_outbox_once_the_sms_has_left(station_manager, at_night):
    from center import delivery as outbox

    issued = accounts.provider_login_create(
        actor=station_manager, role=Role.VOLUNTEER, login=_login("13600000009")
    )
    row = Delivery.objects.get(message="center.account.activation")
    assert row.params["code"] == issued.code  # still to send: the code is needed
    assert outbox.delivery_send(delivery_id=row.pk) == "sent"
    row.refresh_from_db()
    assert row.status == "sent" and row.params["code"] == "***"
    assert issued.code not in str(row.params)
