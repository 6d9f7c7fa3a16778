"""Reminders of care (issue 13), each called by a daily task
(``requests.tasks``, scheduled in ``center.celery``) with the time it runs at:

- ``care_visit_remind`` (08:30): the paired member of each active pairing
  whose next visit is due today (``requests.reminder.care_due``), and again
  ``OVERDUE_AFTER_DAYS`` days after if the visit is still not recorded
  (``requests.reminder.care_overdue``). Each looks one day back too, so a
  run missed one day is caught up the next; the key carries the pairing and
  the due date, so each due date is told once (a visit recorded moves the
  due date, and the next one is told in its turn).
- ``care_silent_digest`` (09:05): the managers of each station whose
  communities hold special-group residents with no visit, call or order
  for ``CARE_SILENT_DAYS``: one digest per station and day, a count only
  (the care overview lists them). Key
  ``requests.reminder.care_silent.<station>.<date>.<manager>``.

Who: a member with a login by their channels, one without by SMS on their
mobile (``phone=``); a resident is named masked (张**) with their community,
as the SMS may be read by anyone holding the phone.

Queries: what was told is looked up per batch (``told_keys``, two
queries), the rows are read in batches; then ``notify``'s few per person
told (about 10): constant per person, whatever the tables hold.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from center.masking import mask_name
from center.models import Station, User
from center.notifications import notify
from center.reminders import BATCH, batches, told_keys  # noqa: F401 (reminders_wishes)
from volunteers.models import ProviderStatus
from volunteers.services import volunteer_notify

from ..models import Pairing
from ..selectors.care import silent_since

OVERDUE_AFTER_DAYS = 3
CATCH_UP_DAYS = 1  # a reminder also looks this many days back (a missed run)


def station_managers(station_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active managers of each station (those it names, not the
    managers of its parents): one query."""
    through = User.stations.through
    managers: dict[int, list[User]] = {}
    rows = (
        through.objects.filter(station_id__in=list(station_ids), user__is_active=True)
        .select_related("user")
        .order_by("station_id", "user_id")
    )
    for row in rows:
        managers.setdefault(row.station_id, []).append(row.user)
    return managers


# --- Visits due and overdue ------------------------------------------------------------


def _serving(today: datetime.date) -> Q:
    """The member may serve (volunteers.selectors.eligible_q, through the pairing)."""
    return Q(volunteer__status=ProviderStatus.ACTIVE) | Q(
        volunteer__status=ProviderStatus.SUSPENDED, volunteer__suspended_until__lte=today
    )


def _pairings_due(first: datetime.date, last: datetime.date):
    """Active pairings due between ``first`` and ``last`` (partial index ``pairing_due``)."""
    return (
        Pairing.objects.filter(ended_on__isnull=True, next_visit_due__range=(first, last))
        .select_related("volunteer__user", "resident__community")
        .order_by("next_visit_due", "pk")
    )


def _remind_pairings(pairings, *, occasion: str, message: str, today: datetime.date) -> int:
    told = 0
    for batch in batches(pairings.iterator(chunk_size=BATCH)):
        keys = {
            p.pk: f"requests.reminder.{occasion}.{p.pk}.{p.next_visit_due:%Y%m%d}" for p in batch
        }
        done = told_keys((keys[p.pk], bool(p.volunteer.user_id)) for p in batch)
        with transaction.atomic():
            for p in batch:
                if keys[p.pk] in done:
                    continue
                community = p.resident.community
                volunteer_notify(
                    p.volunteer,
                    key=keys[p.pk],
                    kind="requests.care",
                    message=message,
                    params={
                        "resident": mask_name(p.resident.name),
                        "community": community.name if community else "",
                        "due": p.next_visit_due.isoformat(),
                        "days": (today - p.next_visit_due).days,
                    },
                )
                told += 1
    return told


def care_visit_remind(*, now: datetime.datetime | None = None) -> int:
    """Tell paired members of their visits due today and of those
    ``OVERDUE_AFTER_DAYS`` overdue (see the module's docstring). Returns how
    many were told."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    catch_up = datetime.timedelta(days=CATCH_UP_DAYS)
    overdue = today - datetime.timedelta(days=OVERDUE_AFTER_DAYS)
    due = _pairings_due(today - catch_up, today).filter(_serving(today))
    late = _pairings_due(overdue - catch_up, overdue).filter(_serving(today))
    return _remind_pairings(
        due, occasion="care_due", message="requests.care.visit_due", today=today
    ) + _remind_pairings(
        late, occasion="care_overdue", message="requests.care.visit_overdue", today=today
    )


# --- Silent residents: a digest per station ------------------------------------------------


def silent_counts(*, now: datetime.datetime | None = None) -> dict[int, tuple[str, int]]:
    """station id → (its name, how many special-group residents of the
    communities it serves have had no contact for ``CARE_SILENT_DAYS``):
    one query (the partial index ``resident_special_contact``)."""
    since = silent_since(now)
    rows = (
        Station.communities.through.objects.filter(station__is_active=True)
        # One filter() call: the three conditions hold for the same resident.
        .filter(
            Q(area__residents__is_special=True)
            & (
                Q(area__residents__last_contact_at__isnull=True)
                | Q(area__residents__last_contact_at__lt=since)
            )
        )
        .values("station_id", "station__name")
        .annotate(n=Count("area__residents"))
        .order_by("station_id")
    )
    return {row["station_id"]: (row["station__name"], row["n"]) for row in rows}


def care_silent_digest(*, now: datetime.datetime | None = None) -> int:
    """One message a day to each manager of each station with silent
    residents: how many (``requests.care.silent``). Returns how many were told."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = silent_counts(now=now)
    managers = station_managers(counts)
    days = settings.LIANXIN["CARE_SILENT_DAYS"]
    items = [
        (f"requests.reminder.care_silent.{sid}.{today:%Y%m%d}.{m.pk}", sid, m)
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
                    kind="requests.care",
                    message="requests.care.silent",
                    params={"station": name, "n": n, "days": days},
                )
                told += 1
    return told
