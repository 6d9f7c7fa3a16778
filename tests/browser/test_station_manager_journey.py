"""A station manager logs in through the real login page in Debian's Chromium
and sees their station's list (and not another station's)."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_station_manager_logs_in_and_sees_own_station_list(
    live_server, page, station_manager, station, other_station
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(station_manager.mobile)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("whoami")).to_contain_text("分站负责人")
    page.get_by_role("navigation").get_by_role("link", name="站点", exact=True).click()
    table = page.get_by_test_id("station-table")
    expect(table).to_contain_text(station.name)
    expect(table).not_to_contain_text(other_station.name)
    page.get_by_role("link", name=station.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(station.name)
