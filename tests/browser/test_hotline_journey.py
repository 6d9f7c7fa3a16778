"""Across two browsers: an operator takes a call and offers the order; a
volunteer takes it on their phone and completes it; the operator records the
follow-up call."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from requests.models import ServiceRequest
from tests.factories import (
    PASSWORD,
    CommunityFactory,
    ServiceItemFactory,
    UserFactory,
    VolunteerFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_call_offer_take_complete_follow_up(live_server, browser, operator, station):
    community = CommunityFactory(name="梅湾社区")
    station.communities.add(community)
    item = ServiceItemFactory(
        name="电视机维修", market_price=Decimal("150"), center_price=Decimal("80")
    )
    volunteer_user = UserFactory(username="xiaochen", role="volunteer")
    volunteer = VolunteerFactory(
        station=station,
        user=volunteer_user,
        on_duty=True,
        name="陈师傅",
        latitude=Decimal("30.751"),
        longitude=Decimal("120.76"),
    )
    volunteer.service_items.add(item)
    base = live_server.url

    op_ctx = browser.new_context(locale="zh-CN")
    op = op_ctx.new_page()
    login(op, base, operator.username)
    op.get_by_role("navigation").get_by_role("link", name="接线台").click()
    op.get_by_label("来电号码").fill("13812345678")
    expect(op.get_by_text("尚无此号码的居民")).to_be_visible()
    op.locator("#id_name").fill("孙奶奶")
    expect(op.locator("#id_phone")).to_have_value("13812345678")  # copied from the number typed
    op.locator("#id_address").fill("南湖区梅湾街5号")
    op.locator("#id_community").select_option(label=f"{community.parent.name} · 梅湾社区")
    op.get_by_role("button", name="登记并新建工单").first.click()
    op.get_by_placeholder("输入关键字搜索服务项目").fill("电视")
    expect(op.locator("#id_item")).to_have_value(str(item.pk))  # the search picked the first match
    op.locator("#id_item").select_option(label=f"{item.category.name} · 电视机维修（¥80.00）")
    op.get_by_label("诉求描述").fill("电视没有图像")
    op.get_by_role("button", name="新建工单").first.click()
    expect(op.get_by_test_id("order-status")).to_have_text("已受理")
    expect(op.get_by_test_id("candidates")).to_contain_text("陈师傅")
    op.get_by_test_id("offer-button").click()
    expect(op.get_by_test_id("order-status")).to_have_text("已派单")
    order = ServiceRequest.objects.get()

    vol_ctx = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = vol_ctx.new_page()
    login(phone, base, volunteer_user.username)
    phone.goto(f"{base}/v/orders/")
    expect(phone.get_by_test_id("offer")).to_contain_text("电视机维修")
    phone.get_by_role("button", name="接单").click()
    expect(phone.get_by_test_id("my-order-status")).to_have_text("已接单")
    phone.get_by_role("button", name="出发").click()
    phone.get_by_role("button", name="已到达").click()
    expect(phone.get_by_test_id("my-order-status")).to_have_text("已到达")
    phone.get_by_label("处理情况").fill("更换电源板，把操作步骤写在便条上")
    phone.get_by_label("实收费用（元）").fill("80")
    phone.get_by_role("button", name="完成").last.click()
    expect(phone.get_by_test_id("my-order-status")).to_have_text("已办结")

    op.get_by_role("navigation").get_by_role("link", name="回访").click()
    op.get_by_test_id("followup-table").get_by_role("link", name="回访").click()
    op.get_by_label("满意", exact=True).check()
    op.get_by_label("评分").select_option("5")
    op.get_by_label("居民原话").fill("很快就修好了，谢谢")
    op.get_by_role("button", name="记录回访").click()
    expect(op.get_by_text("暂无待回访的工单")).to_be_visible()
    order.refresh_from_db()
    assert order.status == "archived" and order.volunteer == volunteer
    assert order.follow_ups.get().words == "很快就修好了，谢谢"
    op_ctx.close()
    vol_ctx.close()
