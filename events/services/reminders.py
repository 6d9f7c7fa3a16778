"""Reminders of the service days (issue 13), each called by a periodic task
(``events.tasks``, scheduled in ``center.celery``) with the time it runs at:

- ``service_day_announce``: a week before a service day, every volunteer
  whose home station has a venue on it (and who may serve on the day) is
  told the date and theme and to find a stall near them. Daily at 09:00;
  days 6 or 7 days ahead, so a run missed one day is caught up the next.
  Key ``events.reminder.week.<day>.v<volunteer>``.
- ``service_day_eve_remind``: at 18:00 the evening before, each confirmed
  sign-up of tomorrow's shifts. Key ``events.reminder.eve.<signup>``.
- ``shift_soon_remind``: every 10 minutes, each confirmed sign-up of a shift
  starting in [now + 1h45, now + 2h15) (the window is wider than the
  cadence, so two missed runs lose nothing). Key
  ``events.reminder.soon.<signup>``: once per sign-up whatever the cadence.

Who: a volunteer with a login by their channels (inbox, and SMS/email as
they chose); one without a login by SMS on their mobile (``phone=``).

Idempotent: the key carries (reminder, recipient, occasion); what was told
is looked up once per batch (two queries), so running a reminder twice, or
every five minutes, tells nobody twice and costs little.

Scale (the week's announcement reaches up to ~157k volunteers city-wide):
volunteers are read with ``.iterator(chunk_size=BATCH)`` and handled
``BATCH`` at a time, each batch in one transaction (its outbox rows are
handed to the broker when it commits; a crash keeps what committed and the
next run tells the rest). Queries: 2 per batch to know who was told, plus
``notify``'s few per person told (Notification and one Delivery per
channel: about 10), constant per person. Writing 157k announcements takes
minutes; the SMS themselves leave at the sms queue's rate
(``SMS_RATE_LIMIT``, 20/s per worker process by default): 157k SMS take
about 2 h 10 min with one process, 33 min with four. Announcements go out
at 09:00, so none is held by the quiet hours.
"""

import datetime
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from center import reminders
from volunteers.models import Volunteer
from volunteers.selectors import eligible_q
from volunteers.services import volunteer_notify

from ..models import ServiceDay, Shift, SignUp, Venue
from .signups import SERVICE_TZ

BATCH = 1000
ANNOUNCE_DAYS_AHEAD = (6, 7)  # 7: a week before; 6: a run missed the day before
SOON_FROM = datetime.timedelta(hours=1, minutes=45)
SOON_TO = datetime.timedelta(hours=2, minutes=15)
# What notify() reads of a login: nothing else is loaded for 157k rows.
USER_FIELDS = ("user__id", "user__is_active", "user__mobile", "user__email")
USER_FIELDS += ("user__notify_sms", "user__notify_email", "user__language")

T = TypeVar("T")


def told_keys(items: list[tuple[str, Volunteer]]) -> set[str]:
    """The keys among ``items`` (key, volunteer) someone was already told by
    (``center.reminders.told_keys``)."""
    return reminders.told_keys((key, bool(volunteer.user_id)) for key, volunteer in items)


def _tell_in_batches(
    rows: Iterable[T],
    *,
    volunteer: Callable[[T], Volunteer],
    key: Callable[[T], str],
    message: str,
    params: Callable[[T], dict],
) -> int:
    """Tell each row's volunteer once (see the module's docstring): returns
    how many were told this time."""
    told = 0
    for batch in reminders.batches(rows):
        items = [(key(row), row) for row in batch]
        done = told_keys([(k, volunteer(row)) for k, row in items])
        with transaction.atomic():
            for k, row in items:
                if k in done:
                    continue
                volunteer_notify(
                    volunteer(row),
                    key=k,
                    kind="events.reminder",
                    message=message,
                    params=params(row),
                )
                told += 1
    return told


def _local(at: datetime.datetime) -> str:
    return timezone.localtime(at, SERVICE_TZ).strftime("%H:%M")


# --- A week before ----------------------------------------------------------------------


def announcement_recipients(day: ServiceDay) -> "Iterable[Volunteer]":
    """The volunteers told of ``day`` a week ahead: home station among the
    stations with a venue on it, and able to serve on the day (active, or a
    suspension over by then); with the login fields ``notify`` reads."""
    stations = Venue.objects.filter(day=day).values("station_id")
    return (
        Volunteer.objects.filter(station_id__in=stations)
        .filter(eligible_q(on=day.date))
        .select_related("user")
        .only("pk", "mobile", "user", *USER_FIELDS)
        .order_by("pk")
    )


def service_day_announce(*, now: datetime.datetime | None = None) -> int:
    """The announcement of each service day 6–7 days ahead to its stations'
    volunteers (``events.reminder.week``). Returns how many were told."""
    now = now or timezone.now()
    today = timezone.localdate(now, SERVICE_TZ)
    dates = [today + datetime.timedelta(days=n) for n in ANNOUNCE_DAYS_AHEAD]
    told = 0
    for day in ServiceDay.objects.filter(date__in=dates).order_by("date"):
        params = {"date": day.date.isoformat(), "theme": day.theme}
        told += _tell_in_batches(
            announcement_recipients(day).iterator(chunk_size=BATCH),
            volunteer=lambda v: v,
            key=lambda v, day=day: f"events.reminder.week.{day.pk}.v{v.pk}",
            message="events.reminder.week",
            params=lambda v, params=params: params,
        )
    return told


# --- The evening before, and two hours before ----------------------------------------------


def _signup_params(signup: SignUp) -> dict:
    shift = signup.shift
    venue = shift.stall.venue
    return {
        "date": venue.day.date.isoformat(),
        "service": shift.stall.service,
        "venue": venue.name,
        "address": venue.address,
        "start": _local(shift.starts_at),
        "end": _local(shift.ends_at),
    }


def _confirmed(**lookup):
    return (
        SignUp.objects.filter(status=SignUp.Status.CONFIRMED, **lookup)
        .select_related("volunteer__user", "shift__stall__venue__day")
        .order_by("pk")
    )


def service_day_eve_remind(*, now: datetime.datetime | None = None) -> int:
    """The evening before (the task runs at 18:00): every confirmed sign-up
    of tomorrow's shifts (``events.reminder.eve``). Returns how many were told."""
    now = now or timezone.now()
    tomorrow = timezone.localdate(now, SERVICE_TZ) + datetime.timedelta(days=1)
    return _tell_in_batches(
        _confirmed(shift__stall__venue__day__date=tomorrow).iterator(chunk_size=BATCH),
        volunteer=lambda s: s.volunteer,
        key=lambda s: f"events.reminder.eve.{s.pk}",
        message="events.reminder.eve",
        params=_signup_params,
    )


def shift_soon_remind(*, now: datetime.datetime | None = None) -> int:
    """Two hours before (the task runs every 10 minutes): every confirmed
    sign-up of a shift starting in [now + 1h45, now + 2h15)
    (``events.reminder.soon``), once per sign-up. Returns how many were told."""
    now = now or timezone.now()
    start, end = now + SOON_FROM, now + SOON_TO
    # Through the day's date (unique index) first: shifts have no index on
    # their start, and a day holds a few thousand at most. A shift lies on
    # its day's date (stalls.shift_create; a moved day moves its shifts).
    dates = {timezone.localdate(start, SERVICE_TZ), timezone.localdate(end, SERVICE_TZ)}
    shifts = Shift.objects.filter(
        stall__venue__day__date__in=dates, starts_at__gte=start, starts_at__lt=end
    ).values("pk")
    return _tell_in_batches(
        _confirmed(shift_id__in=shifts).iterator(chunk_size=BATCH),
        volunteer=lambda s: s.volunteer,
        key=lambda s: f"events.reminder.soon.{s.pk}",
        message="events.reminder.soon",
        params=_signup_params,
    )
