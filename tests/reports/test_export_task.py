"""Report files asked for and written by the task (``reports.services``,
``reports.tasks``): the frozen scope, the claim (run twice, a fresh or a
stale claim), progress seen by another connection while it is written,
failures kept readable, the retention purge, and the monthly job."""

import datetime
import threading
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from celery.schedules import crontab
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.db import connections
from django.utils import timezone, translation

from center.celery import BEAT_SCHEDULE
from center.models import Notification, Role
from reports import services, tasks
from reports.models import ReportExport
from reports.selectors_report import order_columns
from tests.factories import StationFactory, UserFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
MARCH = {"start": datetime.date(2026, 3, 1), "end": datetime.date(2026, 3, 31)}
Status = ReportExport.Status


@pytest.fixture(autouse=True)
def report_files(settings, tmp_path):
    """Report files go to a temporary folder (STORAGES["reports"])."""
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports"), "base_url": None},
        },
    }
    return tmp_path / "reports"


def test_a_file_is_written_after_commit_into_the_reports_storage(
    center_manager, station, django_capture_on_commit_callbacks, report_files
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        export = services.export_request(actor=center_manager, format="xlsx", **MARCH)
        assert ReportExport.objects.get(pk=export.pk).status == Status.QUEUED  # not before commit
    assert len(callbacks) == 1
    export.refresh_from_db()
    assert (export.status, export.progress, export.error) == (Status.DONE, 100, "")
    assert export.station_ids is None and export.requested_by == center_manager
    assert export.file.name.startswith(f"{export.created_at:%Y/%m}/")
    assert (report_files / export.file.name).exists()
    assert export.size == (report_files / export.file.name).stat().st_size
    assert export.started_at <= export.finished_at
    # Written in the site's language (zh-hans): the headers are the Chinese labels.
    book = openpyxl.load_workbook(report_files / export.file.name, read_only=True)
    with translation.override("zh-hans"):
        headers = [str(c.label) for c in order_columns()]
    assert [c.value for c in next(book.worksheets[1].iter_rows(max_row=1))] == headers


def test_csv_files_are_a_zip(station_manager, station, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(actor=station_manager, format="csv", **MARCH)
    export.refresh_from_db()
    assert export.status == Status.DONE and export.file.name.endswith(".zip")
    with storages["reports"].open(export.file.name, "rb") as fh:
        assert fh.read(2) == b"PK"


def test_the_scope_is_frozen_as_the_users_stations_within_those_asked(
    center_manager, station_manager, station, other_station
):
    point = StationFactory(parent=station, kind="service_point")
    mine = services.export_request(actor=station_manager, format="xlsx", **MARCH)
    assert mine.station_ids == sorted([station.pk, point.pk])
    assert mine.scope_label == station.name
    branch = services.export_request(
        actor=center_manager, format="xlsx", station_ids=[station.pk], **MARCH
    )
    assert branch.station_ids == sorted([station.pk, point.pk])  # the branch and its points
    with pytest.raises(ValidationError):  # beyond their stations: nothing left
        services.export_request(
            actor=station_manager, format="xlsx", station_ids=[other_station.pk], **MARCH
        )


@pytest.mark.parametrize("who", ["operator", "volunteer_user", "outsider"])
def test_only_managers_may_ask(request, who):
    with pytest.raises(PermissionDenied):
        services.export_request(actor=request.getfixturevalue(who), format="xlsx", **MARCH)
    assert not ReportExport.objects.exists()


@pytest.mark.parametrize(
    "start,end",
    [
        (datetime.date(2026, 3, 2), datetime.date(2026, 3, 1)),  # backwards
        (datetime.date(2024, 1, 1), datetime.date(2025, 1, 2)),  # over 366 days
        (datetime.date(2099, 1, 1), datetime.date(2099, 1, 31)),  # not begun
    ],
)
def test_a_bad_range_is_refused(center_manager, start, end):
    with pytest.raises(ValidationError):
        services.export_request(actor=center_manager, format="xlsx", start=start, end=end)


def test_running_twice_does_not_write_again(center_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(actor=center_manager, format="xlsx", **MARCH)
    export.refresh_from_db()
    first = (export.file.name, export.finished_at)
    assert tasks.write_report(export.pk) == "skipped"
    export.refresh_from_db()
    assert (export.file.name, export.finished_at) == first
    assert len(storages["reports"].listdir(f"{export.created_at:%Y/%m}")[1]) == 1


def test_a_fresh_claim_is_not_taken_twice_a_stale_one_is(center_manager):
    export = services.export_request(actor=center_manager, format="xlsx", **MARCH)  # not run
    ReportExport.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    assert services.export_write(export.pk) == "skipped"  # another worker has it
    assert ReportExport.objects.get(pk=export.pk).status == Status.RUNNING
    dead = timezone.now() - services.STALE_AFTER - datetime.timedelta(seconds=1)
    ReportExport.objects.filter(pk=export.pk).update(started_at=dead)
    assert services.export_write(export.pk) == "done"  # its worker died: taken over
    assert ReportExport.objects.get(pk=export.pk).status == Status.DONE


def test_a_failure_is_readable_and_keeps_the_error_in_the_log(center_manager, monkeypatch, caplog):
    export = services.export_request(actor=center_manager, format="xlsx", **MARCH)

    def broken(*args, **kwargs):
        raise ValueError("/srv/secret/path: the disk is full")

    monkeypatch.setattr(services, "report_for_scope", broken)
    with translation.override("en"):
        assert services.export_write(export.pk) == "failed"
    export.refresh_from_db()
    assert export.status == Status.FAILED
    assert export.error == (
        f"The file could not be written (file {export.pk}; the error is in the server log)."
    )
    assert "the disk is full" in caplog.text  # for whoever reads the log, not the page
    assert not export.file
    assert services.export_write(export.pk) == "skipped"  # a failed file is asked for anew


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_is_committed_as_it_goes(monkeypatch):
    """Another connection (the page polling the row) sees each step while
    the task still runs: progress and stage are committed one by one."""
    from center.models import Station
    from tests.factories import DistrictFactory

    Station.objects.create(
        code="JX", name="中心", kind="center", district=DistrictFactory(), address="嘉兴"
    )
    # Queued as export_request leaves it (which, outside a test transaction,
    # would run the eager task at once on commit).
    export = ReportExport.objects.create(format="xlsx", scope_label="全市", **MARCH)
    seen = []
    real = services.export_progress

    def observed(row, pct, stage):
        real(row, pct, stage)

        def read():
            try:
                seen.append(
                    ReportExport.objects.values_list("status", "progress", "stage").get(pk=row.pk)
                )
            finally:
                connections.close_all()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()

    monkeypatch.setattr(services, "export_progress", observed)
    assert services.export_write(export.pk) == "done"
    progress = [p for _s, p, _st in seen]
    assert progress == sorted(progress) and progress[0] == 5 and progress[-1] == 96
    assert {s for s, _p, _st in seen} == {Status.RUNNING}
    assert len(seen) >= 4  # counting, writing, rows written, storing
    assert all(stage for _s, _p, stage in seen)
    assert ReportExport.objects.get(pk=export.pk).progress == 100


def test_purge_deletes_old_files_asked_for_and_keeps_the_monthly_ones(
    center_manager, settings, report_files
):
    settings.LIANXIN = {**settings.LIANXIN, "REPORT_RETENTION_DAYS": 30}
    old = timezone.now() - datetime.timedelta(days=31)
    with time_machine.travel(old, tick=False):
        manual = services.export_request(actor=center_manager, format="xlsx", **MARCH)
        services.export_write(manual.pk)
        monthly = ReportExport.objects.create(
            origin="monthly", format="xlsx", status=Status.DONE, **MARCH
        )
    recent = services.export_request(actor=center_manager, format="xlsx", **MARCH)
    services.export_write(recent.pk)
    manual.refresh_from_db()
    path = report_files / manual.file.name
    assert path.exists()
    assert services.exports_purge() == 1
    assert not path.exists()
    assert set(ReportExport.objects.values_list("pk", flat=True)) == {monthly.pk, recent.pk}
    assert services.exports_purge() == 0  # safe to run twice


def test_the_sweep_requeues_lost_tasks(center_manager):
    export = services.export_request(actor=center_manager, format="xlsx", **MARCH)  # never sent
    assert services.exports_sweep() == 0  # just asked: its task may be on its way
    later = timezone.now() + datetime.timedelta(minutes=6)
    assert services.exports_sweep(now=later) == 1  # eager in tests: written now
    assert ReportExport.objects.get(pk=export.pk).status == Status.DONE


# --- The monthly job -------------------------------------------------------------------------

FIRST = datetime.datetime(2026, 4, 1, 8, 0, tzinfo=TZ)


def test_the_monthly_job_is_scheduled_at_eight_on_the_first():
    entry = BEAT_SCHEDULE["reports-monthly-report"]
    assert entry["task"] == "reports.tasks.monthly_report"
    assert entry["schedule"] == crontab(hour=8, minute=0, day_of_month=1)
    assert "center-monthly-report-ready" not in BEAT_SCHEDULE  # replaced by this one
    assert BEAT_SCHEDULE["reports-purge-exports"]["task"] == "reports.tasks.purge_exports"


def test_the_monthly_job_writes_one_city_file_and_tells_each_center_manager_once(
    center_manager, station_manager, station
):
    second = UserFactory(role=Role.CENTER_MANAGER)
    UserFactory(role=Role.CENTER_MANAGER, is_active=False)
    with time_machine.travel(FIRST, tick=False):
        assert tasks.monthly_report() == 2
        assert tasks.monthly_report() == 0  # run twice: nobody told twice
    export = ReportExport.objects.get()  # one file
    assert (export.origin, export.start, export.end) == ("monthly", *MARCH.values())
    assert export.station_ids is None and export.requested_by is None
    assert export.status == Status.DONE and export.format == "xlsx"
    told = Notification.objects.filter(message="center.report.monthly")
    assert {n.recipient for n in told} == {center_manager, second}
    assert {n.params["month"] for n in told} == {"2026-03"}
    assert {n.params["url"] for n in told} == {f"/reports/exports/{export.pk}/"}
    with translation.override("en"):
        n = told.first()
        assert n.display_title == "The report for 2026-03 is ready"
        assert "Reports › Report files" in n.display_body  # an SMS has no link
        assert n.link == f"/reports/exports/{export.pk}/"  # the inbox has
    # Next month: another file, told again.
    with time_machine.travel(datetime.datetime(2026, 5, 1, 8, 0, tzinfo=TZ), tick=False):
        assert tasks.monthly_report() == 2
    assert ReportExport.objects.count() == 2


def test_the_monthly_job_uses_the_shanghai_date(center_manager):
    # 00:30 on 1 April in Shanghai is still 31 March in UTC: the report is March's.
    with time_machine.travel(datetime.datetime(2026, 4, 1, 0, 30, tzinfo=TZ), tick=False):
        services.monthly_report_run()
    assert ReportExport.objects.get().start == datetime.date(2026, 3, 1)


def test_january_reports_on_december(center_manager):
    with time_machine.travel(datetime.datetime(2027, 1, 1, 8, tzinfo=TZ), tick=False):
        services.monthly_report_run()
    export = ReportExport.objects.get()
    assert (export.start, export.end) == (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))


def test_a_failed_monthly_file_is_written_again_and_only_then_told(center_manager, monkeypatch):
    real = services.report_for_scope
    monkeypatch.setattr(services, "report_for_scope", lambda *a, **k: 1 / 0)
    with time_machine.travel(FIRST, tick=False):
        assert services.monthly_report_run() == 0
        assert ReportExport.objects.get().status == Status.FAILED
        assert not Notification.objects.exists()
        monkeypatch.setattr(services, "report_for_scope", real)
        assert services.monthly_report_run() == 1
    assert ReportExport.objects.get().status == Status.DONE
