"""Service days: the monthly one on the last Saturday, generated ahead and
idempotent; moved for a holiday or added by a manager."""

import calendar
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import audit
from center.models import User
from center.notifications import notify
from volunteers.models import Volunteer

from ..models import ServiceDay, Shift

SATURDAY = 5  # datetime.date.weekday()


def last_saturday(year: int, month: int) -> datetime.date:
    """The last Saturday of a month: the rule of the monthly service day
    (党员志愿服务日), stated once."""
    last = datetime.date(year, month, calendar.monthrange(year, month)[1])
    return last - datetime.timedelta(days=(last.weekday() - SATURDAY) % 7)


def _months(first: datetime.date, count: int):
    year, month = first.year, first.month
    for _i in range(count):
        yield datetime.date(year, month, 1)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@transaction.atomic
def service_days_generate(
    *, first_month: datetime.date | None = None, months: int = 3, actor: User | None = None
) -> list[ServiceDay]:
    """Make sure each of ``months`` months from ``first_month`` (this month by
    default) has its monthly service day, on its last Saturday, with the
    default theme. Safe to run any number of times (the beat entry runs it
    daily): a month that has its day (even moved) keeps it. Returns the days
    created."""
    first_month = (first_month or timezone.localdate()).replace(day=1)
    created = []
    for month in _months(first_month, months):
        if ServiceDay.objects.filter(month=month, is_extra=False).exists():
            continue
        try:
            # A savepoint: another run may create the same month at the same
            # time (serviceday_one_per_month); theirs stands.
            with transaction.atomic():
                day = ServiceDay.objects.create(
                    date=last_saturday(month.year, month.month),
                    month=month,
                    theme=settings.LIANXIN["SERVICE_DAY_THEME"],
                )
        except IntegrityError:
            continue
        created.append(day)
    if created:
        audit(
            actor=actor,
            action="events.day.generated",
            data={"dates": [f"{d.date:%Y-%m-%d}" for d in created]},
        )
    return created


@transaction.atomic
def service_day_move(*, actor: User | None, day: ServiceDay, date: datetime.date) -> ServiceDay:
    """Move a service day (a public holiday) that is still to come: the
    monthly day stays that month's, so generation never puts it back; the
    volunteers signed up are told (by their channels). Inverse: move it again."""
    day = ServiceDay.objects.select_for_update().get(pk=day.pk)
    today = timezone.localdate()
    if day.date <= today:
        # Under way or over: attendance and hours are dated on it.
        raise ValidationError(
            {"date": _("A service day that has begun (or is over) cannot be moved.")}
        )
    if date < today:
        raise ValidationError({"date": _("A service day cannot be moved into the past.")})
    if date == day.date:
        raise ValidationError({"date": _("The service day is already on that date.")})
    if day.month and (date.year, date.month) != (day.month.year, day.month.month):
        raise ValidationError({"date": _("The month's service day stays in its month.")})
    if ServiceDay.objects.filter(date=date).exclude(pk=day.pk).exists():
        raise ValidationError({"date": _("There is already a service day on that date.")})
    before = day.date
    day.moved_from = day.moved_from or before
    day.date = date
    day.save(update_fields=["date", "moved_from"])
    # The shifts keep their times of day on the new date (no daylight saving
    # in Asia/Shanghai: whole days are exact).
    delta = datetime.timedelta(days=(date - before).days)
    Shift.objects.filter(stall__venue__day=day).update(
        starts_at=F("starts_at") + delta, ends_at=F("ends_at") + delta
    )
    told = _tell_moved(day, before)
    audit(
        actor=actor,
        action="events.day.moved",
        target=day,
        data={"from": f"{before:%Y-%m-%d}", "to": f"{date:%Y-%m-%d}", "told": told},
    )
    return day


def _tell_moved(day: ServiceDay, before: datetime.date) -> int:
    """Tell every volunteer signed up (or waiting) on the day that it moved:
    one message each (key per day, old and new date), read in their
    language. Returns how many were told."""
    from ..models import SignUp

    volunteer_ids = (
        SignUp.objects.filter(
            shift__stall__venue__day=day,
            status__in=(SignUp.Status.CONFIRMED, SignUp.Status.WAITING),
        )
        .values_list("volunteer_id", flat=True)
        .distinct()
    )
    told = 0
    for volunteer in (
        Volunteer.objects.filter(pk__in=volunteer_ids)
        .select_related("user")
        .order_by("pk")
        .iterator(chunk_size=500)
    ):
        notify(
            recipient=volunteer.user,
            phone=volunteer.mobile,
            key=f"events.day.moved.{day.pk}.{day.date:%Y%m%d}.v{volunteer.pk}",
            kind="events.day",
            message="events.day.moved",
            params={"from": before.isoformat(), "to": day.date.isoformat()},
        )
        told += 1
    return told


@transaction.atomic
def service_day_add(*, actor: User | None, date: datetime.date, theme: str = "") -> ServiceDay:
    """An extra service day beside the monthly ones."""
    if date < timezone.localdate():
        raise ValidationError({"date": _("A service day cannot be added in the past.")})
    if ServiceDay.objects.filter(date=date).exists():
        raise ValidationError({"date": _("There is already a service day on that date.")})
    day = ServiceDay.objects.create(
        date=date,
        theme=theme.strip() or settings.LIANXIN["SERVICE_DAY_THEME"],
        is_extra=True,
    )
    audit(actor=actor, action="events.day.added", target=day)
    return day
