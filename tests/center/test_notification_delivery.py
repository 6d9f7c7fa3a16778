"""notify() records in the caller's transaction; delivery runs after commit."""

import pytest
from django.db import transaction

from center import notifications
from center.celery import app
from center.models import Notification
from center.notifications import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    sent = []

    def deliver(notification):
        # What a channel sees: the committed row, read back by the task.
        sent.append((notification.key, notification.recipient_id, notification.message))

    notifications.register_channel("test", deliver)
    yield sent
    notifications.unregister_channel("test")


def _notify(user, key="k1"):
    return notify(
        recipient=user,
        key=key,
        kind="requests.alert",
        message="requests.order.urged",
        params={"number": "GD1", "note": "x"},
    )


def test_delivery_waits_for_commit_then_runs_every_channel_once(
    operator, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            _notify(operator)
            _notify(operator)  # same key: one row, one delivery
            assert channel == []  # nothing leaves while the transaction is open
    assert len(callbacks) == 1
    assert channel == [("k1", operator.pk, "requests.order.urged")]


def test_a_rolled_back_service_tells_no_one(operator, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _notify(operator)
            raise RuntimeError("the service failed after notifying")
    assert callbacks == [] and channel == []
    assert not Notification.objects.exists()


def test_a_broker_outage_does_not_fail_the_caller(
    operator, channel, monkeypatch, django_capture_on_commit_callbacks
):
    task = app.tasks["center.tasks.notification_deliver"]

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(operator)
    assert Notification.objects.filter(key="k1").exists()  # the inbox still has it
    assert channel == []  # delivery waits for the broker; the caller did not fail


def test_without_a_channel_nothing_is_queued(operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        _notify(operator)
    assert callbacks == []


def test_a_key_reused_for_another_recipient_fails_loudly(operator, station_manager):
    _notify(operator, key="requests.order.urged.1")
    with pytest.raises(ValueError, match="another recipient"):
        _notify(station_manager, key="requests.order.urged.1")
    assert Notification.objects.get().recipient == operator
