"""Issue 11's micro-wish journey: a visitor browses the wish wall on a phone,
signs in as a volunteer from a wish's page, adopts it, says the family was
contacted and records the fulfilment; the station manager confirms it."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from center.models import Role
from requests.models import MicroWish
from tests.factories import (
    PASSWORD,
    CommunityFactory,
    MicroWishFactory,
    ResidentFactory,
    UserFactory,
    VolunteerFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_adopts_on_a_phone_and_the_station_confirms(
    live_server, browser, station, station_manager
):
    community = CommunityFactory(name="梅湾社区")
    station.communities.add(community)
    resident = ResidentFactory(
        community=community, name="张三丰", address="梅湾新村5幢201室", phone="13812345678"
    )
    wish = MicroWishFactory(
        resident=resident,
        station=station,
        title="一台电饭煲",
        description="老人想自己做饭。",
        estimated_cost=Decimal("200"),
    )
    MicroWishFactory(resident=resident, station=station, title="草稿心愿", status="draft")
    user = UserFactory(username="zhiyuan", role=Role.VOLUNTEER)
    VolunteerFactory(station=station, user=user, name="李志愿")
    base = live_server.url

    phone_ctx = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = phone_ctx.new_page()
    phone.goto(f"{base}/wishes/")
    card = phone.get_by_test_id("wish-card").filter(has_text="一台电饭煲")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("wish-who")).to_contain_text("张**")
    expect(phone.locator("body")).not_to_contain_text("张三丰")
    expect(phone.locator("body")).not_to_contain_text("草稿心愿")
    # The card fits the phone's width (mobile-first: one column).
    assert card.bounding_box()["width"] <= 390
    # Choosing the district reloads the wall with its communities to choose from.
    phone.locator("#id_district").select_option(str(community.parent.parent_id))
    phone.locator("#id_community").select_option(str(community.pk))
    phone.get_by_test_id("wall-filters").locator("button[type=submit]").click()
    assert f"community={community.pk}" in phone.url
    card = phone.get_by_test_id("wish-card").filter(has_text="一台电饭煲")
    expect(card).to_be_visible()
    card.get_by_role("link", name="一台电饭煲").click()
    expect(phone.get_by_test_id("wish-public")).to_contain_text("老人想自己做饭")
    phone.get_by_test_id("wish-login").click()
    phone.get_by_label("手机号或用户名").fill("zhiyuan")
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    # Back on the wish's page, signed in: adopt it.
    expect(phone.get_by_test_id("adopt-form")).to_be_visible()
    assert phone.url.endswith(f"/wishes/{wish.pk}/")
    phone.get_by_test_id("adopt-button").click()
    mine = phone.get_by_test_id("my-wish").filter(has_text="一台电饭煲")
    expect(mine).to_be_visible()
    expect(mine.get_by_test_id("contact-due")).to_be_visible()
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.ADOPTED
    mine.get_by_test_id("contact-button").click()
    form = phone.get_by_test_id("fulfil-form")
    expect(form).to_be_visible()
    form.locator("textarea[name=note]").fill("买了电饭煲送到家，教会了老人使用。")
    form.locator("input[name=spent]").fill("189")
    form.get_by_test_id("fulfil-button").click()
    expect(phone.get_by_test_id("my-wish-status")).not_to_have_text("")
    expect(phone.get_by_test_id("fulfil-form")).to_have_count(0)
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.FULFILLED and wish.spent_total == Decimal("189")
    phone_ctx.close()

    desk = browser.new_context(locale="zh-CN").new_page()
    desk.goto(f"{base}/accounts/login/")
    desk.get_by_label("手机号或用户名").fill(station_manager.username)
    desk.get_by_label("密码").fill(PASSWORD)
    desk.get_by_role("button", name="登录").click()
    desk.goto(f"{base}/wishes/manage/")
    desk.get_by_test_id("wish-table").get_by_role("link", name="一台电饭煲").click()
    expect(desk.get_by_test_id("fulfilment-note")).to_contain_text("买了电饭煲")
    desk.get_by_test_id("confirm-button").click()
    expect(desk.get_by_test_id("confirm-button")).to_have_count(0)
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.CONFIRMED
    # The wall now shows it as fulfilled.
    desk.goto(f"{base}/wishes/")
    expect(
        desk.get_by_test_id("wall-done").get_by_test_id("wish-card").filter(has_text="一台电饭煲")
    ).to_be_visible()


def test_wish_pages_have_no_serious_accessibility_violation(
    live_server, browser, station, station_manager
):
    """axe over the wish pages (the sweep's check covers the staff pages too;
    this one adds the public wall and a wish's page, and the states)."""
    from django.urls import reverse

    from requests.services import wishes as services
    from tests.browser.test_accessibility import AXE, _check, _report

    community = CommunityFactory(name="梅湾社区")
    station.communities.add(community)
    resident = ResidentFactory(community=community, name="王奶奶")
    user = UserFactory(username="zhiyuan2", role=Role.VOLUNTEER)
    volunteer = VolunteerFactory(station=station, user=user)
    waiting = MicroWishFactory(resident=resident, station=station, shares=3, priority=True)
    adopted = MicroWishFactory(resident=resident, station=station)
    services.wish_adopt(actor=user, wish=adopted, volunteer=volunteer)
    contacted = MicroWishFactory(resident=resident, station=station)
    services.wish_adopt(actor=user, wish=contacted, volunteer=volunteer, is_remote=True)
    services.wish_contact(actor=user, wish=contacted, volunteer=volunteer)
    draft = MicroWishFactory(resident=resident, station=station, status="draft")
    base, found = live_server.url, {}
    pages = {
        None: [
            reverse("requests:wish_wall"),
            reverse("requests:wish_public", args=[waiting.pk]),
        ],
        user: [reverse("requests:my_wishes"), reverse("requests:wish_public", args=[waiting.pk])],
        station_manager: [
            reverse("requests:wish_list"),
            reverse("requests:wish_overdue"),
            reverse("requests:wish_create") + f"?resident={resident.pk}",
            reverse("requests:wish_detail", args=[draft.pk]),
            reverse("requests:wish_detail", args=[waiting.pk]),
            reverse("requests:wish_detail", args=[contacted.pk]),
            reverse("requests:wish_update", args=[draft.pk]),
        ],
    }
    for locale in ("zh-CN", "en-US"):
        for who, urls in pages.items():
            context = browser.new_context(
                locale=locale, viewport={"width": 390, "height": 844}, is_mobile=True
            )
            context.add_init_script(AXE.axe_script)
            page = context.new_page()
            if who is not None:
                page.goto(f"{base}/accounts/login/")
                page.locator("#id_username").fill(who.username)
                page.locator("#id_password").fill(PASSWORD)
                page.locator("main form button[type=submit]").click()
                page.wait_for_url(lambda url: "/accounts/login/" not in url)
            for url in urls:
                assert page.goto(f"{base}{url}").ok, url
                _check(page, f"{locale} {url}", found)
            context.close()
    assert not found, _report(found)
