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


def _sign_in(context, base, user):
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def test_station_calls_releases_after_confirming_and_picks_a_deliverer_on_a_phone(
    live_server, browser, station, station_manager
):
    """The overdue list says whom to call (masked) and how late; releasing asks
    first; the deliverer picker chooses nobody and tells namesakes apart."""
    import datetime

    from django.utils import timezone

    from requests.services import wishes as services

    community = CommunityFactory(name="梅湾社区")
    station.communities.add(community)
    resident = ResidentFactory(community=community)
    late = MicroWishFactory(resident=resident, station=station, title="超期的心愿")
    adopter = VolunteerFactory(
        station=station, name="赵志愿", volunteer_no="JX300000001", mobile="13912345678"
    )
    services.wish_adopt(actor=None, wish=late, volunteer=adopter)
    MicroWish.objects.filter(pk=late.pk).update(
        contact_due_at=timezone.now() - datetime.timedelta(days=2, hours=1)
    )
    remote = MicroWishFactory(resident=resident, station=station, title="远程的心愿")
    adoption = services.wish_adopt(actor=None, wish=remote, volunteer=adopter, is_remote=True)
    VolunteerFactory(station=station, name="刘坤", volunteer_no="JX200000001")
    near = VolunteerFactory(
        station=station, name="刘坤", volunteer_no="JX200000002", community=community
    )
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = _sign_in(context, live_server.url, station_manager)

    page.goto(f"{live_server.url}/wishes/manage/overdue/")
    row = page.get_by_test_id("overdue-table").locator("tr").filter(has_text="超期的心愿")
    expect(row.get_by_test_id("overdue-adopters")).to_contain_text("赵志愿 · JX300000001")
    expect(row.get_by_test_id("overdue-adopters")).to_contain_text("139****5678")
    expect(row).not_to_contain_text("13912345678")
    expect(row.get_by_test_id("days-overdue")).to_contain_text("2")
    # The release button shows only once the confirmation is opened.
    expect(row.get_by_test_id("release-button")).to_be_hidden()
    row.get_by_test_id("release-confirm").locator("summary").click()
    row.get_by_test_id("release-button").click()
    expect(page.get_by_test_id("overdue-table")).not_to_contain_text("超期的心愿")
    late.refresh_from_db()
    assert late.status == MicroWish.Status.PUBLISHED

    page.goto(f"{live_server.url}{remote.get_absolute_url()}")
    picker = page.locator("select[name=deliverer]")
    expect(picker).to_have_value("")
    picker.locator("xpath=ancestor::form").locator("button").click()
    # Nothing chosen: the browser asks for a choice, nothing is saved.
    assert picker.evaluate("el => el.validity.valueMissing")
    adoption.refresh_from_db()
    assert adoption.deliverer is None
    expect(picker.locator("option", has_text="JX200000001")).to_have_count(1)
    picker.select_option(label=picker.locator("option", has_text="JX200000002").inner_text())
    picker.locator("xpath=ancestor::form").locator("button").click()
    expect(page.locator("select[name=deliverer]")).to_have_count(1)
    adoption.refresh_from_db()
    assert adoption.deliverer == near
    context.close()


def test_a_rejected_photo_keeps_what_the_volunteer_typed(live_server, browser, station, tmp_path):
    from requests.services import wishes as services

    community = CommunityFactory()
    station.communities.add(community)
    wish = MicroWishFactory(
        resident=ResidentFactory(community=community), station=station, title="一台电饭煲"
    )
    user = UserFactory(username="zhiyuan3", role=Role.VOLUNTEER)
    volunteer = VolunteerFactory(station=station, user=user)
    services.wish_adopt(actor=None, wish=wish, volunteer=volunteer)
    services.wish_contact(actor=None, wish=wish, volunteer=volunteer)
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"not a picture")
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = _sign_in(context, live_server.url, user)
    page.goto(f"{live_server.url}/v/wishes/")
    form = page.get_by_test_id("fulfil-form")
    form.locator("textarea[name=note]").fill("买了电饭煲送到家")
    form.locator("input[name=spent]").fill("189")
    form.locator("input[name=photo]").set_input_files(str(fake))
    form.get_by_test_id("fulfil-button").click()
    form = page.get_by_test_id("fulfil-form")
    expect(form.get_by_test_id("fulfil-errors")).to_be_visible()
    expect(form.locator("textarea[name=note]")).to_have_value("买了电饭煲送到家")
    expect(form.locator("input[name=spent]")).to_have_value("189")
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.CONTACTED
    context.close()
