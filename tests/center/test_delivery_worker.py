"""The outbox end to end, not eager: a real Celery worker consuming the real
Redis (queues celery, sms and email) sends through center.sms.HttpGatewayBackend
to the fake gateway (tests/center/sms_gateway.py). Exactly once through a
task run twice, a worker that died holding its claim, and a broker outage."""

import datetime
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections, transaction
from django.utils import timezone

from center import delivery as outbox
from center.celery import app as celery_app
from center.models import Delivery, Notification
from center.notifications import notify
from tests.center.sms_gateway import (
    TEMPLATES,
    sms_gateway_fixture,  # noqa: F401 (sms_gateway)
)
from tests.factories import (
    CommunityFactory,
    ResidentFactory,
    ServiceItemFactory,
    UserFactory,
    VolunteerFactory,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
QUEUES = ["celery", "sms", "email"]
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens there


def _reset_broker_connections():
    """Forget pooled connections so the next publish dials ``broker_url`` anew."""
    celery_app._pool = celery_app.amqp._producer_pool = None


def wait_until(predicate, timeout: float = 15, what: str = "the worker"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def live(settings, sms_gateway):
    """Not eager: tasks go over Redis. No quiet hours (the suite runs at any hour)."""
    assert celery_app.conf.broker_url == settings.REDIS_URL
    settings.LIANXIN = {**settings.LIANXIN, "QUIET_HOURS": "00:00-00:00"}
    celery_app.conf.task_always_eager = False
    _reset_broker_connections()
    yield sms_gateway
    _reset_broker_connections()


@contextmanager
def real_worker(pool: str = "solo", concurrency: int = 1):
    """A real worker (threads of this process: it shares the clock and the
    settings) consuming the three queues from Redis. Yields what its tasks
    returned, as (task name, args, return value), in order."""
    ran = []

    def record(sender=None, args=None, retval=None, **kwargs):
        ran.append((sender.name, tuple(args or ()), retval))
        connections.close_all()  # the worker thread's own connections: none left open

    task_postrun.connect(record, weak=False)
    try:
        with start_worker(
            celery_app,
            pool=pool,
            concurrency=concurrency,
            queues=QUEUES,
            perform_ping_check=False,
            shutdown_timeout=10,
            loglevel="WARNING",
        ):
            yield ran
    finally:
        task_postrun.disconnect(record)


def sms_runs(ran, pk) -> list[str]:
    return [r for name, args, r in ran if name == "center.tasks.send_sms" and args == (pk,)]


@pytest.fixture
def person(db):
    return UserFactory(username="lwz", mobile="13800000001", notify_email=False)


def _tell(person, key="urge.1"):
    """notify() in a committed transaction, as a service would."""
    with transaction.atomic():
        notify(
            recipient=person,
            key=key,
            kind="requests.alert",
            message="requests.order.urged",
            params={"number": "GD1", "note": "请尽快"},
        )
    return Delivery.objects.get(key=f"{key}:sms")


# --- the path of the issue: order offered → SMS and inbox ----------------------------------


@pytest.fixture
def offer_setup(station, operator):
    from requests import services

    community = CommunityFactory()
    station.communities.add(community)
    item = ServiceItemFactory(name="电视机维修", market_price=Decimal("150"))
    resident = ResidentFactory(community=community, phone="13812345678")
    volunteer = VolunteerFactory(
        station=station,
        on_duty=True,
        latitude=Decimal("30.759000"),
        longitude=Decimal("120.760000"),
        user=UserFactory(role="volunteer", mobile="13900000002"),
    )
    volunteer.service_items.add(item)

    def offer():
        order = services.order_create(
            actor=operator, resident=resident, item=item, channel="hotline"
        )
        return services.order_offer(actor=operator, order=order)

    return volunteer, offer


def test_an_offered_order_reaches_the_volunteer_by_sms_through_a_real_worker(live, offer_setup):
    volunteer, offer = offer_setup
    with real_worker() as ran:
        order = offer()  # two committed services, as the dispatch page runs them
        delivery = Delivery.objects.get(recipient=volunteer.user, channel="sms")
        wait_until(lambda: sms_runs(ran, delivery.pk) == ["sent"])
    assert Notification.objects.filter(
        recipient=volunteer.user, message="requests.order.offered"
    ).exists()
    (message,) = live.messages
    assert message["phone"] == "13900000002"
    assert message["template"] == TEMPLATES["requests.order.offered"]
    assert message["params"]["item"] == "电视机维修"
    assert message["params"]["address"] == order.address
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert delivery.gateway_id == message["biz_id"]


# --- a task run twice ------------------------------------------------------------------------


def test_a_task_published_twice_sends_once(live, person):
    from center.tasks import send_sms

    delivery = _tell(person)  # published once after commit (no worker yet)...
    send_sms.apply_async((delivery.pk,))  # ...and once more
    live.fail(delay=0.5)  # a slow gateway: the second task runs while the first sends
    with real_worker(pool="threads", concurrency=2) as ran:
        wait_until(lambda: len(sms_runs(ran, delivery.pk)) == 2)
    assert sorted(sms_runs(ran, delivery.pk)) == ["sent", "skipped"]
    assert len(live.messages) == 1
    assert len(live.requests) == 1  # the claim stopped the second, not the gateway
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


# --- a worker killed between claim and send ------------------------------------------------------


def test_a_worker_killed_between_claim_and_send_delivers_once_after_redelivery(
    live, person, settings
):
    delivery = _tell(person)  # its task waits in Redis: no worker yet
    # A worker claims it and dies before the gateway call (nothing sent, no ack).
    assert outbox.delivery_claim(delivery.pk) is not None
    with real_worker() as ran:
        # The task redelivered to a live worker while the lease runs: nothing.
        wait_until(lambda: sms_runs(ran, delivery.pk) == ["skipped"])
        assert live.requests == []
        assert outbox.deliveries_sweep() == 0  # the lease is not over
        lease = settings.LIANXIN["DELIVERY_LEASE_SECONDS"]
        later = timezone.now() + datetime.timedelta(seconds=lease + 1)
        # The clock moves on past the lease (the worker thread sees it too).
        with time_machine.travel(later, tick=True):
            assert outbox.deliveries_sweep() == 1
            wait_until(lambda: sms_runs(ran, delivery.pk) == ["skipped", "sent"])
            assert outbox.deliveries_sweep() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert [m["out_id"] for m in live.messages] == ["urge.1:sms"]


# --- the broker down --------------------------------------------------------------------------------


def test_broker_down_the_order_is_saved_and_delivered_once_it_is_back(live, offer_setup, settings):
    from requests.models import ServiceRequest

    volunteer, offer = offer_setup
    celery_app.conf.broker_url = DEAD_BROKER
    _reset_broker_connections()
    try:
        started = time.monotonic()
        order = offer()  # no exception: the outbox keeps the message
        assert time.monotonic() - started < 10
    finally:
        celery_app.conf.broker_url = settings.REDIS_URL
        _reset_broker_connections()
    assert ServiceRequest.objects.get(pk=order.pk).status == "dispatched"
    delivery = Delivery.objects.get(recipient=volunteer.user, channel="sms")
    assert (delivery.status, delivery.queued_at, delivery.attempts) == ("pending", None, 0)
    with real_worker() as ran:
        assert outbox.deliveries_sweep() == 1  # the beat sweep, once Redis is back
        wait_until(lambda: sms_runs(ran, delivery.pk) == ["sent"])
        assert outbox.deliveries_sweep() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(live.messages) == 1 and live.messages[0]["phone"] == "13900000002"


def test_broker_down_an_order_for_many_recipients_is_still_answered_at_once(
    live, offer_setup, station, settings
):
    """Each message of the outbox is its own publish after commit: while the
    broker is down each must fail at once, or a request that tells several
    providers (SMS and email each) waits seconds per message and outlives the
    web server's timeout (gunicorn: 30 s), though the order is saved."""
    volunteer, offer = offer_setup
    for n in range(2):
        other = VolunteerFactory(
            station=station,
            on_duty=True,
            latitude=Decimal("30.759000"),
            longitude=Decimal("120.760100") + n,
            user=UserFactory(role="volunteer", email=f"v{n}@example.com"),
        )
        other.service_items.add(*volunteer.service_items.all())
    type(volunteer.user).objects.filter(pk=volunteer.user.pk).update(email="v@example.com")
    celery_app.conf.broker_url = DEAD_BROKER
    _reset_broker_connections()
    try:
        started = time.monotonic()
        offer()
        took = time.monotonic() - started
    finally:
        celery_app.conf.broker_url = settings.REDIS_URL
        _reset_broker_connections()
    unqueued = Delivery.objects.filter(status="pending", queued_at__isnull=True)
    assert unqueued.count() == 6  # three providers, SMS and email each: kept for the sweep
    assert took < 3, f"{took:.1f} s for one request while the broker is down"
