"""The dashboards' snapshots (``reports.models.DashboardSnapshot``): figures of
a scope too large to aggregate per page view, computed by a task every minute
(``reports.tasks.refresh_dashboard_snapshot``, beat in ``center/celery.py``)
and read by the page as one row.

- ``city``: the operator's figures for the whole city
  (``selectors_dashboard.ops_figures`` in the city scope), what operators and
  center managers see. Refreshed every minute.
- ``center``: the center manager's figures by branch
  (``selectors_dashboard.center_figures``). Refreshed every five minutes
  (its counts come from ``OrderMonthStat``, itself refreshed every ten).

- ``scope:<hash of the station ids>``: a station manager's figures but
  today by hour and open orders (``selectors_dashboard.scope_figures``: the
  week's medians, follow-ups, care, wishes, the service day; their scope's
  residents alone cost ~0.9 s to decide at city scale), refreshed in the
  background, by the page's request, when older than a minute.

A page that finds no row computes it once and stores it (the first view after
a deploy, or a development machine without a beat). Refreshing is an upsert
by key: safe to run twice, or twice at once (the last write wins, both are
the same figures).
"""

import datetime
import hashlib
import time

from django.core.cache import cache
from django.utils import timezone

from center.broker import publish
from center.roles import station_ids_for

from .models import DashboardSnapshot
from .selectors_dashboard import CITY, center_figures, ops_figures, scope_figures

COMPUTE = {
    "city": lambda: ops_figures(user=CITY),
    "center": lambda: center_figures(),
}
# After this many seconds without a refresh the page says the figures are
# late (the beat or the worker is down); it still shows them.
STALE_AFTER = {"city": 5 * 60, "center": 20 * 60}
# A scope's snapshot older than this is refreshed in the background.
SCOPE_FRESH = 60
# Older than this (a manager back after a while), it is computed before the
# page is shown rather than shown that old; unread for a week, it is deleted.
SCOPE_INLINE_AFTER = 60 * 60
SCOPE_KEEP = datetime.timedelta(days=7)


def refresh(key: str) -> DashboardSnapshot:
    """Compute ``key``'s figures now and store them (upsert)."""
    started = time.perf_counter()
    data = COMPUTE[key]()
    duration = round((time.perf_counter() - started) * 1000)
    snapshot, _created = DashboardSnapshot.objects.update_or_create(
        key=key,
        defaults={"data": data, "computed_at": timezone.now(), "duration_ms": duration},
    )
    return snapshot


def read(key: str) -> DashboardSnapshot:
    """The stored figures of ``key``: one query; computed and stored first
    when missing."""
    snapshot = DashboardSnapshot.objects.filter(key=key).first()
    return snapshot if snapshot is not None else refresh(key)


def scope_key(station_ids) -> str:
    """The snapshot key of a set of stations: a manager's scope, shared by
    every manager of the same stations."""
    ids = ",".join(str(pk) for pk in sorted(station_ids))
    return "scope:" + hashlib.sha256(ids.encode()).hexdigest()[:40]


def refresh_scope(user) -> DashboardSnapshot:
    """Compute the scope figures of ``user`` (a station manager) now and
    store them under their scope's key."""
    started = time.perf_counter()
    data = scope_figures(user=user, today=timezone.localdate())
    duration = round((time.perf_counter() - started) * 1000)
    snapshot, _created = DashboardSnapshot.objects.update_or_create(
        key=scope_key(station_ids_for(user)),
        defaults={"data": data, "computed_at": timezone.now(), "duration_ms": duration},
    )
    return snapshot


def read_scope(user) -> DashboardSnapshot:
    """The scope figures of ``user``: one query; computed inline when missing
    (the manager's first view), else, when older than ``SCOPE_FRESH``, the
    stored ones while a task refreshes them (one task a minute per scope: a
    cache key guards it; a broker outage only leaves them older)."""
    key = scope_key(station_ids_for(user))
    snapshot = DashboardSnapshot.objects.filter(key=key).first()
    age = (timezone.now() - snapshot.computed_at).total_seconds() if snapshot else None
    if snapshot is None or age > SCOPE_INLINE_AFTER:
        return refresh_scope(user)
    if age > SCOPE_FRESH and cache.add(f"reports:refresh:{key}", 1, SCOPE_FRESH):
        publish("reports.tasks.refresh_dashboard_snapshot", args=(key, user.pk))
    return snapshot


def purge_scopes(now=None) -> int:
    """Delete the scope snapshots no one has read for ``SCOPE_KEEP`` (a page
    view refreshes its scope's, so these belong to managers who left or
    whose stations changed). Returns how many."""
    since = (now or timezone.now()) - SCOPE_KEEP
    old = DashboardSnapshot.objects.filter(key__startswith="scope:", computed_at__lt=since)
    return old.delete()[0]


def is_stale(snapshot: DashboardSnapshot) -> bool:
    age = (timezone.now() - snapshot.computed_at).total_seconds()
    return age > STALE_AFTER.get(snapshot.key, 5 * 60)
