"""center.sms.HttpGatewayBackend against a fake gateway on a real socket
(tests/center/sms_gateway.py): what it sends, how each answer lands on the
Delivery row (sent, retried with backoff, failed for good), on a frozen clock."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine

from center import delivery as outbox
from center import sms
from center.models import Delivery, Notification
from center.notifications import notify
from tests.center.sms_gateway import (
    KEY_ID,
    SIGN_NAME,
    TEMPLATES,
    FakeSmsGateway,
    sms_gateway_fixture,  # noqa: F401 (sms_gateway)
)

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=TZ)
MINUTE = datetime.timedelta(minutes=1)
PARAMS = {"number": "GD20261127001", "note": "请尽快上门"}


@pytest.fixture
def at_noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def person(operator):
    operator.mobile = "13800000001"
    operator.notify_email = False  # SMS only: one row to follow
    operator.save()
    return operator


@pytest.fixture
def tell(person, django_capture_on_commit_callbacks):
    """notify() as a committed service would: the SMS goes out after commit
    (eager tasks here: sent inline)."""

    def run(key="urge.1", **extra):
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                recipient=extra.pop("recipient", person),
                key=key,
                kind="requests.alert",
                message=extra.pop("message", "requests.order.urged"),
                params=extra.pop("params", PARAMS),
                **extra,
            )
        return Delivery.objects.get(key=f"{key}:sms")

    return run


def _sweep_at(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return outbox.deliveries_sweep()


def test_a_message_reaches_the_gateway_once_with_its_template_and_params(
    sms_gateway, at_noon, tell, person
):
    row = tell()
    row.refresh_from_db()
    (message,) = sms_gateway.messages
    assert message == {
        "phone": "13800000001",
        "sign_name": SIGN_NAME,
        "template": TEMPLATES["requests.order.urged"],
        "params": PARAMS,
        "out_id": "urge.1:sms",
        "biz_id": message["biz_id"],
    }
    assert (row.status, row.attempts, row.gateway_id, row.last_error) == (
        "sent",
        1,
        message["biz_id"],
        "",
    )
    assert row.sent_at == NOON
    (request,) = sms_gateway.requests
    assert request["key_id"] == KEY_ID and request["verdict"] == "sent"
    assert Notification.objects.filter(key="urge.1", recipient=person).exists()


def test_params_are_sent_as_strings(sms_gateway, at_noon, tell):
    tell(
        key="offer.1",
        message="requests.order.offered",
        params={"item": "电视机维修", "minutes": 12, "address": "南湖区建设街道1号"},
    )
    (message,) = sms_gateway.messages
    assert message["template"] == TEMPLATES["requests.order.offered"]
    assert message["params"] == {
        "item": "电视机维修",
        "minutes": "12",
        "address": "南湖区建设街道1号",
    }


def test_the_gateway_drops_a_repeated_out_id():
    """The last line of defence (a worker dying inside the gateway call): the
    same OutId twice is one message with one BizId."""
    gateway = FakeSmsGateway().start()
    try:
        from django.conf import settings
        from django.test import override_settings

        conf = {
            **settings.LIANXIN,
            "SMS_GATEWAY_URL": gateway.url,
            "SMS_GATEWAY_KEY_ID": KEY_ID,
            "SMS_GATEWAY_SECRET": "fake-gateway-secret",
            "SMS_SIGN_NAME": SIGN_NAME,
        }
        with override_settings(LIANXIN=conf):
            message = sms.Sms(
                to="13800000001", text="", template="SMS_1", params={"a": "1"}, out_id="x:sms"
            )
            first = sms.HttpGatewayBackend().send(message)
            second = sms.HttpGatewayBackend().send(message)
    finally:
        gateway.stop()
    assert first == second and first.endswith("^0")
    assert len(gateway.messages) == 1 and len(gateway.requests) == 2


def test_a_wrong_secret_is_refused_by_the_gateway_and_fails_for_good(
    sms_gateway, at_noon, tell, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "SMS_GATEWAY_SECRET": "not-the-secret"}
    row = tell()
    row.refresh_from_db()
    assert sms_gateway.messages == []
    assert [r["verdict"] for r in sms_gateway.requests] == ["bad signature"]
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "gateway refused 403")
    assert _sweep_at(NOON + datetime.timedelta(hours=1)) == 0  # not retried


def test_a_gateway_500_is_retried_with_backoff_and_sent_once_it_recovers(
    sms_gateway, at_noon, tell
):
    sms_gateway.fail(status=500, times=2)
    row = tell()  # attempt 1, at noon: 500
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "gateway error 500")
    assert (row.not_before, row.queued_at) == (NOON + MINUTE, None)
    assert _sweep_at(NOON + datetime.timedelta(seconds=59)) == 0  # backoff not over
    assert _sweep_at(NOON + MINUTE) == 1  # attempt 2: 500 again
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.not_before == NOON + 3 * MINUTE  # 1 minute, then 2
    assert _sweep_at(NOON + 2 * MINUTE) == 0
    assert _sweep_at(NOON + 3 * MINUTE) == 1  # attempt 3: the gateway is back
    row.refresh_from_db()
    (message,) = sms_gateway.messages
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert row.gateway_id == message["biz_id"]
    assert [r["status"] for r in sms_gateway.requests] == [500, 500, 200]
    assert _sweep_at(NOON + datetime.timedelta(hours=1)) == 0  # sent: never again


def test_a_gateway_that_stays_down_is_failed_after_the_last_attempt(
    sms_gateway, at_noon, tell, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "DELIVERY_MAX_ATTEMPTS": 2}
    sms_gateway.fail(status=503, times=10)
    row = tell()
    assert _sweep_at(NOON + MINUTE) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "gateway error 503")
    assert _sweep_at(NOON + datetime.timedelta(hours=2)) == 0
    assert sms_gateway.messages == []


@pytest.mark.parametrize(
    ("fault", "mobile", "error"),
    [
        ({"status": 400}, "13800000001", "gateway refused 400"),
        ({}, "10086", "gateway code isv.MOBILE_NUMBER_ILLEGAL: invalid number"),
        (
            {"code": "isv.AMOUNT_NOT_ENOUGH", "message": "账户余额不足"},
            "13800000001",
            "gateway code isv.AMOUNT_NOT_ENOUGH: 账户余额不足",
        ),
    ],
)
def test_a_refusal_fails_at_once_visibly_and_is_not_retried(
    sms_gateway, at_noon, tell, person, fault, mobile, error
):
    from center.models import User

    User.objects.filter(pk=person.pk).update(mobile=mobile)  # the gateway judges the number
    person.refresh_from_db()
    if fault:
        sms_gateway.fail(**fault)
    row = tell()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, error)
    assert row.sent_at is None and row.gateway_id == ""
    assert _sweep_at(NOON + datetime.timedelta(hours=2)) == 0
    assert len(sms_gateway.requests) == 1 and sms_gateway.messages == []
    # Visible to staff: the failed rows of the delivery log.
    assert list(Delivery.objects.filter(status="failed").values_list("key", flat=True)) == [
        "urge.1:sms"
    ]


def test_an_unapproved_template_fails_for_good(sms_gateway, at_noon, tell, settings):
    sms_gateway.templates = {"SMS_999999"}
    row = tell()
    row.refresh_from_db()
    assert row.status == "failed"
    assert row.last_error.startswith("gateway code isv.SMS_TEMPLATE_ILLEGAL")


def test_throttling_is_retried_later(sms_gateway, at_noon, tell):
    sms_gateway.fail(code="isv.BUSINESS_LIMIT_CONTROL", message="触发小时级流控Permits:5")
    row = tell()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.not_before) == ("pending", 1, NOON + MINUTE)
    assert row.last_error.startswith("gateway code isv.BUSINESS_LIMIT_CONTROL")
    assert _sweep_at(NOON + MINUTE) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(sms_gateway.messages) == 1


def test_a_timeout_is_retried_and_the_gateway_drops_the_duplicate(
    sms_gateway, at_noon, tell, settings
):
    """The gateway sent the message but answered after our timeout: the
    retry carries the same OutId, so the phone gets one SMS and the row the
    first BizId."""
    settings.LIANXIN = {**settings.LIANXIN, "SMS_TIMEOUT": 0.3}
    sms_gateway.fail(delay=1.0)
    row = tell()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "gateway unreachable: ReadTimeout"
    (late,) = sms_gateway.wait_for("messages", 1)  # it did go out, late
    assert _sweep_at(NOON + MINUTE) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.gateway_id) == ("sent", 2, late["biz_id"])
    assert len(sms_gateway.messages) == 1 and len(sms_gateway.requests) == 2
    assert sms_gateway.requests[-1]["verdict"] == "duplicate"


def test_an_unreachable_gateway_is_retried(sms_gateway, at_noon, tell, settings):
    settings.LIANXIN = {**settings.LIANXIN, "SMS_GATEWAY_URL": "http://127.0.0.1:1/sms/send"}
    row = tell()
    row.refresh_from_db()
    assert (row.status, row.last_error) == ("pending", "gateway unreachable: ConnectError")


def test_a_message_key_without_a_template_fails_with_a_clear_error(
    sms_gateway, at_noon, tell, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "SMS_TEMPLATES": {}}
    row = tell()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "no gateway template" in row.last_error
    assert sms_gateway.requests == []  # never sent to the gateway
    assert _sweep_at(NOON + datetime.timedelta(hours=1)) == 0


def test_the_request_is_signed_over_the_exact_body(sms_gateway, at_noon, tell):
    """What the gateway verified is what it parsed: the signed body is the sent one."""
    tell()
    (request,) = sms_gateway.requests
    body = json.loads(request["body"])
    assert body["OutId"] == "urge.1:sms" and json.loads(body["TemplateParam"]) == PARAMS
    assert set(body) == {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "OutId"}


def test_an_http_429_is_throttling_and_retried(sms_gateway, at_noon, tell):
    """Gateways and their proxies also throttle with HTTP 429 (and 408 for a
    request they gave up on): another attempt later succeeds, so neither is
    a final refusal like the other 4xx."""
    sms_gateway.fail(status=429)
    row = tell()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.not_before) == ("pending", 1, NOON + MINUTE)
    assert _sweep_at(NOON + MINUTE) == 1
    row.refresh_from_db()
    assert row.status == "sent" and len(sms_gateway.messages) == 1


def test_a_long_parameter_is_cut_to_the_gateways_variable_length(sms_gateway, at_noon, tell):
    row = tell(
        params={"number": "GD1", "note": "老人家中电视机无信号，请带上备用机顶盒和遥控器" * 2}
    )
    row.refresh_from_db()
    assert row.status == "sent", row.last_error
    (message,) = sms_gateway.messages
    assert len(message["params"]["note"]) == 35 and message["params"]["note"].endswith("…")
