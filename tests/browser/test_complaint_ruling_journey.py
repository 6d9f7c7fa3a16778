"""A station manager rules a complaint valid and sees the volunteer suspended."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, VolunteerFactory
from volunteers import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_station_manager_rules_complaint_valid_and_sees_volunteer_suspended(
    live_server, page, station_manager, station, operator
):
    volunteer = VolunteerFactory(station=station, name="黄师傅")
    complaint = services.complaint_record(
        actor=operator, provider=volunteer, description="上门迟到四十分钟"
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(station_manager.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    page.get_by_role("button", name="服务力量").click()
    page.get_by_role("link", name="投诉").click()
    page.get_by_test_id("complaint-table").get_by_role(
        "link", name=str(complaint.pk), exact=True
    ).click()
    expect(page.get_by_test_id("complaint-status")).to_have_text("待认定")

    page.get_by_label("成立：按规定处理").check()
    page.get_by_label("理由").fill("经回访核实，投诉属实。")
    page.get_by_role("button", name="提交认定").click()

    expect(page.get_by_test_id("complaint-status")).to_have_text("成立")
    expect(page.get_by_test_id("sanction")).to_contain_text("警告")
    page.get_by_role("link", name=str(volunteer)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("黄师傅")
    expect(page.get_by_test_id("status-suspended")).to_be_visible()
    expect(page.get_by_text("该志愿者目前不能被派单，也不能接单。")).to_be_visible()
