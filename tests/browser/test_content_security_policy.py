"""Under the Content-Security-Policy the pages work and the browser reports no
violation: the behaviour that lived in on*="" attributes is bound by lianxin.js,
htmx loads its partials, the admin's scripts run."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ServiceItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script: records what the policy blocked.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def open_page(browser):
    context = browser.new_context(locale="zh-CN")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def violations(page):
    return page.evaluate("window.__csp")


def test_staff_pages_run_under_the_policy(live_server, browser, operator, station):
    page, errors = open_page(browser)
    login(page, live_server.url, operator.username)
    expect(page.get_by_test_id("whoami")).to_be_visible()
    assert violations(page) == []

    page.goto(f"{live_server.url}/console/")
    page.get_by_label("来电号码").fill("13812345678")
    expect(page.get_by_text("尚无此号码的居民")).to_be_visible()  # htmx partial
    expect(page.locator("#id_phone")).to_have_value("13812345678")  # data-copy-to
    assert violations(page) == []

    # The language switch submits on change (data-autosubmit).
    page.get_by_label("语言").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert violations(page) == []
    assert errors == []


def test_the_back_office_runs_under_the_policy(live_server, browser, center_manager):
    item = ServiceItemFactory()
    page, errors = open_page(browser)
    login(page, live_server.url, center_manager.username)
    for path in (
        "/admin/",
        f"/admin/center/serviceitem/{item.pk}/change/",
        "/admin/center/station/add/",
        "/admin/axes/accessattempt/",
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#content")).to_be_visible()
        assert violations(page) == [], path
    # The admin's own script ran: the autocomplete widget (select2) was built.
    page.goto(f"{live_server.url}/admin/center/station/add/")
    expect(page.locator(".select2-container").first).to_be_visible()
    assert violations(page) == []
    assert errors == []
