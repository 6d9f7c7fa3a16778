"""Issue 12's service-day journey: a volunteer on a phone finds a stall near
them, signs up, sees it in "my shifts"; on the day the station manager opens
the venue's roster and checks them in and out (htmx swaps the row), and the
hours are credited once."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from center.models import Role
from events.models import Shift, SignUp
from tests.factories import (
    PASSWORD,
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)
from volunteers.models import HoursEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_volunteer_signs_up_on_a_phone_and_the_manager_checks_them_in(
    live_server, browser, station, other_station, station_manager
):
    today = timezone.localdate()
    day = ServiceDayFactory(date=today)
    # A shift starting within the hour (still open for sign-up), on today's day.
    start = (timezone.now() + datetime.timedelta(minutes=30)).replace(second=0, microsecond=0)
    near = StallFactory(
        service="磨刀配钥匙",
        venue=VenueFactory(
            day=day,
            station=station,
            name="月河广场",
            latitude=station.latitude,
            longitude=station.longitude,
        ),
    )
    ShiftFactory(stall=near, starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    far = StallFactory(
        service="义务理发",
        venue=VenueFactory(
            day=day,
            station=other_station,
            name="新城农贸市场",
            latitude=station.latitude + Decimal("0.2"),
            longitude=station.longitude,
        ),
    )
    ShiftFactory(stall=far, starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    user = UserFactory(username="zhiyuan", role=Role.VOLUNTEER)
    volunteer = VolunteerFactory(station=station, user=user, name="李志愿")
    base = live_server.url

    phone_ctx = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = phone_ctx.new_page()
    _login(phone, base, "zhiyuan")
    phone.goto(f"{base}/v/service-days/")
    stalls = phone.get_by_test_id("stalls").locator(":scope > li")
    # The nearest stall first, with its distance.
    expect(stalls.first).to_contain_text("磨刀配钥匙")
    expect(stalls.first).to_contain_text("公里")
    expect(stalls.nth(1)).to_contain_text("义务理发")
    assert stalls.first.bounding_box()["width"] <= 390
    stalls.first.get_by_role("button", name="报名").click()
    # Landed on my shifts, the stall listed, confirmed.
    mine = phone.get_by_test_id("my-shifts")
    expect(mine).to_contain_text("磨刀配钥匙")
    expect(mine).to_contain_text("月河广场")
    expect(mine).to_contain_text("已确认")
    signup = SignUp.objects.get(volunteer=volunteer)
    assert signup.status == SignUp.Status.CONFIRMED

    # Time passes: the shift has begun when the manager opens the roster.
    Shift.objects.filter(pk=signup.shift_id).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    desk_ctx = browser.new_context(locale="zh-CN")
    desk = desk_ctx.new_page()
    _login(desk, base, station_manager.username)
    desk.goto(f"{base}/service-days/{day.pk}/")
    venue = desk.get_by_test_id("venue").filter(has_text="月河广场")
    expect(venue).to_be_visible()
    # Another station's venue is not on this manager's page.
    expect(desk.locator("body")).not_to_contain_text("新城农贸市场")
    venue.get_by_role("link", name="名单").first.click()
    row = desk.get_by_test_id("roster-row").filter(has_text="李志愿")
    expect(row).to_be_visible()
    # The mobile number is masked on the roster.
    expect(row).not_to_contain_text(volunteer.mobile)
    row.get_by_role("button", name="签到").click()
    row = desk.get_by_test_id("roster-row").filter(has_text="李志愿")
    expect(row.get_by_role("button", name="签退")).to_be_visible()
    signup.refresh_from_db()
    assert signup.checked_in_at is not None and signup.checked_in_by == station_manager
    row.get_by_role("button", name="签退").click()
    expect(desk.get_by_test_id("roster-row").filter(has_text="李志愿")).to_contain_text("0.25")
    entry = HoursEntry.objects.get(volunteer=volunteer)
    assert entry.source == HoursEntry.Source.SERVICE_DAY and entry.hours == Decimal("0.25")
    assert entry.source_ref == f"shift:{signup.shift_id}:volunteer:{signup.volunteer_id}"
    phone_ctx.close()
    desk_ctx.close()
