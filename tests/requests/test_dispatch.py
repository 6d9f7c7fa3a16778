"""Dispatch: who is a candidate, in which order, and exactly one winner."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from center.models import Notification
from requests import dispatch, services
from requests.models import OrderOffer, ServiceRequest
from requests.tasks import widen_offer, widen_stale_offers
from tests.factories import StationFactory, VolunteerFactory
from tests.requests.conftest import near
from volunteers import services as volunteer_services

pytestmark = pytest.mark.django_db


def ranked(order):
    return [c.volunteer.pk for c in dispatch.volunteer_candidates(order)]


def test_ranking_by_travel_minutes_then_load(make_order, station, item, operator):
    far = near(station, item, 3)
    close = near(station, item, 1)
    as_close_but_busy = near(station, item, 0.9)
    busy_order = make_order()
    services.order_assign(actor=operator, order=busy_order, provider=as_close_but_busy)
    order = make_order(description="new")
    candidates = dispatch.volunteer_candidates(order)
    # The rule shown on the page: minutes first; at equal minutes fewer open orders.
    assert [c.volunteer.pk for c in candidates] == [close.pk, as_close_but_busy.pk, far.pk]
    assert [c.minutes for c in candidates] == [4, 4, 12]  # the column agrees with the order
    assert [c.load for c in candidates] == [0, 1, 0]
    assert 0.9 < candidates[0].distance_km < 1.1


def test_exclusions(make_order, station, item, center_manager):
    ok = near(station, item, 1)
    near(station, item, 1, on_duty=False)  # off duty, no weekly hours
    wrong = VolunteerFactory(
        station=station, on_duty=True, latitude=Decimal("30.751"), longitude=Decimal("120.76")
    )
    far_station = StationFactory()
    VolunteerFactory(
        station=far_station, on_duty=True, latitude=Decimal("31.5"), longitude=Decimal("121.5")
    ).service_items.add(item)
    sanctioned = near(station, item, 0.5)
    complaint = volunteer_services.complaint_record(
        actor=None, provider=sanctioned, description="迟到"
    )
    volunteer_services.complaint_rule(
        actor=center_manager, complaint=complaint, valid=True, reason="属实"
    )
    assert ranked(make_order()) == [ok.pk]
    assert wrong.pk not in ranked(make_order(description="again"))


def test_specialty_qualifies_too(make_order, station, item):
    v = VolunteerFactory(
        station=station, on_duty=True, latitude=Decimal("30.751"), longitude=Decimal("120.76")
    )
    v.specialties.add(item.specialty)
    assert ranked(make_order()) == [v.pk]


def test_off_duty_volunteer_available_by_weekly_hours(make_order, station, item):
    from django.utils import timezone

    from volunteers.availability import DAYS

    now = timezone.localtime()
    v = near(station, item, 1, on_duty=False)
    v.weekly_availability = {DAYS[now.weekday()]: [["00:00", "23:59"]]}
    v.save()
    assert ranked(make_order()) == [v.pk]


def test_suspended_provider_cannot_be_assigned(make_order, station, item, operator, center_manager):
    v = near(station, item, 1)
    complaint = volunteer_services.complaint_record(actor=None, provider=v, description="x")
    volunteer_services.complaint_rule(
        actor=center_manager, complaint=complaint, valid=True, reason="属实"
    )
    order = make_order()
    with pytest.raises(ValidationError):
        services.order_assign(actor=operator, order=order, provider=v)
    order.refresh_from_db()
    assert order.status == ServiceRequest.Status.RECEIVED


def test_offer_goes_to_the_top_n_and_the_first_accept_wins(
    make_order, station, item, operator, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "OFFER_SIZE": 2}
    a, b, c = near(station, item, 1), near(station, item, 2), near(station, item, 3)
    order = make_order()
    services.order_offer(actor=operator, order=order)
    assert set(order.offers.values_list("provider__volunteer_id", flat=True)) == {a.pk, b.pk}
    with pytest.raises(ValidationError):
        services.order_take(actor=None, order=order, provider=c)  # not offered to c
    services.order_take(actor=None, order=order, provider=b)
    with pytest.raises(ValidationError, match="抢先"):
        services.order_take(actor=None, order=order, provider=a)
    statuses = dict(order.offers.values_list("provider__volunteer_id", "status"))
    assert statuses == {a.pk: OrderOffer.Status.LOST, b.pk: OrderOffer.Status.ACCEPTED}


def test_timeout_widens_to_the_next_ring_and_alerts_the_station(
    make_order, station, item, operator, station_manager, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "OFFER_SIZE": 1}
    a, b = near(station, item, 1), near(station, item, 2)
    order = make_order(urgency="urgent")
    services.order_offer(actor=operator, order=order)
    assert widen_offer.delay(order.pk, 1).get() is True
    order.refresh_from_db()
    assert order.offer_ring == 2
    assert dict(order.offers.values_list("provider__volunteer_id", "ring")) == {a.pk: 1, b.pk: 2}
    assert Notification.objects.filter(recipient=station_manager, kind="requests.alert").exists()
    # The same ring's task arriving twice does nothing.
    assert widen_offer.delay(order.pk, 1).get() is False
    services.order_take(actor=None, order=order, provider=a)  # ring-1 offers stay open
    assert widen_offer.delay(order.pk, 2).get() is False


def test_offer_publishes_the_widening_task_by_name_after_commit(
    make_order, operator, django_capture_on_commit_callbacks, near_volunteer, monkeypatch
):
    """With a broker (not eager), order_offer queues ``requests.tasks.widen_offer``
    by its name, only once the transaction commits, with the ring's timeout as
    the countdown. The broker itself is the one thing replaced: what would be
    sent is recorded."""
    from center.celery import app

    sent = []
    task = app.tasks["requests.tasks.widen_offer"]  # what the name resolves to
    monkeypatch.setattr(
        task, "apply_async", lambda args, countdown=None, retry=None: sent.append((args, countdown))
    )
    order = make_order(urgency="urgent")
    app.conf.task_always_eager = False  # a broker: tasks are sent, not run inline
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.order_offer(actor=operator, order=order)
    finally:
        app.conf.task_always_eager = True
    assert sent == []  # nothing leaves inside the transaction
    for callback in callbacks:
        callback()
    assert sent == [((order.pk, 1), 180)]  # OFFER_TIMEOUT_SECONDS["urgent"]
    assert task is widen_offer._get_current_object()


def test_eager_offer_publishes_nothing_the_sweep_widens_instead(
    make_order, operator, django_capture_on_commit_callbacks, near_volunteer, monkeypatch
):
    from center.celery import app

    sent = []
    task = app.tasks["requests.tasks.widen_offer"]
    monkeypatch.setattr(task, "apply_async", lambda *a, **kw: sent.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        services.order_offer(actor=operator, order=make_order())
    assert sent == []


def test_sweep_widens_stale_offers(make_order, station, item, operator, settings):
    import datetime

    from django.utils import timezone

    settings.LIANXIN = {**settings.LIANXIN, "OFFER_SIZE": 1}
    near(station, item, 1), near(station, item, 2)
    order = make_order(urgency="emergency")
    services.order_offer(actor=operator, order=order)
    assert widen_stale_offers.delay().get() == 0
    ServiceRequest.objects.filter(pk=order.pk).update(
        ring_started_at=timezone.now() - datetime.timedelta(seconds=61)
    )
    assert widen_stale_offers.delay().get() == 1
    order.refresh_from_db()
    assert order.offer_ring == 2


def test_offers_stop_after_the_last_ring(make_order, operator, settings, near_volunteer):
    settings.LIANXIN = {**settings.LIANXIN, "OFFER_MAX_RINGS": 1}
    order = make_order()
    services.order_offer(actor=operator, order=order)
    assert services.order_widen(order_id=order.pk, ring=1) is False
    order.refresh_from_db()
    assert (
        order.ring_started_at is None
        and order.events.filter(action="requests.order.offer_exhausted").exists()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_have_exactly_one_winner(station, item, operator, settings, community):
    from tests.factories import ResidentFactory

    settings.LIANXIN = {**settings.LIANXIN, "OFFER_SIZE": 6}
    volunteers = [near(station, item, 0.5 + i / 10) for i in range(6)]
    order = services.order_create(
        actor=operator, resident=ResidentFactory(community=community), item=item, channel="hotline"
    )
    services.order_offer(actor=operator, order=order)
    barrier = threading.Barrier(len(volunteers))
    outcomes = []

    def take(v):
        barrier.wait()
        try:
            services.order_take(actor=None, order=order, provider=v)
            outcomes.append(v.pk)
        except ValidationError:
            outcomes.append(None)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(v,)) for v in volunteers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [pk for pk in outcomes if pk]
    assert len(winners) == 1 and len(outcomes) == 6
    order.refresh_from_db()
    assert order.provider.volunteer_id == winners[0] and order.status == ServiceRequest.Status.TAKEN
    assert order.offers.filter(status=OrderOffer.Status.ACCEPTED).count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_widening_task_runs_on_a_real_worker_after_its_countdown(
    settings, station, item, operator, community
):
    """With Redis, order_offer queues widen_offer on commit with a countdown;
    a real worker runs it when the ring's time is up."""
    import time

    from celery.contrib.testing.worker import start_worker

    from center.celery import app
    from tests.factories import ResidentFactory

    settings.LIANXIN = {
        **settings.LIANXIN,
        "OFFER_SIZE": 1,
        "OFFER_TIMEOUT_SECONDS": {"emergency": 1, "urgent": 1, "normal": 1},
    }
    near(station, item, 1), near(station, item, 2)
    order = services.order_create(
        actor=operator, resident=ResidentFactory(community=community), item=item, channel="hotline"
    )
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        services.order_offer(actor=operator, order=order)  # commits: autocommit outside atomic
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            order.refresh_from_db()
            if order.offer_ring >= 2:
                break
            time.sleep(0.2)
    assert order.offer_ring >= 2
    assert order.offers.filter(ring=2).count() == 1


def test_a_later_preferred_time_uses_weekly_hours_not_duty(make_order, station, item):
    import datetime

    from django.utils import timezone

    from volunteers.availability import parse

    saturday = timezone.localtime() + datetime.timedelta(days=7)
    saturday = saturday.replace(hour=10, minute=0, second=0, microsecond=0)
    day = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][saturday.weekday()]
    on_duty_now = near(station, item, 1)
    weekend = near(station, item, 2, on_duty=False)
    weekend.weekly_availability = parse(f"{day} 09:00-12:00")
    weekend.save()
    assert ranked(make_order(preferred_time=saturday)) == [weekend.pk]
    assert ranked(make_order(description="now")) == [on_duty_now.pk]


def test_far_station_is_not_in_area(make_order):
    from requests.dispatch import area_station_ids

    far = StationFactory()
    order = make_order()
    assert far.pk not in area_station_ids(order.station)
