"""Micro-wish pages: the public wall (masked, no login), a wish's shareable
page, adoption online, "My wishes", the staff pages and their scope, and the
query budgets of the lists (issue 11)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from center.models import AuditEntry, Role
from requests.models import MicroWish, ResidentContact, ResidentSensitive, WishAdoption
from requests.services import wishes as services
from tests.factories import (
    CommunityFactory,
    MicroWishFactory,
    OrganizationFactory,
    ResidentFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers.models import ProviderStatus

S = MicroWish.Status


@pytest.fixture
def family(community):
    """A resident whose name, numbers, address and health facts are known."""
    resident = ResidentFactory(
        community=community,
        name="张三丰",
        address="南湖区建设街道梅湾新村5幢201室",
        phone="13812345678",
    )
    ResidentContact.objects.create(
        resident=resident, name="张小红", relation="女儿", phone="13900009999"
    )
    ResidentSensitive.objects.create(resident=resident, health_notes="高血压，行动不便")
    return resident


@pytest.fixture
def vol_user(station):
    user = UserFactory(username="zhiyuan", role=Role.VOLUNTEER)
    VolunteerFactory(station=station, user=user, name="李志愿")
    return user


def _wish(family, station, **kw):
    kw.setdefault("description", "老人想要一台电饭煲，方便做饭。")
    return MicroWishFactory(resident=family, station=station, **kw)


# --- The wall ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_wall_shows_only_masked_data(client, family, station):
    _wish(family, station, title="一台电饭煲")
    _wish(family, station, title="冬天的棉被", status=S.ADOPTED)
    _wish(family, station, title="一副老花镜", status=S.CONFIRMED)
    _wish(family, station, title="草稿心愿", status=S.DRAFT)
    _wish(family, station, title="待发布心愿", status=S.VERIFIED)
    _wish(family, station, title="已撤回心愿", status=S.WITHDRAWN)
    response = client.get(reverse("requests:wish_wall"))
    assert response.status_code == 200
    body = response.content.decode()
    for secret in (
        "张三丰",
        "13812345678",
        "138****5678",
        "5678",
        "13900009999",
        "张小红",
        "梅湾新村",
        "5幢201室",
        "高血压",
        "行动不便",
    ):
        assert secret not in body, secret
    assert "张**" in body and family.community.name in body
    assert "一台电饭煲" in body and "冬天的棉被" in body and "一副老花镜" in body
    for hidden in ("草稿心愿", "待发布心愿", "已撤回心愿"):
        assert hidden not in body
    with translation.override("en"):
        body = client.get(reverse("requests:wish_wall"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Published first; then 已认领 (adopted) and 已实现 (fulfilled) badges.
    assert body.index("一台电饭煲") < body.index("冬天的棉被")
    assert "Adopted" in body and "Fulfilled" in body


@pytest.mark.django_db
def test_wall_filters_by_district_community_and_kind(client, family, station):
    _wish(family, station, title="电饭煲", kind=MicroWish.Kind.GOODS)
    _wish(family, station, title="陪伴聊天", kind=MicroWish.Kind.COMPANY)
    elsewhere = ResidentFactory(community=CommunityFactory())
    MicroWishFactory(resident=elsewhere, station=station, title="别处的心愿")
    url = reverse("requests:wish_wall")
    body = client.get(url, {"kind": "company"}).content.decode()
    assert "陪伴聊天" in body and "电饭煲" not in body
    district = family.community.parent.parent
    body = client.get(url, {"district": district.pk}).content.decode()
    assert "电饭煲" in body and "别处的心愿" not in body
    body = client.get(
        url, {"district": district.pk, "community": family.community.pk, "kind": "goods"}
    ).content.decode()
    assert "电饭煲" in body and "陪伴聊天" not in body and "别处的心愿" not in body
    # Nonsense filters: the whole wall, no error.
    assert client.get(url, {"district": "x", "community": "99999"}).status_code == 200


@pytest.mark.django_db
def test_rolled_over_wishes_come_first(client, family, station):
    _wish(family, station, title="先到期", deadline=timezone.localdate())
    _wish(family, station, title="第二轮", priority=True, round=2)
    body = client.get(reverse("requests:wish_wall")).content.decode()
    assert body.index("第二轮") < body.index("先到期")


@pytest.mark.django_db
def test_wall_query_count_is_constant(client, family, station, django_assert_num_queries):
    def load():
        with django_assert_num_queries(4):
            # districts for the filter, count of waiting wishes (capped),
            # the page of waiting wishes (+resident, community, district),
            # the latest adopted/fulfilled
            assert client.get(reverse("requests:wish_wall")).status_code == 200

    for status in (S.PUBLISHED, S.ADOPTED):
        _wish(family, station, status=status)
    load()
    for i in range(8):
        _wish(family, station, status=(S.PUBLISHED, S.FULFILLED)[i % 2])
    load()


@pytest.mark.django_db
def test_wall_with_a_district_reads_its_communities_once(
    client, family, station, django_assert_num_queries
):
    _wish(family, station)
    with django_assert_num_queries(5):
        # districts, the district's communities, count, page, adopted/fulfilled
        client.get(reverse("requests:wish_wall"), {"district": family.community.parent.parent_id})


# --- A wish's shareable page -----------------------------------------------------------------


@pytest.mark.django_db
def test_public_page_is_masked_and_404_off_the_wall(client, family, station):
    wish = _wish(family, station, title="一台电饭煲")
    body = client.get(reverse("requests:wish_public", args=[wish.pk])).content.decode()
    assert "一台电饭煲" in body and "张**" in body
    assert "张三丰" not in body and "13812345678" not in body and "梅湾新村" not in body
    assert 'data-testid="wish-login"' in body  # anonymous: sign in to adopt
    for status in (S.DRAFT, S.VERIFIED, S.WITHDRAWN):
        hidden = _wish(family, station, status=status)
        assert client.get(reverse("requests:wish_public", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("requests:wish_public", args=[999999])).status_code == 404


# --- Adoption online -------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_adoption_goes_to_login_and_back(client, family, station):
    wish = _wish(family, station)
    response = client.post(reverse("requests:wish_adopt", args=[wish.pk]), {"shares": "1"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert f"next=/wishes/{wish.pk}/" in response.url
    assert not WishAdoption.objects.exists()


@pytest.mark.django_db
def test_volunteer_adopts_from_the_wish_page(login, family, station, vol_user):
    wish = _wish(family, station, shares=3, estimated_cost=Decimal("900"))
    client = login(vol_user)
    page = client.get(reverse("requests:wish_public", args=[wish.pk])).content.decode()
    assert 'data-testid="adopt-form"' in page and 'name="shares"' in page
    response = client.post(
        reverse("requests:wish_adopt", args=[wish.pk]), {"shares": "2", "is_remote": "1"}
    )
    assert response.status_code == 302 and response.url == reverse("requests:my_wishes")
    adoption = WishAdoption.objects.get()
    assert (adoption.shares, adoption.amount, adoption.is_remote) == (2, Decimal("600.00"), True)
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED and wish.shares_left == 1
    # A second adoption by the same volunteer is refused with a message.
    response = client.post(
        reverse("requests:wish_adopt", args=[wish.pk]), {"shares": "1"}, follow=True
    )
    assert WishAdoption.objects.count() == 1
    assert list(response.context["messages"])


@pytest.mark.django_db
def test_sanctioned_volunteer_is_told_and_nothing_changes(login, family, station):
    user = UserFactory(role=Role.VOLUNTEER)
    VolunteerFactory(
        station=station,
        user=user,
        name="受罚志愿者",
        status=ProviderStatus.SUSPENDED,
        suspended_until=timezone.localdate() + datetime.timedelta(days=30),
    )
    wish = _wish(family, station)
    response = login(user).post(
        reverse("requests:wish_adopt", args=[wish.pk]), {"shares": "1"}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("受罚志愿者" in m for m in messages)
    assert not WishAdoption.objects.exists()


@pytest.mark.django_db
def test_only_volunteers_adopt_online(login, family, station, outsider, operator):
    wish = _wish(family, station)
    for user in (outsider, operator):
        client = login(user)
        assert client.post(reverse("requests:wish_adopt", args=[wish.pk])).status_code == 403
    assert not WishAdoption.objects.exists()


# --- My wishes -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_wishes_contact_then_fulfil(login, family, station, vol_user):
    wish = _wish(family, station, title="一台电饭煲")
    volunteer = vol_user.volunteer
    services.wish_adopt(actor=vol_user, wish=wish, volunteer=volunteer)
    client = login(vol_user)
    body = client.get(reverse("requests:my_wishes")).content.decode()
    assert "一台电饭煲" in body and 'data-testid="contact-due"' in body
    assert "张三丰" not in body and "13812345678" not in body
    client.post(reverse("requests:my_wish_step", args=[wish.pk, "contact"]))
    wish.refresh_from_db()
    assert wish.status == S.CONTACTED
    body = client.get(reverse("requests:my_wishes")).content.decode()
    assert 'data-testid="fulfil-form"' in body
    client.post(reverse("requests:my_wish_step", args=[wish.pk, "fulfil"]), {"note": "送到家了"})
    wish.refresh_from_db()
    assert wish.status == S.FULFILLED and wish.fulfilment_note == "送到家了"


@pytest.mark.django_db
def test_my_wishes_refuses_others_wishes(login, family, station, vol_user, outsider, client):
    other = VolunteerFactory(station=station)
    wish = _wish(family, station)
    services.wish_adopt(actor=None, wish=wish, volunteer=other)
    c = login(vol_user)
    assert c.post(reverse("requests:my_wish_step", args=[wish.pk, "contact"])).status_code == 404
    assert _status(wish) == S.ADOPTED
    c = login(outsider)
    assert c.get(reverse("requests:my_wishes")).status_code == 403
    c.logout()
    response = c.get(reverse("requests:my_wishes"))
    assert response.status_code == 302 and reverse("login") in response.url


def _status(wish):
    wish.refresh_from_db()
    return wish.status


@pytest.mark.django_db
def test_my_wishes_query_count_is_constant(
    login, family, station, vol_user, django_assert_num_queries
):
    client = login(vol_user)
    volunteer = vol_user.volunteer

    def load():
        with django_assert_num_queries(4):
            # session, user, the volunteer, the adoptions (+wish, community,
            # district, station); the inbox badge comes later by htmx
            assert client.get(reverse("requests:my_wishes")).status_code == 200

    services.wish_adopt(actor=vol_user, wish=_wish(family, station), volunteer=volunteer)
    load()
    for _ in range(5):
        services.wish_adopt(actor=vol_user, wish=_wish(family, station), volunteer=volunteer)
    load()


# --- Staff ----------------------------------------------------------------------------------------


@pytest.fixture
def other_manager(other_station):
    return UserFactory(role=Role.STATION_MANAGER, stations=[other_station])


@pytest.mark.django_db
def test_staff_create_verify_publish(login, family, station_manager, station):
    client = login(station_manager)
    url = reverse("requests:wish_create") + f"?resident={family.pk}"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "title": "一台电饭煲",
            "kind": "goods",
            "description": "做饭方便",
            "estimated_cost": "200",
            "shares": "2",
            "deadline": (timezone.localdate() + datetime.timedelta(days=20)).isoformat(),
            "source": "visit",
        },
    )
    wish = MicroWish.objects.get()
    assert response.status_code == 302 and response.url == wish.get_absolute_url()
    assert wish.status == S.DRAFT and wish.created_by == station_manager
    page = client.get(wish.get_absolute_url()).content.decode()
    assert 'data-testid="verify-button"' in page and 'data-testid="publish-button"' not in page
    client.post(reverse("requests:wish_step", args=[wish.pk, "verify"]))
    page = client.get(wish.get_absolute_url()).content.decode()
    assert 'data-testid="publish-button"' in page and 'data-testid="verify-button"' not in page
    client.post(reverse("requests:wish_step", args=[wish.pk, "publish"]))
    assert _status(wish) == S.PUBLISHED
    # An organization adopts through the staff page.
    org = OrganizationFactory(name="嘉兴市供电公司")
    client.post(
        reverse("requests:wish_step", args=[wish.pk, "adopt"]),
        {"organization": org.pk, "shares": "2", "amount": ""},
    )
    wish.refresh_from_db()
    assert wish.status == S.ADOPTED and wish.pledged_total == Decimal("200.00")
    assert wish.adoptions.get().acted_by == station_manager


@pytest.mark.django_db
def test_create_refuses_a_bad_form_and_writes_nothing(login, family, station_manager):
    client = login(station_manager)
    url = reverse("requests:wish_create") + f"?resident={family.pk}"
    response = client.post(url, {"title": "", "kind": "goods", "shares": "0"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not MicroWish.objects.exists()
    assert client.post(reverse("requests:wish_create"), {"title": "x"}).status_code == 404


@pytest.mark.django_db
def test_create_refuses_a_phone_number_in_the_public_text(login, family, station_manager):
    client = login(station_manager)
    response = client.post(
        reverse("requests:wish_create") + f"?resident={family.pk}",
        {
            "title": "一台电饭煲",
            "kind": "goods",
            "description": "联系女儿 139 1234 5678",
            "estimated_cost": "200",
            "shares": "1",
            "deadline": (timezone.localdate() + datetime.timedelta(days=20)).isoformat(),
            "source": "visit",
        },
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["description"]
    assert not MicroWish.objects.exists()


@pytest.mark.django_db
def test_an_absurd_organization_pledge_is_a_form_error_not_a_500(
    login, family, station, station_manager
):
    wish = _wish(family, station, shares=2)
    client = login(station_manager)
    org = OrganizationFactory()
    url = reverse("requests:wish_step", args=[wish.pk, "adopt"])
    for amount in ("99999999.99", "1000000", "1e12"):
        response = client.post(url, {"organization": org.pk, "shares": "1", "amount": amount})
        assert response.status_code == 302, amount
        assert list(response.wsgi_request._messages), amount  # the form's error, told
    wish.refresh_from_db()
    assert (wish.shares_taken, wish.pledged_total) == (0, Decimal("0"))
    assert not wish.adoptions.exists()
    client.post(url, {"organization": org.pk, "shares": "1", "amount": "999999.99"})
    wish.refresh_from_db()
    assert wish.pledged_total == Decimal("999999.99")


@pytest.mark.django_db
def test_new_wish_starts_by_finding_the_resident_in_scope(login, family, station_manager):
    ResidentFactory(name="张三别处", community=CommunityFactory())  # not this manager's
    client = login(station_manager)
    body = client.get(reverse("requests:wish_create")).content.decode()
    assert 'name="q"' in body
    body = client.get(reverse("requests:wish_create"), {"q": "张三"}).content.decode()
    assert f"?resident={family.pk}" in body and "张三别处" not in body


@pytest.mark.django_db
def test_staff_update_a_draft(login, family, station, station_manager):
    wish = _wish(family, station, status=S.DRAFT)
    client = login(station_manager)
    url = reverse("requests:wish_update", args=[wish.pk])
    assert client.get(url).status_code == 200
    client.post(
        url,
        {
            "title": "改过的心愿",
            "kind": "service",
            "estimated_cost": "50",
            "shares": "1",
            "deadline": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
        },
    )
    wish.refresh_from_db()
    assert (wish.title, wish.kind) == ("改过的心愿", "service")


@pytest.mark.django_db
def test_staff_withdraw_needs_a_reason(login, family, station, station_manager):
    wish = _wish(family, station)
    client = login(station_manager)
    client.post(reverse("requests:wish_step", args=[wish.pk, "withdraw"]), {"reason": ""})
    assert _status(wish) == S.PUBLISHED
    client.post(reverse("requests:wish_step", args=[wish.pk, "withdraw"]), {"reason": "已解决"})
    assert _status(wish) == S.WITHDRAWN


@pytest.mark.django_db
def test_overdue_list_and_release(login, family, station, station_manager, vol_user):
    wish = _wish(family, station, title="超期的心愿")
    on_time = _wish(family, station, title="按时的心愿")
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer)
    services.wish_adopt(actor=None, wish=on_time, volunteer=vol_user.volunteer)
    MicroWish.objects.filter(pk=wish.pk).update(
        contact_due_at=timezone.now() - datetime.timedelta(days=1)
    )
    client = login(station_manager)
    body = client.get(reverse("requests:wish_overdue")).content.decode()
    assert "超期的心愿" in body and "按时的心愿" not in body
    # The on-time adoption cannot be released.
    client.post(reverse("requests:wish_step", args=[on_time.pk, "release"]))
    assert _status(on_time) == S.ADOPTED
    response = client.post(
        reverse("requests:wish_step", args=[wish.pk, "release"]), {"next": "overdue"}
    )
    assert response.url == reverse("requests:wish_overdue")
    assert _status(wish) == S.PUBLISHED
    assert "超期的心愿" not in client.get(reverse("requests:wish_overdue")).content.decode()


@pytest.mark.django_db
def test_station_manager_confirms_after_fulfilment(
    login, family, station, station_manager, vol_user
):
    wish = _wish(family, station)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer)
    services.wish_contact(actor=None, wish=wish, volunteer=vol_user.volunteer)
    services.wish_fulfil(actor=None, wish=wish, volunteer=vol_user.volunteer, note="送到了")
    client = login(station_manager)
    page = client.get(wish.get_absolute_url()).content.decode()
    assert 'data-testid="confirm-button"' in page and "送到了" in page
    client.post(reverse("requests:wish_step", args=[wish.pk, "confirm"]))
    assert _status(wish) == S.CONFIRMED


@pytest.mark.django_db
def test_campaign_counts_this_month(login, family, station, station_manager, vol_user):
    now = timezone.now()
    _wish(family, station, published_at=now)
    adopted = _wish(family, station, published_at=now)
    services.wish_adopt(actor=None, wish=adopted, volunteer=vol_user.volunteer)
    _wish(family, station, status=S.FULFILLED, published_at=now, adopted_at=now, fulfilled_at=now)
    last_year = now - datetime.timedelta(days=400)
    _wish(family, station, status=S.CONFIRMED, published_at=last_year, fulfilled_at=last_year)
    ctx = login(station_manager).get(reverse("requests:wish_list")).context
    assert ctx["campaign"] == {"published": 3, "adopted": 2, "fulfilled": 1, "waiting": 1}


@pytest.mark.django_db
def test_scope_outsider_and_other_station_manager(
    client, login, family, station, outsider, other_manager, other_station
):
    wish = _wish(family, station, title="甲站的心愿", status=S.DRAFT)
    theirs = MicroWishFactory(
        resident=ResidentFactory(community=CommunityFactory()),
        station=other_station,
        title="乙站的心愿",
    )
    c = login(outsider)
    for url in (
        reverse("requests:wish_list"),
        reverse("requests:wish_overdue"),
        reverse("requests:wish_detail", args=[wish.pk]),
        reverse("requests:wish_create") + f"?resident={family.pk}",
    ):
        assert c.get(url).status_code == 403, url
    assert c.post(reverse("requests:wish_step", args=[wish.pk, "verify"])).status_code == 403
    c = login(other_manager)
    for url in (
        reverse("requests:wish_detail", args=[wish.pk]),
        reverse("requests:wish_update", args=[wish.pk]),
        reverse("requests:wish_create") + f"?resident={family.pk}",
    ):
        assert c.get(url).status_code == 404, url
    assert c.post(reverse("requests:wish_step", args=[wish.pk, "verify"])).status_code == 404
    assert _status(wish) == S.DRAFT
    body = c.get(reverse("requests:wish_list")).content.decode()
    assert "乙站的心愿" in body and "甲站的心愿" not in body
    assert c.get(reverse("requests:wish_detail", args=[theirs.pk])).status_code == 200


@pytest.mark.django_db
def test_staff_list_query_count_is_constant(
    login, family, station, station_manager, django_assert_num_queries
):
    client = login(station_manager)

    def load():
        with django_assert_num_queries(6):
            # session, user, the manager's stations, count (capped), the page
            # (+resident, community, station), the campaign aggregate
            assert client.get(reverse("requests:wish_list")).status_code == 200

    _wish(family, station)
    load()
    for status in (S.DRAFT, S.ADOPTED, S.FULFILLED, S.PUBLISHED, S.WITHDRAWN, S.CONFIRMED):
        _wish(family, station, status=status)
    load()


@pytest.mark.django_db
def test_overdue_list_query_count_is_constant(
    login, family, station, station_manager, django_assert_num_queries
):
    client = login(station_manager)
    past = timezone.now() - datetime.timedelta(days=1)

    def load():
        with django_assert_num_queries(6):
            # session, user, the manager's stations, count (capped), the page,
            # the page's active adoptions (+volunteer, organization)
            assert client.get(reverse("requests:wish_overdue")).status_code == 200

    def overdue(**kw):
        wish = _wish(family, station, **kw)
        services.wish_adopt(actor=None, wish=wish, volunteer=VolunteerFactory(station=station))
        MicroWish.objects.filter(pk=wish.pk).update(contact_due_at=past)

    overdue()
    load()
    for _ in range(5):
        overdue(shares=1)
    org_wish = _wish(family, station)
    services.wish_adopt(actor=station_manager, wish=org_wish, organization=OrganizationFactory())
    MicroWish.objects.filter(pk=org_wish.pk).update(contact_due_at=past)
    load()


@pytest.mark.django_db
def test_staff_name_a_deliverer_for_a_remote_adoption(login, family, station, station_manager):
    wish = _wish(family, station)
    donor = VolunteerFactory(station=station)
    near = VolunteerFactory(station=station, community=family.community, name="隔壁志愿者")
    adoption = services.wish_adopt(actor=None, wish=wish, volunteer=donor, is_remote=True)
    client = login(station_manager)
    page = client.get(wish.get_absolute_url()).content.decode()
    assert "隔壁志愿者" in page
    client.post(
        reverse("requests:wish_step", args=[wish.pk, "deliverer"]),
        {"adoption": adoption.pk, "deliverer": near.pk},
    )
    adoption.refresh_from_db()
    assert adoption.deliverer == near
    # A volunteer who is not a candidate (another station's) is refused.
    stranger = VolunteerFactory()
    client.post(
        reverse("requests:wish_step", args=[wish.pk, "deliverer"]),
        {"adoption": adoption.pk, "deliverer": stranger.pk},
    )
    adoption.refresh_from_db()
    assert adoption.deliverer == near


@pytest.mark.django_db
def test_photo_publishable_toggle_needs_a_photo(login, family, station, station_manager):
    wish = _wish(family, station)
    client = login(station_manager)
    response = client.post(
        reverse("requests:wish_step", args=[wish.pk, "photo"]), {"publishable": "1"}, follow=True
    )
    wish.refresh_from_db()
    assert not wish.photo_publishable and list(response.context["messages"])


@pytest.mark.django_db
def test_unknown_step_is_404(login, family, station, station_manager, vol_user):
    wish = _wish(family, station)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer)
    assert (
        login(station_manager)
        .post(reverse("requests:wish_step", args=[wish.pk, "explode"]))
        .status_code
        == 404
    )
    assert (
        login(vol_user)
        .post(reverse("requests:my_wish_step", args=[wish.pk, "confirm"]))
        .status_code
        == 404
    )
    assert _status(wish) == S.ADOPTED


@pytest.mark.django_db
def test_back_office_lists_wishes_and_changes_them_through_services(
    login, family, station, center_manager
):
    wish = _wish(family, station, status=S.DRAFT)
    client = login(center_manager)
    assert client.get(reverse("admin:requests_microwish_changelist")).status_code == 200
    assert client.get(reverse("admin:requests_microwish_change", args=[wish.pk])).status_code == 200
    assert client.get(reverse("admin:requests_wishadoption_changelist")).status_code == 200
    client.post(
        reverse("admin:requests_microwish_changelist"),
        {"action": "wish_verify", "_selected_action": [wish.pk]},
    )
    assert _status(wish) == S.VERIFIED
    assert AuditEntry.objects.filter(action="requests.wish.verify", actor=center_manager).exists()


@pytest.mark.django_db
def test_hostile_input_never_500_and_never_half_saves(login, family, station, station_manager):
    from tests.test_fuzz_forms import HOSTILE

    client = login(station_manager)
    url = reverse("requests:wish_create") + f"?resident={family.pk}"
    valid = {
        "title": "电饭煲",
        "kind": "goods",
        "description": "",
        "estimated_cost": "200",
        "shares": "2",
        "deadline": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
        "source": "visit",
    }
    wish = _wish(family, station, shares=3)
    vol = VolunteerFactory(station=station, user=UserFactory(role=Role.VOLUNTEER))
    for field in valid:
        for value in HOSTILE:
            before = MicroWish.objects.count()
            response = client.post(url, {**valid, field: value})
            assert response.status_code < 500, (field, value)
            if response.status_code == 200:  # refused: the form again, nothing saved
                assert MicroWish.objects.count() == before, (field, value)
    adopter = login(vol.user)
    for value in HOSTILE:
        response = adopter.post(
            reverse("requests:wish_adopt", args=[wish.pk]), {"shares": value, "is_remote": value}
        )
        assert response.status_code < 500, value
    wish.refresh_from_db()
    assert wish.shares_taken <= wish.shares


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_walls_done_section_reads_the_recent_index(family, station):
    """Newest adopted / fulfilled first: the partial index wish_recent (its
    condition is the selector's DONE), not the primary key scanned back past
    every wish still waiting."""
    from django.db import connection

    from requests.selectors import wishes as wish_selectors

    index = next(i for i in MicroWish._meta.indexes if i.name == "wish_recent")
    assert set(dict(index.condition.children)["status__in"]) == set(wish_selectors.DONE)
    for status in (S.CONFIRMED, S.ADOPTED, *[S.PUBLISHED] * 20):
        _wish(family, station, status=status)
    with connection.cursor() as cursor:
        # A few rows: the planner would sort them in memory; as at scale, it
        # must then choose between the indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    rows = wish_selectors._public_rows({"status__in": wish_selectors.DONE}).order_by("-id")[:12]
    assert "wish_recent" in rows.explain()
