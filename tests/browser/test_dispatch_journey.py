"""Issue 8's journey: an operator creates an order next door to an on-duty
volunteer who is ranked first among many, sees it on their phone and takes
it; a merchant takes another order from the same phone pages."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from requests import services
from requests.models import ServiceRequest
from tests.browser.test_hotline_journey import login
from tests.factories import (
    CommunityFactory,
    MerchantFactory,
    ResidentFactory,
    ServiceItemFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers.models import MerchantOffer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nearest_on_duty_volunteer_and_a_merchant_take_orders(
    live_server, browser, operator, station
):
    community = CommunityFactory(name="梅湾社区")
    station.communities.add(community)
    item = ServiceItemFactory(name="水管疏通", center_price=Decimal("50"))
    resident = ResidentFactory(
        community=community,
        name="孙奶奶",
        phone="13812345678",
        latitude=Decimal("30.750000"),
        longitude=Decimal("120.760000"),
    )
    for i in range(30):  # off duty, nearer or farther: never offered
        VolunteerFactory(
            station=station,
            on_duty=False,
            latitude=Decimal("30.750000") + Decimal(i) / 1000,
            longitude=Decimal("120.760000"),
        ).service_items.add(item)
    for i in range(8):  # on duty but farther away
        VolunteerFactory(
            station=station,
            on_duty=True,
            latitude=Decimal("30.765000") + Decimal(i) / 1000,
            longitude=Decimal("120.760000"),
        ).service_items.add(item)
    neighbour_user = UserFactory(username="linju", role="volunteer")
    neighbour = VolunteerFactory(
        station=station,
        on_duty=True,
        name="隔壁王师傅",
        user=neighbour_user,
        latitude=Decimal("30.750300"),
        longitude=Decimal("120.760000"),
    )
    neighbour.service_items.add(item)
    base = live_server.url

    op = browser.new_context(locale="zh-CN").new_page()
    login(op, base, operator.username)
    op.goto(f"{base}/orders/new/{resident.pk}/")
    op.locator("#id_item").select_option(value=str(item.pk))
    op.get_by_label("诉求描述").fill("厨房下水道堵了")
    op.get_by_role("button", name="新建工单").first.click()
    expect(op.get_by_test_id("order-status")).to_have_text("已受理")
    first_row = op.get_by_test_id("candidates").locator("tbody tr").first
    expect(first_row).to_contain_text("隔壁王师傅")
    expect(op.get_by_test_id("ranking-rule")).to_contain_text("预计分钟数")
    op.get_by_test_id("offer-button").click()
    expect(op.get_by_test_id("order-status")).to_have_text("已派单")

    phone_ctx = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = phone_ctx.new_page()
    login(phone, base, neighbour_user.username)
    phone.goto(f"{base}/v/orders/")
    expect(phone.get_by_test_id("offer")).to_contain_text("水管疏通")
    phone.get_by_role("button", name="接单").click()
    expect(phone.get_by_test_id("my-order-status")).to_have_text("已接单")
    order = ServiceRequest.objects.get()
    assert order.volunteer == neighbour

    # A merchant, offered another order, takes it from the same pages.
    merchant_user = UserFactory(username="shangjia", role="volunteer")
    merchant = MerchantFactory(
        stations=[station],
        name="嘉兴通达管道服务部",
        user=merchant_user,
        latitude=Decimal("30.751000"),
        longitude=Decimal("120.761000"),
    )
    MerchantOffer.objects.create(merchant=merchant, item=item, price=Decimal("45"))
    other = services.order_create(
        actor=operator, resident=resident, item=item, channel="hotline", description="卫生间也堵了"
    )
    services.order_offer(actor=operator, order=other)
    phone_ctx.close()
    phone_ctx = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = phone_ctx.new_page()
    login(phone, base, merchant_user.username)
    phone.goto(f"{base}/v/orders/")
    expect(phone.get_by_test_id("offer")).to_contain_text("水管疏通")
    phone.get_by_role("button", name="接单").click()
    expect(phone.get_by_test_id("my-order-status")).to_have_text("已接单")
    other.refresh_from_db()
    assert other.merchant == merchant and other.status == "taken"
    phone_ctx.close()
