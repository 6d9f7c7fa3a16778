"""A center manager's month end, in Chromium (zh-hans): the dashboard with its
charts, last month's report exported to Excel, the progress bar watched from
queued to ready, and the file downloaded and opened.

The export task is held back (the page's request queues it by name after
commit); the test then runs it as a worker would, while the page polls, so
the bar is seen before and after the work, as a user sees it."""

import datetime

import openpyxl
import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from reports import tasks
from reports.models import ReportExport
from requests import services
from tests.browser.test_content_security_policy import login, open_page, violations
from tests.factories import ResidentFactory, ServiceItemFactory, UserFactory, VolunteerFactory
from tests.reports.test_rates import Desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _last_month_orders(operator, station) -> datetime.date:
    """Three orders on the 10th of last month: two completed within the
    target, one cancelled. Returns the first day of last month."""
    today = timezone.localdate()
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    tz = timezone.get_current_timezone()
    at = datetime.datetime.combine(first.replace(day=10), datetime.time(9), tzinfo=tz)
    desk = Desk(operator, ResidentFactory(), ServiceItemFactory())
    volunteer = VolunteerFactory(station=station, user=UserFactory(role="volunteer"))
    for minutes in (5, 8):
        order = desk.receive(at, station)
        desk.served(
            order, volunteer, taken=minutes, arrived=6, done=at + datetime.timedelta(hours=1)
        )
    desk.cancel(at, desk.receive(at, station))
    with time_machine.travel(at + datetime.timedelta(hours=2), tick=False):
        services.order_month_stats_refresh(month=first)
    return first


def test_center_manager_exports_last_month_and_downloads_it(
    live_server, browser, center_manager, operator, station, monkeypatch, tmp_path, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports")},
        },
    }
    first = _last_month_orders(operator, station)
    queued = []
    monkeypatch.setattr(
        "reports.services.publish_on_commit", lambda name, args=(), **kw: queued.append(args)
    )

    page, errors = open_page(browser)
    login(page, live_server.url, center_manager.username)

    # The dashboard, from the menu: charts drawn, each with its table.
    nav = page.locator("#mainnav")
    nav.get_by_role("button", name="数据看板").click()
    nav.get_by_role("link", name="全市分站概览").click()
    trend = page.get_by_test_id("chart-rates-trend")
    expect(trend.locator("canvas")).to_be_visible()
    assert page.evaluate("Object.keys(Chart.instances).length") >= 1
    trend.locator("[data-chart-toggle]").click()
    expect(trend.locator("table")).to_be_visible()
    expect(trend.locator("table")).to_contain_text(f"{first:%Y-%m}")

    # Last month's report (the page opens on it), exported to Excel.
    nav.get_by_role("button", name="报表").click()
    nav.get_by_role("link", name="服务月报").click()
    expect(page.get_by_test_id("report-filter")).to_be_visible()
    page.get_by_role("button", name="导出 Excel").click()

    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_test_id("export-status")).to_have_text("排队中")
    assert len(queued) == 1
    (export_id,) = queued[0]

    tasks.write_report(export_id)  # the worker's turn; the page keeps polling

    expect(page.get_by_test_id("export-status")).to_have_text("已生成", timeout=10_000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    path = tmp_path / "report.xlsx"
    download.value.save_as(path)
    assert download.value.suggested_filename.endswith(".xlsx")

    export = ReportExport.objects.get(pk=export_id)
    assert (export.start, export.requested_by_id) == (first, center_manager.pk)
    workbook = openpyxl.load_workbook(path, read_only=True)
    summary = {row[0]: row[1] for row in workbook.worksheets[0].iter_rows(values_only=True)}
    assert summary["受理工单"] == 3
    assert summary["起"] == datetime.datetime.combine(first, datetime.time())

    # The file is listed with who made it.
    page.get_by_role("link", name="返回报表文件").click()
    expect(page.get_by_test_id(f"export-{export_id}")).to_contain_text(str(center_manager))
    assert violations(page) == []
    assert errors == []
