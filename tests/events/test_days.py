"""The monthly service day: the last-Saturday rule, generation that can run
any number of times, moving a day and adding one."""

import calendar
import datetime
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from center.models import AuditEntry
from events.models import ServiceDay
from events.services import days
from events.tasks import generate_service_days


def _brute_last_saturday(year, month):
    last = calendar.monthrange(year, month)[1]
    return max(
        datetime.date(year, month, d)
        for d in range(1, last + 1)
        if datetime.date(year, month, d).weekday() == 5
    )


def test_last_saturday_over_2020_to_2035():
    ends_on_saturday = 0
    for year in range(2020, 2036):
        for month in range(1, 13):
            day = days.last_saturday(year, month)
            assert day == _brute_last_saturday(year, month), (year, month)
            assert day.weekday() == 5 and day.month == month
            if day.day == calendar.monthrange(year, month)[1]:
                ends_on_saturday += 1
    # Months whose last day is itself a Saturday are in the range (e.g. 2026-10-31).
    assert ends_on_saturday > 10
    assert days.last_saturday(2026, 10) == datetime.date(2026, 10, 31)
    assert days.last_saturday(2026, 11) == datetime.date(2026, 11, 28)
    assert days.last_saturday(2024, 2) == datetime.date(2024, 2, 24)


@pytest.mark.django_db
def test_generation_makes_each_month_once_whatever_runs_it(settings):
    first = datetime.date(2027, 1, 1)
    created = days.service_days_generate(first_month=first, months=12)
    assert [d.date for d in created] == [days.last_saturday(2027, m) for m in range(1, 13)]
    assert {d.theme for d in created} == {settings.LIANXIN["SERVICE_DAY_THEME"]}
    assert days.service_days_generate(first_month=first, months=12) == []
    assert ServiceDay.objects.count() == 12
    assert AuditEntry.objects.filter(action="events.day.generated").count() == 1


@pytest.mark.django_db
def test_a_moved_day_is_not_generated_again():
    first = (timezone.localdate() + datetime.timedelta(days=40)).replace(day=1)
    (day,) = days.service_days_generate(first_month=first, months=1)
    moved = days.service_day_move(actor=None, day=day, date=day.date - datetime.timedelta(days=7))
    assert moved.moved_from == days.last_saturday(first.year, first.month)
    assert days.service_days_generate(first_month=first, months=1) == []
    assert list(ServiceDay.objects.values_list("date", flat=True)) == [moved.date]


@pytest.mark.django_db
def test_moving_stays_in_its_month_and_off_taken_dates():
    first = (timezone.localdate() + datetime.timedelta(days=40)).replace(day=1)
    (day,) = days.service_days_generate(first_month=first, months=1)
    with pytest.raises(ValidationError):
        days.service_day_move(actor=None, day=day, date=day.date + datetime.timedelta(days=14))
    with pytest.raises(ValidationError):
        days.service_day_move(
            actor=None, day=day, date=timezone.localdate() - datetime.timedelta(days=1)
        )
    extra = days.service_day_add(actor=None, date=day.date - datetime.timedelta(days=2))
    with pytest.raises(ValidationError):
        days.service_day_move(actor=None, day=day, date=extra.date)
    day.refresh_from_db()
    assert day.date == days.last_saturday(first.year, first.month) and day.moved_from is None


@pytest.mark.django_db
def test_moving_carries_the_shifts_and_tells_those_signed_up(django_capture_on_commit_callbacks):
    from center.models import Notification, Role
    from events.models import SignUp
    from tests.factories import ShiftFactory, UserFactory, VolunteerFactory

    first = (timezone.localdate() + datetime.timedelta(days=40)).replace(day=1)
    (day,) = days.service_days_generate(first_month=first, months=1)
    shift = ShiftFactory(stall__venue__day=day)  # 09:00–11:00 on the day
    volunteer = VolunteerFactory(user=UserFactory(role=Role.VOLUNTEER))
    SignUp.objects.create(shift=shift, volunteer=volunteer, status="confirmed")
    SignUp.objects.create(shift=shift, volunteer=VolunteerFactory(), status="cancelled")
    new_date = day.date - datetime.timedelta(days=7)
    days.service_day_move(actor=None, day=day, date=new_date)
    shift.refresh_from_db()
    local = timezone.localtime(shift.starts_at)
    assert (local.date(), local.hour, local.minute) == (new_date, 9, 0)
    assert timezone.localtime(shift.ends_at).hour == 11
    (note,) = Notification.objects.filter(message="events.day.moved")
    assert note.recipient == volunteer.user
    assert note.params == {"from": day.date.isoformat(), "to": new_date.isoformat()}


@pytest.mark.django_db
def test_a_day_under_way_or_over_cannot_be_moved():
    today = timezone.localdate()
    for date in (today, today - datetime.timedelta(days=3)):
        day = ServiceDay.objects.create(date=date, theme="x", is_extra=True)
        with pytest.raises(ValidationError):
            days.service_day_move(actor=None, day=day, date=today + datetime.timedelta(days=1))
        day.refresh_from_db()
        assert day.date == date


@pytest.mark.django_db
def test_an_extra_day_stands_beside_the_monthly_one():
    first = (timezone.localdate() + datetime.timedelta(days=40)).replace(day=1)
    extra = days.service_day_add(
        actor=None, date=first + datetime.timedelta(days=3), theme=" 重阳节 "
    )
    assert (extra.is_extra, extra.month, extra.theme) == (True, None, "重阳节")
    assert len(days.service_days_generate(first_month=first, months=1)) == 1
    with pytest.raises(ValidationError):
        days.service_day_add(actor=None, date=extra.date)


@pytest.mark.django_db
def test_the_daily_task_keeps_three_months_ahead():
    assert generate_service_days() == 3
    assert generate_service_days() == 0
    today = timezone.localdate()
    assert ServiceDay.objects.filter(month=today.replace(day=1)).exists()


@pytest.mark.django_db
def test_the_command_generates_a_range_and_refuses_bad_months():
    out = StringIO()
    call_command("service_days", "--from", "2028-11", "--to", "2029-02", stdout=out)
    assert "4 service day(s) created" in out.getvalue()
    assert "2028-11-25" in out.getvalue()  # the last Saturday of November 2028
    call_command("service_days", "--from", "2028-11", "--to", "2029-02", stdout=(out := StringIO()))
    assert "0 service day(s) created, 4 kept" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("service_days", "--from", "2028-13", "--to", "2029-02")
    with pytest.raises(CommandError):
        call_command("service_days", "--from", "2029-02", "--to", "2028-11")
