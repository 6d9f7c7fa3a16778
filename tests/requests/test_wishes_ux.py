"""What a new user's walkthrough of the wish pages found (zh-hans, a phone):
the deliverer picker, dead ends on the wall, the overdue list, the station's
phone, a rejected photo, dates, the wall's community filter, and shared
wishes' fulfilment."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from center.models import Role
from requests.models import MicroWish, WishAdoption
from requests.services import wishes as services
from requests.views.wishes import STEP_DONE
from tests.factories import (
    CommunityFactory,
    MerchantFactory,
    MicroWishFactory,
    OrganizationFactory,
    ResidentFactory,
    StationFactory,
    StreetFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers.models import ProviderStatus

S = MicroWish.Status


@pytest.fixture
def family(community):
    return ResidentFactory(community=community, name="张三丰", phone="13812345678")


@pytest.fixture
def vol_user(station):
    user = UserFactory(username="zhiyuan", role=Role.VOLUNTEER)
    VolunteerFactory(station=station, user=user, name="李志愿")
    return user


@pytest.fixture
def other_manager(other_station):
    return UserFactory(role=Role.STATION_MANAGER, stations=[other_station])


def _wish(family, station, **kw):
    return MicroWishFactory(resident=family, station=station, **kw)


def _zh(text) -> str:
    with translation.override("zh-hans"):
        return str(text)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _select(body: str, name: str) -> str:
    return re.search(rf'<select name="{name}"[^>]*>.*?</select>', body, re.S).group(0)


# --- 1. The deliverer of a remote adoption ------------------------------------------------------


@pytest.mark.django_db
def test_deliverer_picker_preselects_nobody_and_tells_namesakes_apart(
    login, family, station, station_manager, other_manager
):
    wish = _wish(family, station)
    donor = VolunteerFactory(station=station, name="王捐赠", volunteer_no="JX100000001")
    adoption = services.wish_adopt(actor=None, wish=wish, volunteer=donor, is_remote=True)
    far = VolunteerFactory(station=station, name="刘坤", volunteer_no="JX200000001")
    near = VolunteerFactory(
        station=station, name="刘坤", volunteer_no="JX200000002", community=family.community
    )
    client = login(station_manager)
    body = client.get(wish.get_absolute_url()).content.decode()
    select = _select(body, "deliverer")
    # Nothing chosen for the manager: an empty first option, required.
    assert re.search(r'<select name="deliverer"[^>]*\brequired\b', select)
    first = re.search(r"<option[^>]*>", select).group(0)
    assert 'value=""' in first and select.count("selected") == first.count("selected") <= 1
    # Namesakes read apart: name · volunteer number · station; the one
    # living in the family's community comes first.
    assert f"刘坤 · JX200000002 · {station.name}" in select
    assert f"刘坤 · JX200000001 · {station.name}" in select
    assert select.index("JX200000002") < select.index("JX200000001")
    # The adoption served is named (whose, how much), not a bare "认领".
    form = client.get(wish.get_absolute_url()).context["deliverer_form"]
    with translation.override("en"):
        assert str(form.fields["adoption"].label) == "Remote adoption to deliver"
    assert "王捐赠 · JX100000001" in dict(form.fields["adoption"].choices)[adoption.pk]
    # Saving without choosing is refused and names nobody.
    url = reverse("requests:wish_step", args=[wish.pk, "deliverer"])
    response = client.post(url, {"adoption": adoption.pk, "deliverer": ""}, follow=True)
    adoption.refresh_from_db()
    assert adoption.deliverer is None and _messages(response)
    # Another station's manager cannot name one.
    assert (
        login(other_manager).post(url, {"adoption": adoption.pk, "deliverer": far.pk}).status_code
        == 404
    )
    adoption.refresh_from_db()
    assert adoption.deliverer is None
    login(station_manager).post(url, {"adoption": adoption.pk, "deliverer": near.pk})
    adoption.refresh_from_db()
    assert adoption.deliverer == near


@pytest.mark.django_db
def test_deliverer_picker_costs_the_same_queries_for_many_candidates(
    login, family, station, station_manager
):
    wish = _wish(family, station)
    donor = VolunteerFactory(station=station)
    services.wish_adopt(actor=None, wish=wish, volunteer=donor, is_remote=True)
    client = login(station_manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(wish.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    VolunteerFactory(station=station)
    before = count()
    # The station's own and, from another station, those living in the family's community.
    elsewhere = StationFactory(district=station.district)
    for i in range(10):
        VolunteerFactory(station=station if i % 2 else elsewhere, community=family.community)
    body = client.get(wish.get_absolute_url()).content.decode()
    assert _select(body, "deliverer").count("<option") == 13  # empty + 12 candidates
    assert count() == before


# --- 2. Dead ends on the wall ----------------------------------------------------------------


@pytest.mark.django_db
def test_who_cannot_adopt_is_told_why_instead_of_a_button(login, family, station, outsider):
    wish = _wish(family, station)
    url = reverse("requests:wish_public", args=[wish.pk])
    merchant_user = UserFactory(role=Role.MERCHANT)
    MerchantFactory(user=merchant_user, stations=[station])
    for user in (merchant_user, outsider):
        with translation.override("en"):
            body = login(user).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'data-testid="adopt-refusal"' in body, user
        assert "Only volunteers adopt wishes online" in body
        assert "through the community" in body
        assert 'data-testid="adopt-form"' not in body


@pytest.mark.django_db
def test_sanctioned_volunteer_sees_the_reason_not_the_button(login, family, station):
    user = UserFactory(role=Role.VOLUNTEER)
    until = timezone.localdate() + datetime.timedelta(days=30)
    VolunteerFactory(
        station=station, user=user, status=ProviderStatus.SUSPENDED, suspended_until=until
    )
    wish = _wish(family, station)
    body = login(user).get(reverse("requests:wish_public", args=[wish.pk])).content.decode()
    assert 'data-testid="adopt-refusal"' in body and until.isoformat() in body
    assert 'data-testid="adopt-button"' not in body


@pytest.mark.django_db
def test_volunteer_holding_a_share_is_told_and_others_still_adopt(login, family, station, vol_user):
    wish = _wish(family, station, shares=3)
    url = reverse("requests:wish_public", args=[wish.pk])
    body = login(vol_user).get(url).content.decode()
    assert 'data-testid="adopt-button"' in body and "adopt-refusal" not in body
    services.wish_adopt(actor=vol_user, wish=wish, volunteer=vol_user.volunteer)
    body = login(vol_user).get(url).content.decode()
    assert 'data-testid="adopt-refusal"' in body and 'data-testid="adopt-button"' not in body


# --- 3. Overdue adoptions ------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_list_shows_who_to_call_masked_and_how_late(
    login, family, station, station_manager, other_manager
):
    wish = _wish(family, station, title="超期的心愿", shares=2)
    volunteer = VolunteerFactory(
        station=station, name="赵志愿", volunteer_no="JX300000001", mobile="13912345678"
    )
    org = OrganizationFactory(name="嘉兴电力", contact_name="钱主任", contact_phone="13700001111")
    services.wish_adopt(actor=None, wish=wish, volunteer=volunteer)
    services.wish_adopt(actor=station_manager, wish=wish, organization=org)
    MicroWish.objects.filter(pk=wish.pk).update(
        contact_due_at=timezone.now() - datetime.timedelta(days=3, hours=2)
    )
    body = login(station_manager).get(reverse("requests:wish_overdue")).content.decode()
    assert "赵志愿 · JX300000001" in body and "139****5678" in body
    assert "嘉兴电力 · 钱主任" in body and "137****1111" in body
    assert "13912345678" not in body and "13700001111" not in body
    with translation.override("en"):
        body = (
            login(station_manager)
            .get(reverse("requests:wish_overdue"), HTTP_ACCEPT_LANGUAGE="en")
            .content.decode()
        )
    assert "3 day(s) overdue" in body
    # Release asks first: its button is inside a <details> confirmation.
    confirm = re.search(r'<details data-testid="release-confirm">.*?</details>', body, re.S)
    assert confirm and 'data-testid="release-button"' in confirm.group(0)
    # Another station's manager does not see it.
    assert (
        "超期的心愿"
        not in login(other_manager).get(reverse("requests:wish_overdue")).content.decode()
    )


@pytest.mark.django_db
def test_each_staff_step_says_what_it_did(login, family, station, station_manager, vol_user):
    client = login(station_manager)
    wish = _wish(family, station, status=S.DRAFT)
    said = {}
    for step in ("verify", "publish"):
        response = client.post(reverse("requests:wish_step", args=[wish.pk, step]), follow=True)
        said[step] = _messages(response)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer)
    MicroWish.objects.filter(pk=wish.pk).update(
        contact_due_at=timezone.now() - datetime.timedelta(days=1)
    )
    response = client.post(
        reverse("requests:wish_step", args=[wish.pk, "release"]),
        {"next": "overdue", "reason": "联系不上"},
        follow=True,
    )
    said["release"] = _messages(response)
    for step, messages in said.items():
        assert messages == [_zh(STEP_DONE[step])], step
    assert len({m[0] for m in said.values()}) == 3
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED


# --- 4, 5, 8. My wishes ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_station_phone_is_readable_and_tap_to_call(login, family, station, vol_user):
    station.phone = "+8657383619952"
    station.save()
    wish = _wish(family, station)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer)
    body = login(vol_user).get(reverse("requests:my_wishes")).content.decode()
    link = re.search(r'<a [^>]*data-testid="station-phone"[^>]*>.*?</a>', body, re.S).group(0)
    assert 'href="tel:+8657383619952"' in link and "0573-8361 9952" in link
    assert ">+8657383619952" not in body and "(+8657383619952)" not in body


@pytest.mark.django_db
def test_a_rejected_photo_keeps_the_note_and_amount(login, family, station, vol_user):
    wish = _wish(family, station)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer)
    services.wish_contact(actor=None, wish=wish, volunteer=vol_user.volunteer)
    response = login(vol_user).post(
        reverse("requests:my_wish_step", args=[wish.pk, "fulfil"]),
        {
            "note": "买了电饭煲送到家",
            "spent": "189",
            "photo": SimpleUploadedFile("a.jpg", b"not a picture", content_type="image/jpeg"),
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    form = re.search(r'<form [^>]*data-testid="fulfil-form".*?</form>', body, re.S).group(0)
    assert ">买了电饭煲送到家</textarea>" in form and 'value="189"' in form
    assert 'data-testid="fulfil-errors"' in form
    wish.refresh_from_db()
    assert wish.status == S.CONTACTED and not wish.fulfilment_note


@pytest.mark.django_db
def test_a_shared_wish_is_fulfilled_by_the_station_not_one_adopter(
    login, family, station, vol_user, station_manager
):
    wish = _wish(family, station, shares=2, estimated_cost=Decimal("400"))
    other = VolunteerFactory(station=station)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer)
    services.wish_adopt(actor=None, wish=wish, volunteer=other)
    services.wish_contact(actor=None, wish=wish, volunteer=other)
    with pytest.raises(ValidationError):
        services.wish_fulfil(actor=None, wish=wish, volunteer=other, note="我那份送到了")
    client = login(vol_user)
    body = client.get(reverse("requests:my_wishes")).content.decode()
    assert 'data-testid="shared-fulfilment"' in body and 'data-testid="fulfil-form"' not in body
    response = client.post(
        reverse("requests:my_wish_step", args=[wish.pk, "fulfil"]), {"note": "送到了"}
    )
    assert response.status_code == 400
    wish.refresh_from_db()
    assert wish.status == S.CONTACTED and not wish.fulfilment_note
    # The station records it for the whole wish.
    login(station_manager).post(
        reverse("requests:wish_step", args=[wish.pk, "fulfil"]),
        {"note": "两位志愿者的棉被都送到了", "spent": "380"},
    )
    wish.refresh_from_db()
    assert wish.status == S.FULFILLED and wish.spent_total == Decimal("380")


@pytest.mark.django_db
def test_one_adopter_holding_every_share_still_records_the_fulfilment(
    login, family, station, vol_user
):
    wish = _wish(family, station, shares=2)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol_user.volunteer, shares=2)
    services.wish_contact(actor=None, wish=wish, volunteer=vol_user.volunteer)
    client = login(vol_user)
    assert 'data-testid="fulfil-form"' in client.get(reverse("requests:my_wishes")).content.decode()
    client.post(reverse("requests:my_wish_step", args=[wish.pk, "fulfil"]), {"note": "送到了"})
    wish.refresh_from_db()
    assert wish.status == S.FULFILLED
    assert WishAdoption.objects.filter(wish=wish).count() == 1


# --- 6, 7. The wall ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_wall_shows_the_full_deadline(client, family, station):
    deadline = datetime.date(timezone.localdate().year + 1, 1, 3)
    _wish(family, station, deadline=deadline)
    body = client.get(reverse("requests:wish_wall")).content.decode()
    card = re.search(r'<article [^>]*data-testid="wish-card".*?</article>', body, re.S).group(0)
    assert f"{deadline.year}-01-03" in card


@pytest.mark.django_db
def test_wall_communities_read_street_and_community_of_the_chosen_district(client, family, station):
    district = family.community.parent.parent
    east = StreetFactory(name="东栅街道", parent=district)
    west = StreetFactory(name="西栅街道", parent=district)
    a = CommunityFactory(name="新民社区", parent=east)
    b = CommunityFactory(name="新民社区", parent=west)
    elsewhere = CommunityFactory(name="别区社区")
    url = reverse("requests:wish_wall")
    body = client.get(url).content.decode()
    assert 'name="community"' not in body  # no district: no city-wide list
    select = _select(client.get(url, {"district": district.pk}).content.decode(), "community")
    assert "东栅街道 · 新民社区" in select and "西栅街道 · 新民社区" in select
    assert f'value="{a.pk}"' in select and f'value="{b.pk}"' in select
    assert "别区社区" not in select and f'value="{elsewhere.pk}"' not in select


@pytest.mark.django_db
def test_a_community_only_link_filters_the_wall(client, family, station, django_assert_num_queries):
    _wish(family, station, title="本社区的心愿")
    MicroWishFactory(
        resident=ResidentFactory(community=CommunityFactory()), station=station, title="别处的心愿"
    )
    url = reverse("requests:wish_wall")
    with django_assert_num_queries(5):
        # districts, the linked community (+street), count, page, adopted/fulfilled
        response = client.get(url, {"community": family.community.pk})
    body = response.content.decode()
    assert "本社区的心愿" in body and "别处的心愿" not in body
    assert f'<option value="{family.community.pk}" selected>' in _select(body, "community")
    # A community of another district (the district just changed): the
    # district still filters, the stale community is dropped.
    other = MicroWish.objects.get(title="别处的心愿")
    body = client.get(
        url, {"district": other.district_id, "community": family.community.pk}
    ).content.decode()
    assert "别处的心愿" in body and "本社区的心愿" not in body
