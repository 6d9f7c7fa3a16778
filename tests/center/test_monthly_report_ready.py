"""The monthly hook (issue 13, part C): at 08:00 on the 1st every center
manager is told last month's report is ready, once per month."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.utils import translation

from center import services, tasks
from center.celery import BEAT_SCHEDULE
from center.models import Notification, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
FIRST = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=TZ)


def test_it_is_scheduled_at_eight_on_the_first():
    entry = BEAT_SCHEDULE["center-monthly-report-ready"]
    assert entry["task"] == "center.tasks.monthly_report_ready"
    assert entry["schedule"] == crontab(hour=8, minute=0, day_of_month=1)


def test_every_center_manager_is_told_once_a_month(center_manager, station_manager):
    second = UserFactory(role=Role.CENTER_MANAGER)
    UserFactory(role=Role.CENTER_MANAGER, is_active=False)
    with time_machine.travel(FIRST, tick=False):
        assert tasks.monthly_report_ready() == 2
        assert tasks.monthly_report_ready() == 0  # run twice: nobody told twice
    told = Notification.objects.filter(message="center.report.monthly")
    assert {n.recipient for n in told} == {center_manager, second}
    assert {n.params["month"] for n in told} == {"2026-11"}
    # Later in the month (a late or repeated run): still once.
    later = FIRST + datetime.timedelta(days=3)
    assert services.monthly_report_ready(now=later) == 0
    # Next month: told again, about that month.
    assert services.monthly_report_ready(now=datetime.datetime(2027, 1, 1, 8, tzinfo=TZ)) == 2
    assert set(told.values_list("params__month", flat=True)) == {"2026-11", "2026-12"}


def test_january_reports_on_december_of_the_year_before(center_manager):
    services.monthly_report_ready(now=datetime.datetime(2027, 1, 1, 8, tzinfo=TZ))
    assert Notification.objects.get().params == {"month": "2026-12"}


def test_the_local_date_counts_not_utc(center_manager):
    # 00:30 on 1 December in Shanghai is still 30 November in UTC.
    services.monthly_report_ready(now=datetime.datetime(2026, 12, 1, 0, 30, tzinfo=TZ))
    assert Notification.objects.get().params == {"month": "2026-11"}


def test_the_message_reads_in_both_languages(center_manager):
    services.monthly_report_ready(now=FIRST)
    n = Notification.objects.get()
    with translation.override("en"):
        assert n.display_title == "The report for 2026-11 is ready"
    with translation.override("zh-hans"):
        assert "2026-11" in n.display_title


def test_the_cost_does_not_grow_with_what_was_told(center_manager, django_assert_num_queries):
    services.monthly_report_ready(now=FIRST)
    # the center managers, who was told already; nobody left to tell.
    with django_assert_num_queries(2):
        assert services.monthly_report_ready(now=FIRST) == 0
