"""The monthly figures: a summary table rebuilt from the orders, read by the
reports instead of aggregating a month of orders on every view."""

import datetime

import pytest
from django.utils import timezone

from requests import selectors, services
from requests.models import OrderMonthStat, ServiceRequest
from tests.factories import ServiceItemFactory, StationFactory

pytestmark = pytest.mark.django_db


def _at(order, when, **fields):
    ServiceRequest.objects.filter(pk=order.pk).update(received_at=when, **fields)


def test_refresh_counts_the_months_orders_by_station_and_category(make_order, station, settings):
    settings.LIANXIN = {**settings.LIANXIN, "DISPATCH_TARGET_MINUTES": 10}
    tz = timezone.get_current_timezone()
    day = datetime.datetime(2026, 10, 15, 9, tzinfo=tz)
    fast, slow, unreported, cancelled = (make_order() for _ in range(4))
    other_item = make_order(item=ServiceItemFactory())
    before, after = make_order(), make_order()
    _at(fast, day, arrived_at=day, arrival_seconds=300, completed_at=day, status="archived")
    _at(slow, day, arrived_at=day, arrival_seconds=1500, completed_at=day, status="completed")
    _at(unreported, day, arrived_at=day, arrival_seconds=200, arrival_unreported=True)
    _at(cancelled, day, status="cancelled")
    _at(other_item, day)
    _at(before, datetime.datetime(2026, 9, 30, 23, 59, tzinfo=tz))
    _at(after, datetime.datetime(2026, 11, 1, 0, 0, tzinfo=tz))

    assert services.order_month_stats_refresh(month=datetime.date(2026, 10, 20)) == 2
    row = OrderMonthStat.objects.get(category=fast.item.category)
    assert (row.month, row.station) == (datetime.date(2026, 10, 1), station)
    assert (row.received, row.completed, row.cancelled) == (4, 2, 1)
    # The arrival recorded at completion is not a measured arrival.
    assert (row.arrivals, row.arrivals_in_target, row.arrival_seconds) == (2, 1, 1800)
    assert OrderMonthStat.objects.get(category=other_item.item.category).received == 1

    # Run again after a change: replaced, not added.
    _at(other_item, day, status="cancelled")
    services.order_month_stats_refresh(month=datetime.date(2026, 10, 1))
    assert OrderMonthStat.objects.count() == 2
    assert OrderMonthStat.objects.get(category=other_item.item.category).cancelled == 1


def test_month_stats_are_scoped_and_read_in_one_query(
    make_order, station, station_manager, operator, center_station, django_assert_num_queries
):
    elsewhere = StationFactory(parent=center_station)
    mine, theirs = make_order(), make_order()
    ServiceRequest.objects.filter(pk=theirs.pk).update(station=elsewhere)
    services.order_month_stats_refresh(month=timezone.localdate())
    with django_assert_num_queries(2):  # the manager's stations, the figures
        rows = list(selectors.month_stats(user=station_manager, month=timezone.localdate()))
    assert [(r["station_id"], r["station__name"], r["received"]) for r in rows] == [
        (station.pk, station.name, 1)
    ]
    everyone = selectors.month_stats(user=operator, month=timezone.localdate())
    assert {r["station_id"] for r in everyone} == {station.pk, elsewhere.pk}
    assert mine.station == station


def test_the_periodic_job_refreshes_this_month_and_the_last(make_order):
    from center.celery import BEAT_SCHEDULE
    from requests.tasks import refresh_month_stats

    make_order()
    assert refresh_month_stats() == 1  # this month's one group; last month has none
    assert refresh_month_stats() == 1  # safe to run twice
    assert BEAT_SCHEDULE["requests-refresh-month-stats"]["task"] == refresh_month_stats.name


def test_the_backfill_command_fills_every_month_since_the_first_order(make_order):
    from io import StringIO

    from django.core.management import call_command

    tz = timezone.get_current_timezone()
    this_month = timezone.localdate().replace(day=1)
    first = (this_month - datetime.timedelta(days=70)).replace(day=1)  # three months back
    _at(make_order(), datetime.datetime.combine(first, datetime.time(10), tzinfo=tz))
    out = StringIO()
    call_command("month_stats", stdout=out)
    assert list(OrderMonthStat.objects.values_list("month", "received")) == [(first, 1)]
    assert out.getvalue().startswith("3 months rebuilt") or out.getvalue().startswith(
        "4 months rebuilt"  # 70 days back from the 1st is two or three months
    )
    call_command("month_stats", "--since", first.strftime("%Y-%m"), stdout=StringIO())
    assert OrderMonthStat.objects.count() == 1  # run again: replaced, not added
