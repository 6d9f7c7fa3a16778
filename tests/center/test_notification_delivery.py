"""notify() records the inbox row and the outbox (SMS, email) in the caller's
transaction; delivery runs after commit, once, through retries, crashes,
quiet hours and broker outages (center.delivery)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from center import delivery as outbox
from center import sms
from center.celery import app
from center.models import AuditEntry, Delivery, Notification
from center.notifications import notify

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=TZ)


class FakeGateway:
    """An SMS backend that records what it sends, or fails as told."""

    sent: list = []
    fail_with: sms.SendError | None = None

    def send(self, message: sms.Sms) -> str:
        if FakeGateway.fail_with is not None:
            raise FakeGateway.fail_with
        FakeGateway.sent.append(message)
        return f"biz-{len(FakeGateway.sent)}"


@pytest.fixture
def gateway(settings):
    settings.LIANXIN = {**settings.LIANXIN, "SMS_BACKEND": f"{__name__}.FakeGateway"}
    FakeGateway.sent = []
    FakeGateway.fail_with = None
    yield FakeGateway
    FakeGateway.fail_with = None


@pytest.fixture
def at_noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def person(operator):
    operator.mobile = "13800000001"
    operator.email = "op@example.com"
    operator.save()
    return operator


@pytest.fixture
def sends(django_capture_on_commit_callbacks):
    """Run ``fn`` as a committed service: its after-commit work runs too."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _notify(user, key="k1", **extra):
    return notify(
        recipient=user,
        key=key,
        kind="requests.alert",
        message="requests.order.urged",
        params={"number": "GD1", "note": "x"},
        **extra,
    )


def test_inbox_sms_and_email_after_commit_once(
    person, gateway, at_noon, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            _notify(person)
            _notify(person)  # same key: one inbox row, one SMS, one email
            assert gateway.sent == [] and mail.outbox == []  # nothing leaves before commit
    assert Notification.objects.filter(key="k1").count() == 1
    assert [(m.to, m.out_id) for m in gateway.sent] == [("13800000001", "k1:sms")]
    assert "GD1" in gateway.sent[0].text and gateway.sent[0].text.startswith("【连心】")
    assert [m.to for m in mail.outbox] == [["op@example.com"]]
    rows = Delivery.objects.order_by("channel")
    assert [(d.channel, d.status, d.attempts) for d in rows] == [
        ("email", "sent", 1),
        ("sms", "sent", 1),
    ]
    assert rows.get(channel="sms").gateway_id == "biz-1"


def test_a_rolled_back_service_tells_no_one(person, gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _notify(person)
            raise RuntimeError("the service failed after notifying")
    assert callbacks == [] and gateway.sent == []
    assert not Notification.objects.exists() and not Delivery.objects.exists()


def test_preferences_choose_channels_and_an_emergency_always_goes_by_sms(
    person, gateway, at_noon, django_capture_on_commit_callbacks
):
    person.notify_sms = False
    person.notify_email = False
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person, key="quiet")
        _notify(person, key="fire", urgent=True)
    assert [m.out_id for m in gateway.sent] == ["fire:sms"]
    assert mail.outbox == []
    assert Notification.objects.filter(key="quiet").exists()  # the inbox still has it


def test_someone_without_a_login_gets_an_sms_only(gateway, at_noon):
    notify(
        recipient=None,
        key="resident.1",
        kind="requests.resident",
        message="requests.order.urged",
        params={"number": "GD9", "note": ""},
        phone="13900000009",
    )
    assert not Notification.objects.exists()
    (delivery,) = Delivery.objects.all()
    assert (delivery.address, delivery.language, delivery.recipient) == (
        "13900000009",
        "zh-hans",
        None,
    )


def test_written_in_the_recipients_language_at_send_time(person, gateway, at_noon, sends):
    person.language = "en"
    person.save()
    sends(_notify, person)
    assert "GD1" in gateway.sent[0].text
    english = gateway.sent[0].text
    person.language = "zh-hans"
    person.save()
    sends(_notify, person, key="k2")
    assert gateway.sent[1].text != english


def test_an_sms_is_cut_to_the_gateways_length(person, gateway, at_noon, settings, sends):
    settings.LIANXIN = {**settings.LIANXIN, "SMS_MAX_CHARS": 70}
    sends(
        notify,
        recipient=person,
        key="long",
        kind="requests.alert",
        message="requests.order.urged",
        params={"number": "GD1", "note": "很长的催办说明" * 30},
    )
    text = gateway.sent[0].text
    assert len(text) == 70 and text.endswith("…")


def test_a_broker_outage_keeps_the_message_until_the_sweep(
    person, gateway, at_noon, monkeypatch, django_capture_on_commit_callbacks
):
    task = app.tasks["center.tasks.send_sms"]
    original = task.apply_async

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)  # the caller does not fail
    sms_row = Delivery.objects.get(channel="sms")
    assert (sms_row.status, sms_row.queued_at) == ("pending", None)
    assert outbox.deliveries_sweep() == 0  # still down: nothing handed on, nothing lost
    monkeypatch.setattr(task, "apply_async", original)
    assert outbox.deliveries_sweep() == 1
    sms_row.refresh_from_db()
    assert sms_row.status == "sent" and len(gateway.sent) == 1
    assert outbox.deliveries_sweep() == 0  # sent: never again


def test_a_task_run_twice_sends_once(person, gateway, at_noon, settings):
    settings.LIANXIN = {**settings.LIANXIN, "QUIET_HOURS": "00:00-00:00"}
    with time_machine.travel(NOON, tick=False):
        with transaction.atomic():  # not committed yet in the test: queue by hand
            _notify(person)
    pk = Delivery.objects.get(channel="sms").pk
    results = [outbox.delivery_send(delivery_id=pk) for _ in range(2)]
    assert results.count("sent") <= 1 and len(gateway.sent) == 1


def test_a_worker_killed_between_claim_and_send_delivers_once_after_redelivery(
    person, gateway, at_noon, settings
):
    person.notify_email = False
    person.save()
    delivery = outbox.deliveries_create(
        key="crash",
        recipient=person,
        kind="t",
        message="requests.order.urged",
        params={"number": "GD1", "note": ""},
    )[0]
    assert outbox.delivery_claim(delivery.pk) is not None  # ...and the worker dies here
    # The redelivered task, while the dead worker's lease runs: nothing.
    assert outbox.delivery_send(delivery_id=delivery.pk) == "skipped"
    lease = settings.LIANXIN["DELIVERY_LEASE_SECONDS"]
    later = timezone.now() + datetime.timedelta(seconds=lease + 1)
    with time_machine.travel(later, tick=False):
        assert outbox.deliveries_sweep() == 1  # the sweep hands it on once the lease ends
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2
    assert [m.out_id for m in gateway.sent] == ["crash:sms"]


def test_a_failing_gateway_retries_with_backoff_then_fails_visibly(
    person, gateway, at_noon, settings, sends
):
    settings.LIANXIN = {**settings.LIANXIN, "DELIVERY_MAX_ATTEMPTS": 3}
    gateway.fail_with = sms.SendError("gateway error 500")
    person.notify_email = False
    person.save()
    sends(_notify, person)  # attempt 1, now
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "gateway error 500")
    assert row.not_before == NOON + datetime.timedelta(minutes=1)
    with time_machine.travel(NOON + datetime.timedelta(seconds=59), tick=False):
        assert outbox.deliveries_sweep() == 0  # not before the backoff
    with time_machine.travel(NOON + datetime.timedelta(minutes=1), tick=False):
        outbox.deliveries_sweep()  # attempt 2
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.not_before == NOON + datetime.timedelta(minutes=3)
    with time_machine.travel(NOON + datetime.timedelta(minutes=3), tick=False):
        outbox.deliveries_sweep()  # attempt 3: the last
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 3
    with time_machine.travel(NOON + datetime.timedelta(hours=2), tick=False):
        assert outbox.deliveries_sweep() == 0  # failed stays failed until resent
    # Staff resend it once the gateway is back: sent, and the resend audited.
    gateway.fail_with = None
    sends(outbox.delivery_resend, actor=person, delivery=row)
    row.refresh_from_db()
    assert row.status == "sent" and len(gateway.sent) == 1
    assert AuditEntry.objects.filter(action="center.delivery.resent").count() == 1


def test_a_final_refusal_is_not_retried(person, gateway, at_noon, sends):
    gateway.fail_with = sms.SendError("gateway refused 400", retryable=False)
    person.notify_email = False
    person.save()
    sends(_notify, person)
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)


def test_only_failed_messages_are_resent(person, gateway, at_noon, sends):
    from django.core.exceptions import ValidationError

    sends(_notify, person)
    with pytest.raises(ValidationError):
        outbox.delivery_resend(actor=person, delivery=Delivery.objects.get(channel="sms"))


@pytest.mark.parametrize(
    ("local", "held_until"),
    [
        (datetime.datetime(2026, 11, 27, 21, 29), None),
        (datetime.datetime(2026, 11, 27, 21, 30), datetime.datetime(2026, 11, 28, 7, 30)),
        (datetime.datetime(2026, 11, 27, 23, 59), datetime.datetime(2026, 11, 28, 7, 30)),
        (datetime.datetime(2026, 11, 28, 3, 0), datetime.datetime(2026, 11, 28, 7, 30)),
        (datetime.datetime(2026, 11, 28, 7, 30), None),
    ],
)
def test_quiet_hours_cross_midnight(local, held_until):
    expected = held_until.replace(tzinfo=TZ) if held_until else None
    assert outbox.quiet_until(local.replace(tzinfo=TZ)) == expected


def test_quiet_hours_hold_a_message_until_morning_but_not_an_emergency(person, gateway, sends):
    night = datetime.datetime(2026, 11, 27, 23, 0, tzinfo=TZ)
    with time_machine.travel(night, tick=False):
        sends(_notify, person, key="later")
        sends(_notify, person, key="now", urgent=True)
        assert [m.out_id for m in gateway.sent] == ["now:sms"]
        assert outbox.deliveries_sweep() == 0
    held = Delivery.objects.get(key="later:sms")
    assert held.not_before == datetime.datetime(2026, 11, 28, 7, 30, tzinfo=TZ)
    with time_machine.travel(held.not_before, tick=False):
        assert outbox.deliveries_sweep() == 2  # the SMS and the email
    assert [m.out_id for m in gateway.sent] == ["now:sms", "later:sms"]


def test_a_key_reused_for_another_recipient_fails_loudly(operator, station_manager):
    _notify(operator, key="requests.order.urged.1")
    with pytest.raises(ValueError, match="another recipient"):
        _notify(station_manager, key="requests.order.urged.1")
    assert Notification.objects.get().recipient == operator


def test_the_gateway_template_follows_the_recipients_language(person, gateway, at_noon, settings):
    settings.LIANXIN = {
        **settings.LIANXIN,
        "SMS_TEMPLATES": {"requests.order.urged": "SMS_1", "requests.order.urged:en": "SMS_2"},
    }
    row = outbox.deliveries_create(
        key="t1", recipient=person, kind="t", message="requests.order.urged", params={}
    )[0]
    assert outbox.sms_template(row) == "SMS_1"  # zh-hans: the message's own template
    row.language = "en"
    assert outbox.sms_template(row) == "SMS_2"
    row.language = "fr"
    assert outbox.sms_template(row) == "SMS_1"


def test_a_held_message_follows_the_recipients_choices_at_send_time(person, gateway, sends):
    night = datetime.datetime(2026, 11, 27, 23, 0, tzinfo=TZ)
    with time_machine.travel(night, tick=False):
        sends(_notify, person, key="a")
        sends(_notify, person, key="b")
    # Overnight they chose English, and then turned SMS off for a while.
    person.language = "en"
    person.notify_email = False
    person.save()
    morning = datetime.datetime(2026, 11, 28, 7, 30, tzinfo=TZ)
    with time_machine.travel(morning, tick=False):
        outbox.delivery_send(delivery_id=Delivery.objects.get(key="a:sms").pk)
        person.notify_sms = False
        person.save()
        outbox.delivery_send(delivery_id=Delivery.objects.get(key="b:sms").pk)
        for key in ("a:email", "b:email"):
            outbox.delivery_send(delivery_id=Delivery.objects.get(key=key).pk)
    (sent,) = gateway.sent
    assert sent.out_id == "a:sms" and "is urged" in sent.text  # English, as chosen since
    assert Delivery.objects.get(key="b:sms").status == "cancelled"
    assert set(Delivery.objects.filter(channel="email").values_list("status", flat=True)) == {
        "cancelled"
    }
    assert mail.outbox == []


def test_a_stale_offer_held_through_the_night_is_cancelled(person, gateway, sends):
    night = datetime.datetime(2026, 11, 27, 23, 0, tzinfo=TZ)
    with time_machine.travel(night, tick=False):
        sends(
            notify,
            recipient=person,
            key="offer",
            kind="requests.offer",
            message="requests.order.offered",
            params={"item": "修电视", "minutes": 5, "address": "x"},
        )
    with time_machine.travel(datetime.datetime(2026, 11, 28, 7, 30, tzinfo=TZ), tick=False):
        outbox.deliveries_sweep()
    assert gateway.sent == []
    row = Delivery.objects.get(key="offer:sms")
    assert row.status == "cancelled" and row.last_error.startswith("stale")
