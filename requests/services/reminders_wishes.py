"""Reminders of the micro-wishes (issue 13), each called by a periodic task
(``requests.tasks``, scheduled in ``center.celery``) with the time it runs at:

- ``wish_contact_remind`` (hourly): the adopters of an adopted wish whose
  contact deadline (``contact_due_at``, ``WISH_CONTACT_DAYS`` after the
  last share was taken) is less than a day away
  (``requests.reminder.wish_contact_soon.<adoption>``), and once it has
  passed with the family still not contacted
  (``requests.reminder.wish_contact_passed.<adoption>``): nothing releases
  the adoption by itself, the station does (``wishes.wish_release``), so
  the adopter hears it is now late. Looking back ``PASSED_LOOK_BACK``
  catches up missed runs without telling of long-stale wishes.
- ``wish_deadline_remind`` (09:10): the adopters of adopted or contacted
  wishes (not yet fulfilled) whose deadline is ``DEADLINE_DAYS_BEFORE``
  days away (or one day less: a missed run);
  key ``requests.reminder.wish_deadline.<adoption>.<deadline>``.
- ``wish_rollover_digest`` (09:10): the managers of each station with
  published wishes whose deadline is today — the rollover task
  (``wishes.wishes_roll_over``, 00:30) starts their next round tonight: one
  digest per station and day, a count
  (``requests.reminder.wish_rollover.<station>.<date>.<manager>``).

An adopter is the volunteer (their login's channels, or an SMS to their
mobile without one), or, for an organization, the staff member who recorded
its adoption. A wish's title is public (the wall), so the messages carry it.
Queries: as ``reminders_care`` (two per batch for who was told, then a
constant per person told).
"""

import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from center.notifications import notify
from volunteers.services import volunteer_notify

from ..models import MicroWish, WishAdoption
from .reminders_care import BATCH, batches, station_managers, told_keys

CONTACT_SOON = datetime.timedelta(days=1)
PASSED_LOOK_BACK = datetime.timedelta(days=3)
DEADLINE_DAYS_BEFORE = 3


def _adoptions(**lookup):
    return (
        WishAdoption.objects.filter(status=WishAdoption.Status.ACTIVE, **lookup)
        .select_related("wish", "volunteer__user", "acted_by")
        .order_by("pk")
    )


def _has_login(adoption: WishAdoption) -> bool:
    if adoption.volunteer_id:
        return bool(adoption.volunteer.user_id)
    return adoption.acted_by_id is not None


def _tell_adopters(adoptions, *, key, message: str, params) -> int:
    """Tell each adoption's adopter once (``key(adoption)``); an
    organization's adoption recorded by nobody (acted_by gone) tells no one."""
    told = 0
    for batch in batches(adoptions.iterator(chunk_size=BATCH)):
        keys = {a.pk: key(a) for a in batch}
        done = told_keys((keys[a.pk], _has_login(a)) for a in batch)
        with transaction.atomic():
            for a in batch:
                if keys[a.pk] in done:
                    continue
                if a.volunteer_id:
                    volunteer_notify(
                        a.volunteer,
                        key=keys[a.pk],
                        kind="requests.wish",
                        message=message,
                        params=params(a),
                    )
                elif a.acted_by is not None:
                    notify(
                        recipient=a.acted_by,
                        key=keys[a.pk],
                        kind="requests.wish",
                        message=message,
                        params=params(a),
                    )
                else:
                    continue
                told += 1
    return told


def _contact_params(adoption: WishAdoption) -> dict:
    due = timezone.localtime(adoption.wish.contact_due_at)
    return {"title": adoption.wish.title, "due": due.strftime("%Y-%m-%d %H:%M")}


def wish_contact_remind(*, now: datetime.datetime | None = None) -> int:
    """The adopters' contact deadline: near (less than a day left) and passed
    (see the module's docstring). Returns how many were told."""
    now = now or timezone.now()
    adopted = {"wish__status": MicroWish.Status.ADOPTED}  # partial index wish_contact_due
    soon = _adoptions(
        **adopted, wish__contact_due_at__gt=now, wish__contact_due_at__lte=now + CONTACT_SOON
    )
    passed = _adoptions(
        **adopted,
        wish__contact_due_at__gt=now - PASSED_LOOK_BACK,
        wish__contact_due_at__lte=now,
    )
    return _tell_adopters(
        soon,
        key=lambda a: f"requests.reminder.wish_contact_soon.{a.pk}",
        message="requests.wish.contact_soon",
        params=_contact_params,
    ) + _tell_adopters(
        passed,
        key=lambda a: f"requests.reminder.wish_contact_passed.{a.pk}",
        message="requests.wish.contact_passed",
        params=_contact_params,
    )


def wish_deadline_remind(*, now: datetime.datetime | None = None) -> int:
    """The adopters of wishes adopted or contacted (not yet fulfilled) whose
    deadline is ``DEADLINE_DAYS_BEFORE`` days away. Returns how many were told."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    last = today + datetime.timedelta(days=DEADLINE_DAYS_BEFORE)
    adoptions = _adoptions(
        wish__status__in=(MicroWish.Status.ADOPTED, MicroWish.Status.CONTACTED),
        wish__deadline__range=(last - datetime.timedelta(days=1), last),
    )
    return _tell_adopters(
        adoptions,
        key=lambda a: f"requests.reminder.wish_deadline.{a.pk}.{a.wish.deadline:%Y%m%d}",
        message="requests.wish.deadline_soon",
        params=lambda a: {"title": a.wish.title, "deadline": a.wish.deadline.isoformat()},
    )


def wish_rollover_digest(*, now: datetime.datetime | None = None) -> int:
    """One message to each manager of each station with published wishes
    whose deadline is today (they roll over tonight): how many
    (``requests.wish.rollover_soon``). Returns how many were told."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {
        row["station_id"]: (row["station__name"], row["n"])
        for row in MicroWish.objects.filter(status=MicroWish.Status.PUBLISHED, deadline=today)
        .values("station_id", "station__name")
        .annotate(n=Count("pk"))
        .order_by("station_id")
    }
    managers = station_managers(counts)
    items = [
        (f"requests.reminder.wish_rollover.{sid}.{today:%Y%m%d}.{m.pk}", sid, m)
        for sid in counts
        for m in managers.get(sid, [])
    ]
    told = 0
    for batch in batches(items):
        done = told_keys((key, True) for key, _sid, _m in batch)
        with transaction.atomic():
            for key, sid, manager in batch:
                if key in done:
                    continue
                name, n = counts[sid]
                notify(
                    recipient=manager,
                    key=key,
                    kind="requests.wish",
                    message="requests.wish.rollover_soon",
                    params={"station": name, "n": n},
                )
                told += 1
    return told
