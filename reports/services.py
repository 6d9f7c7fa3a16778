"""Writes of the reports app: report files asked for, written, purged, and
the monthly job (issue 14).

A ``ReportExport`` moves queued → running → done | failed, only here, each
step one conditional UPDATE so that two workers (a retry, a re-sent task, the
sweep) never write the same file twice:

- ``export_claim``: queued, or running with a claim older than
  ``STALE_AFTER`` (its worker died: the task's hard time limit has passed),
  → running. Only the worker whose UPDATE matched goes on.
- ``export_progress``: progress and stage, each in its own short
  transaction (autocommit), so that the page polling the row sees them.
- ``export_finish`` / ``export_fail``: only while the row is still this
  worker's claim (``started_at`` unchanged).

A done export is never written again; a failed one is written again only by
the monthly job (its own file) or by asking anew.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from center.audit import audit
from center.broker import publish, publish_on_commit
from center.celery import RETRYABLE
from center.models import Role, Station, User
from center.notifications import notify
from center.roles import ALL, has_role, station_ids_for

from .exports import export_filename, write_csv_zip, write_xlsx
from .models import ReportExport, report_path, report_storage
from .selectors_report import MAX_DAYS, expand_stations, previous_month, report_for_scope

logger = logging.getLogger(__name__)

Status = ReportExport.Status

# The export task's hard time limit (reports.tasks.write_report) and a
# margin: a running claim older than this belongs to a dead worker.
WRITE_TIME_LIMIT = 600
STALE_AFTER = datetime.timedelta(seconds=WRITE_TIME_LIMIT + 60)
# Files asked for by hand are deleted after this many days (the monthly
# job's are kept): settings LIANXIN["REPORT_RETENTION_DAYS"] when set.
DEFAULT_RETENTION_DAYS = 30
EXPORT_ROLES = (Role.STATION_MANAGER, Role.CENTER_MANAGER)
WRITE_TASK = "reports.tasks.write_report"
# Files one person may have queued or being written at once.
MAX_PENDING = 3


def retention_days() -> int:
    return int(settings.LIANXIN.get("REPORT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def scope_label(*, actor, ids: frozenset[int] | None, asked: list[int] | None) -> str:
    """What a file covers, in words, frozen with it: 全市, or the stations
    asked for (else the manager's own), three named and how many more."""
    if ids is None:
        return _("City-wide")
    if asked:
        named = Station.objects.filter(pk__in=asked)
    else:
        named = Station.objects.filter(managers=actor)
    names = list(named.order_by("code").values_list("name", flat=True)[:4])
    count = named.count() if len(names) > 3 else len(names)
    label = "、".join(names[:3])
    if count > 3:
        label = _("%(names)s and %(n)s more") % {"names": label, "n": count - 3}
    return label[:200]


def _site_language(fn, *args, **kwargs):
    """Words frozen into a file (its scope, its stages) are in the site's
    language, as the file is, whoever asked for it."""
    with translation.override(settings.LANGUAGE_CODE):
        return fn(*args, **kwargs)


@transaction.atomic
def export_request(
    *,
    actor: User,
    start: datetime.date,
    end: datetime.date,
    format: str,
    station_ids: list[int] | None = None,
) -> ReportExport:
    """Ask for a report file: the stations ``actor`` may see
    (``center.roles``), narrowed to ``station_ids`` and the stations under
    them when given; the scope is frozen on the row (null = the city). The
    file is written by ``reports.tasks.write_report`` once this commits."""
    if not has_role(actor, *EXPORT_ROLES):
        raise PermissionDenied
    if format not in ReportExport.Format.values:
        raise ValidationError({"format": _("Choose xlsx or CSV.")})
    if end < start:
        raise ValidationError({"end": _("The end date is before the start date.")})
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError(
            {"end": _("A report covers at most %(days)s days.") % {"days": MAX_DAYS}}
        )
    if start > timezone.localdate():
        raise ValidationError({"start": _("The range has not begun yet.")})
    ids = station_ids_for(actor)
    asked = sorted({int(pk) for pk in station_ids}) if station_ids else None
    if asked is not None:
        wanted = expand_stations(asked)
        ids = wanted if ids is ALL else ids & wanted
    if ids is not ALL and not ids:
        raise ValidationError({"station": _("You may not report on these stations.")})
    # One request at a time per person (the row lock), so that neither a
    # double click nor a flood queues more than MAX_PENDING files.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    frozen = None if ids is ALL else sorted(ids)
    pending = ReportExport.objects.filter(
        requested_by=actor, status__in=[Status.QUEUED, Status.RUNNING]
    )
    same = [
        e for e in pending.filter(start=start, end=end, format=format) if e.station_ids == frozen
    ]
    if same:
        return same[0]  # the same file is already on its way
    if pending.count() >= MAX_PENDING:
        raise ValidationError(
            _("%(n)s of your files are still being written: wait for one to finish.")
            % {"n": MAX_PENDING}
        )
    export = ReportExport.objects.create(
        start=start,
        end=end,
        format=format,
        origin=ReportExport.Origin.MANUAL,
        station_ids=frozen,
        scope_label=_site_language(
            scope_label, actor=actor, ids=None if ids is ALL else ids, asked=asked
        ),
        requested_by=actor,
    )
    audit(
        actor=actor,
        action="reports.export.requested",
        target=export,
        data={"start": str(start), "end": str(end), "format": format, "stations": asked},
    )
    # By name, after commit, never failing the request: a broker outage
    # leaves it queued for ``exports_sweep``.
    publish_on_commit(WRITE_TASK, args=(export.pk,))
    return export


def export_claim(export_id: int) -> ReportExport | None:
    """Take ``export_id`` to write it: one conditional UPDATE (queued, or
    running with a stale claim → running). None when another worker has it
    or it is done or failed."""
    now = timezone.now()
    stale = Q(status=Status.RUNNING, started_at__lt=now - STALE_AFTER)
    taken = (
        ReportExport.objects.filter(pk=export_id)
        .filter(Q(status=Status.QUEUED) | stale)
        .update(status=Status.RUNNING, started_at=now, progress=0, stage="", error="")
    )
    return ReportExport.objects.get(pk=export_id) if taken else None


def export_progress(export: ReportExport, progress: int, stage: str) -> None:
    """Progress and stage, committed at once (the task runs outside any
    transaction), while the row is still this worker's claim."""
    ReportExport.objects.filter(
        pk=export.pk, status=Status.RUNNING, started_at=export.started_at
    ).update(progress=max(0, min(int(progress), 100)), stage=stage[:120])


def export_finish(export: ReportExport, *, name: str, size: int) -> bool:
    with transaction.atomic():
        done = ReportExport.objects.filter(
            pk=export.pk, status=Status.RUNNING, started_at=export.started_at
        ).update(
            status=Status.DONE,
            file=name,
            size=size,
            progress=100,
            stage="",
            finished_at=timezone.now(),
        )
        if done:
            audit(actor=None, action="reports.export.written", target=export, data={"size": size})
    return bool(done)


def export_fail(export: ReportExport, message: str) -> None:
    with transaction.atomic():
        failed = ReportExport.objects.filter(
            pk=export.pk, status=Status.RUNNING, started_at=export.started_at
        ).update(status=Status.FAILED, error=message[:2000], finished_at=timezone.now())
        if failed:
            audit(
                actor=None, action="reports.export.failed", target=export, data={"error": message}
            )


def _release(export: ReportExport) -> None:
    """Back to queued (a retryable error: the task's retry claims it again)."""
    ReportExport.objects.filter(
        pk=export.pk, status=Status.RUNNING, started_at=export.started_at
    ).update(status=Status.QUEUED, progress=0, stage="")


def export_write(export_id: int) -> str:
    """Write the file of ``export_id``: claim it, compute the report for its
    frozen scope, write it to a temporary file in constant memory, store it
    in ``STORAGES["reports"]``, mark it done. Called by the task, never in a
    transaction (each step commits by itself). Returns what happened:
    "done", "failed" or "skipped" (done already, or another worker's)."""
    export = export_claim(export_id)
    if export is None:
        return "skipped"

    def progress(pct: int, stage: str) -> None:
        export_progress(export, pct, stage)

    stored = ""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            progress(5, _("Counting the figures"))
            ids = None if export.station_ids is None else frozenset(export.station_ids)
            report = report_for_scope(ids, start=export.start, end=export.end)
            progress(50, _("Writing the file"))
            by = export.requested_by
            meta = {
                "scope_label": export.scope_label,
                "generated_by": str(by) if by else _("Monthly job"),
                "generated_at": timezone.now(),
            }
            xlsx = export.format == ReportExport.Format.XLSX
            filename = export_filename(
                start=export.start,
                end=export.end,
                scope=export.scope_label,
                ext="xlsx" if xlsx else "zip",
            )
            with tempfile.TemporaryDirectory(prefix="lianxin-report-") as tmp:
                path = Path(tmp) / "report"
                (write_xlsx if xlsx else write_csv_zip)(report, path, meta=meta, progress=progress)
                progress(96, _("Storing the file"))
                with path.open("rb") as fh:
                    stored = report_storage().save(report_path(export, filename), File(fh))
                size = path.stat().st_size
    except RETRYABLE:
        delete_file(stored)
        _release(export)
        raise
    except Exception:
        logger.exception("report export %s failed", export_id)
        delete_file(stored)
        # The page shows this to the user: no exception text (paths, SQL);
        # the log has it, under the file's number.
        export_fail(
            export,
            _("The file could not be written (file %(id)s; the error is in the server log).")
            % {"id": export.pk},
        )
        return "failed"
    if not export_finish(export, name=stored, size=size):
        delete_file(stored)  # another worker took it over meanwhile
        return "skipped"
    return "done"


def delete_file(name: str) -> None:
    # STORAGES["reports"] as configured now (the field's storage is bound
    # when the model class loads; settings overridden later, as in tests,
    # would not reach it).
    if name:
        report_storage().delete(name)


def exports_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the files asked for by hand (and failed attempts) older than
    ``retention_days()``, and their rows; the monthly job's files stay.
    Rows in batches of 500 (index ``reportexport_recent``). Returns how many
    went. Safe to run twice."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=retention_days())
    old = ReportExport.objects.filter(created_at__lt=cutoff).exclude(
        origin=ReportExport.Origin.MONTHLY, status=Status.DONE
    )
    old = old.exclude(status=Status.RUNNING, started_at__gte=cutoff)
    gone = 0
    while batch := list(old.order_by("created_at", "id").values_list("pk", "file")[:500]):
        for _pk, name in batch:
            delete_file(name)
        with transaction.atomic():
            ReportExport.objects.filter(pk__in=[pk for pk, _n in batch]).delete()
        gone += len(batch)
    return gone


def exports_sweep(*, now: datetime.datetime | None = None) -> int:
    """Queue again the exports whose task was lost (broker down when asked,
    a dead worker): queued for over five minutes, or running with a stale
    claim. At most 50 a run. Safe to run twice (the claim lets one write)."""
    now = now or timezone.now()
    stuck = ReportExport.objects.filter(
        Q(status=Status.QUEUED, created_at__lt=now - datetime.timedelta(minutes=5))
        | Q(status=Status.RUNNING, started_at__lt=now - STALE_AFTER)
    ).order_by("created_at")
    ids = list(stuck.values_list("pk", flat=True)[:50])
    for pk in ids:
        publish(WRITE_TASK, args=(pk,))
    return len(ids)


# --- The monthly job ------------------------------------------------------------------------


def _lock_monthly() -> None:
    """One monthly job at a time (two beat runs racing would both create a
    file): a transaction-scoped advisory lock on PostgreSQL."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports.monthly_report'))")


def monthly_report_run(*, today: datetime.date | None = None) -> int:
    """On the 1st: the city's report for last month (xlsx, origin monthly,
    asked by nobody), written here, then every center manager told where to
    download it (``center.report.monthly``). Idempotent per month: the file
    is made once (a failed one is written again), and each manager is told
    once (notification key per month and manager). Returns how many were
    told this time."""
    start, end = previous_month(today)
    with transaction.atomic():
        _lock_monthly()
        export = (
            ReportExport.objects.filter(
                origin=ReportExport.Origin.MONTHLY,
                start=start,
                end=end,
                station_ids__isnull=True,
                format=ReportExport.Format.XLSX,
            )
            .order_by("pk")
            .first()
        )
        if export is None:
            with translation.override(settings.LANGUAGE_CODE):
                label = _("City-wide")
            export = ReportExport.objects.create(
                start=start,
                end=end,
                format=ReportExport.Format.XLSX,
                origin=ReportExport.Origin.MONTHLY,
                station_ids=None,
                scope_label=label,
                requested_by=None,
            )
            audit(
                actor=None,
                action="reports.export.requested",
                target=export,
                data={"start": str(start), "end": str(end), "monthly": True},
            )
        elif export.status == Status.FAILED:
            ReportExport.objects.filter(pk=export.pk, status=Status.FAILED).update(
                status=Status.QUEUED, error="", progress=0
            )
    export_write(export.pk)
    export.refresh_from_db()
    if export.status != Status.DONE:
        return 0
    return _tell_center_managers(export, month=f"{start:%Y-%m}")


def _tell_center_managers(export: ReportExport, *, month: str) -> int:
    """One notification per (month, manager): a handful of center managers,
    one query for them, one for who was told already, one ``notify`` each."""
    prefix = f"center.report.monthly.{month}."
    managers = list(
        User.objects.filter(Q(role=Role.CENTER_MANAGER) | Q(is_superuser=True), is_active=True)
        .only("pk", "is_active", "mobile", "email", "notify_sms", "notify_email", "language")
        .order_by("pk")
    )
    keys = {m.pk: f"{prefix}{m.pk}" for m in managers}
    from center.models import Notification

    already = set(Notification.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    todo = [m for m in managers if keys[m.pk] not in already]
    with transaction.atomic():
        for manager in todo:
            notify(
                recipient=manager,
                key=keys[manager.pk],
                kind="center.report",
                message="center.report.monthly",
                params={"month": month, "url": export.get_absolute_url()},
            )
    return len(todo)
