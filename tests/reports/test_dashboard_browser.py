"""The dashboards in a browser (Chromium): static/js/charts.js draws every
chart of templates/reports/_chart.html under the Content-Security-Policy, the
table button shows the table, and an htmx refresh of the figures block draws
the new charts and frees the old ones."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_content_security_policy import login, open_page, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = 5  # calls/orders by hour, open by status, minutes; 12-month rates, stars


def test_center_manager_sees_the_charts_and_their_tables(live_server, browser, center_manager):
    page, errors = open_page(browser)
    login(page, live_server.url, center_manager.username)
    page.goto(f"{live_server.url}/dashboard/center/")
    figure = page.get_by_test_id("chart-calls-orders-by-hour")
    expect(figure.locator("canvas")).to_be_visible()
    # drawn: the table is hidden visually (still read by screen readers)
    expect(figure.locator(".chart-table")).to_have_class(
        "table-responsive chart-table visually-hidden"
    )
    assert page.evaluate("Object.keys(Chart.instances).length") == CHARTS
    toggle = figure.locator("[data-chart-toggle]")
    toggle.click()
    expect(figure.locator("table")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # What the minute's poll does: the block is swapped, its charts drawn anew
    # and the old ones destroyed (no more instances than figures).
    page.evaluate("document.querySelector('#dashboard-figures canvas').id = 'old'")
    page.evaluate("htmx.ajax('GET', '/dashboard/center/figures/', '#dashboard-figures')")
    expect(page.locator("#old")).to_have_count(0)  # swapped
    expect(page.locator("figure[data-chart]:not([data-chart-ready])")).to_have_count(0)
    expect(figure.locator("canvas")).to_be_visible()
    assert page.evaluate("Object.keys(Chart.instances).length") == CHARTS
    # htmx dropped the json_script: the chart was read back from its table
    labels = page.evaluate(
        "Chart.getChart(document.querySelector('[data-testid=chart-rates-trend] canvas'))"
        ".data.datasets.length"
    )
    assert labels == 3
    assert violations(page) == []
    assert errors == []


def test_dashboards_have_no_serious_accessibility_violation(live_server, browser, center_manager):
    from tests.browser.test_accessibility import AXE, AXE_OPTIONS, BLOCKING

    context = browser.new_context(locale="zh-CN")
    context.add_init_script(AXE.axe_script)
    page = context.new_page()
    login(page, live_server.url, center_manager.username)
    found = []
    for path in ("/dashboard/", "/dashboard/center/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_test_id("dashboard-figures")).to_be_visible()
        results = page.evaluate("options => axe.run(options)", AXE_OPTIONS)
        found += [
            (path, v["id"], [n["html"][:80] for n in v["nodes"][:3]])
            for v in results["violations"]
            if v["impact"] in BLOCKING
        ]
    assert found == []
