"""The care pages after a new user's walkthrough on a phone: a visit page
says what its need became, the staff visit form names the one paired
member, a volunteer is named by number or mobile, rota wording says 认领,
the lists scroll on a phone, the volunteer's visit page shows the badges and
the emergency contacts (masked for a slot holder) and offers no emergency."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry, Role
from requests.models import CareVisit, MicroWish, Pairing, ResidentContact, ServiceRequest
from requests.services import care
from tests.factories import (
    PASSWORD,
    CommunityFactory,
    InServiceVolunteerFactory,
    ResidentFactory,
    ResidentGroupFactory,
    UserFactory,
    special_group,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def member(station):
    return InServiceVolunteerFactory(
        station=station, user=UserFactory(role=Role.VOLUNTEER), name="张党员"
    )


@pytest.fixture
def far_member(other_station):
    """Another station's volunteer."""
    other_station.communities.add(CommunityFactory())
    return InServiceVolunteerFactory(station=other_station, user=UserFactory(role=Role.VOLUNTEER))


@pytest.fixture
def special(community):
    return ResidentGroupFactory(resident=ResidentFactory(community=community)).resident


def paired(resident, volunteer, started=30):
    return care.pairing_create(
        actor=None,
        resident=resident,
        volunteer=volunteer,
        cadence_days=14,
        started_on=TODAY() - days(started),
    )


@pytest.fixture
def member_visit(special, member):
    paired(special, member)
    return care.care_visit_record(
        actor=member.user,
        resident=special,
        volunteer=member,
        visited_on=TODAY(),
        minutes=30,
        found="电视坏了",
    )


WISH = {"title": "一台电视机", "kind": "goods", "estimated_cost": "800"}


def _wish_post(client, visit):
    return client.post(
        reverse("requests:visit_wish", args=[visit.pk]), {**WISH, "deadline": TODAY() + days(30)}
    )


# --- 1: the visit page says what the visit became ------------------------------------------


def test_the_visit_page_links_staff_to_the_order_and_wish_it_became_and_drops_their_forms(
    client, operator, member_visit, item
):
    client.force_login(operator)
    url = reverse("requests:visit_detail", args=[member_visit.pk])
    body = client.get(url).content.decode()
    assert 'data-testid="need-order"' in body and 'data-testid="need-wish"' in body
    assert 'data-testid="visit-outcome"' not in body
    client.post(
        reverse("requests:visit_order", args=[member_visit.pk]),
        {"item": item.pk, "urgency": "normal"},
    )
    order = ServiceRequest.objects.get()
    response = client.get(url)
    body = response.content.decode()
    assert f'href="{reverse("requests:order_detail", args=[order.pk])}"' in body
    assert order.number in body
    assert 'data-testid="need-order"' not in body  # one order per visit: its form is gone
    assert 'data-testid="need-wish"' in body  # the wish is still open
    assert _wish_post(client, member_visit).status_code == 302
    wish = MicroWish.objects.get()
    body = client.get(url).content.decode()
    assert f'href="{reverse("requests:wish_detail", args=[wish.pk])}"' in body
    assert wish.title in body
    assert 'data-testid="need-wish"' not in body and 'data-testid="need-order"' not in body


def test_the_volunteer_sees_the_order_number_and_status_without_a_staff_link(
    client, member, member_visit, item
):
    client.force_login(member.user)
    url = reverse("requests:visit_detail", args=[member_visit.pk])
    response = client.post(
        reverse("requests:visit_order", args=[member_visit.pk]),
        {"item": item.pk, "urgency": "normal"},
    )
    assert response.url == url
    order = ServiceRequest.objects.get()
    assert _wish_post(client, member_visit).status_code == 302
    wish = MicroWish.objects.get()
    body = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert order.number in body and order.get_status_display() in body
    assert wish.title in body and "Draft" in body
    assert reverse("requests:order_detail", args=[order.pk]) not in body
    assert reverse("requests:wish_detail", args=[wish.pk]) not in body
    assert 'data-testid="need-order"' not in body and 'data-testid="need-wish"' not in body


def test_the_visit_page_finds_what_it_became_in_constant_queries(
    client, operator, special, member, item, django_assert_num_queries
):
    paired(special, member)
    visits = [
        care.care_visit_record(
            actor=operator,
            resident=special,
            volunteer=member,
            visited_on=TODAY() - days(n),
            minutes=30,
        )
        for n in range(3)
    ]
    client.force_login(operator)
    # Other visits' outcomes are history the page never reads.
    care.visit_need_to_order(actor=operator, visit=visits[1], item=item)
    care.visit_need_to_wish(
        actor=operator, visit=visits[2], title="x", kind="goods", deadline=TODAY() + days(9)
    )
    url = reverse("requests:visit_detail", args=[visits[0].pk])
    # session, user, visit (+resident, community, volunteer, pairing), the
    # visit's need audit entries, the catalogue (order form)
    with django_assert_num_queries(5):
        client.get(url)
    care.visit_need_to_order(actor=operator, visit=visits[0], item=item)
    care.visit_need_to_wish(
        actor=operator, visit=visits[0], title="y", kind="goods", deadline=TODAY() + days(9)
    )
    # session, user, visit, audit entries, the order, the wish (no form left)
    with django_assert_num_queries(6):
        client.get(url)


# --- 2: the staff visit form names the one paired member ------------------------------------


def test_the_staff_visit_form_preselects_the_one_active_paired_member(
    client, station_manager, special, member, station
):
    pairing = paired(special, member)
    client.force_login(station_manager)
    url = reverse("requests:visit_create", args=[special.pk])
    form = client.get(url).context["form"]
    assert form["volunteer"].value() == member.volunteer_no
    # Two active paired members: the staff member chooses.
    other = InServiceVolunteerFactory(station=station)
    paired(special, other)
    assert not client.get(url).context["form"]["volunteer"].value()
    # The one left after the other pairing ended is chosen again.
    care.pairing_end(actor=None, pairing=pairing, reason="搬家")
    assert client.get(url).context["form"]["volunteer"].value() == other.volunteer_no


# --- 3: a volunteer named by number or mobile ------------------------------------------------


def test_a_volunteer_is_paired_by_their_mobile(client, station_manager, community, member):
    resident = ResidentFactory(community=community)
    client.force_login(station_manager)
    url = reverse("requests:pairing_create") + f"?resident={resident.pk}"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "id_volunteer_helptext" in page and "JX…) or the mobile number" in page
    response = client.post(
        url, {"volunteer": f" {member.mobile} ", "cadence_days": "14", "started_on": TODAY()}
    )
    assert response.status_code == 302
    assert Pairing.objects.get(resident=resident).volunteer == member


def test_another_stations_volunteers_mobile_is_refused_like_an_unknown_one(
    client, station_manager, community, far_member
):
    resident = ResidentFactory(community=community)
    client.force_login(station_manager)
    url = reverse("requests:pairing_create") + f"?resident={resident.pk}"
    errors = []
    for typed in (far_member.mobile, "13900000000"):
        response = client.post(
            url, {"volunteer": typed, "cadence_days": "14", "started_on": TODAY()}
        )
        assert response.status_code == 200
        error = response.context["form"].errors["volunteer"][0]
        assert far_member.volunteer_no not in error and far_member.name not in error
        errors.append(error.replace(typed, "N"))
    assert errors[0] == errors[1]
    assert not Pairing.objects.exists()


def test_staff_record_a_visit_naming_another_stations_paired_member_by_mobile(
    client, station_manager, special, far_member
):
    paired(special, far_member)
    client.force_login(station_manager)
    response = client.post(
        reverse("requests:visit_create", args=[special.pk]),
        {"volunteer": far_member.mobile, "visited_on": TODAY(), "minutes": "30"},
    )
    assert response.status_code == 302
    assert CareVisit.objects.get().volunteer == far_member


# --- 4: rota wording ------------------------------------------------------------------------


def test_the_rota_says_schedule_the_visits_and_take_this_visit(
    client, station_manager, community, member
):
    resident = ResidentFactory(community=community)
    client.force_login(station_manager)
    body = client.get(
        reverse("requests:rota_schedule", args=[resident.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'value="Schedule the visits"' in body
    care.rota_schedule(actor=None, resident=resident, first_on=TODAY(), every_days=7, count=1)
    client.force_login(member.user)
    body = client.get(reverse("requests:my_care"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Take this visit" in body and "Take it<" not in body


# --- 5: the care lists on a phone --------------------------------------------------------------


@pytest.mark.parametrize("tab", ["overdue", "silent"])
def test_the_care_lists_scroll_sideways_with_names_and_dates_on_one_line(
    client, operator, community, member, tab
):
    pairing = paired(
        ResidentGroupFactory(resident=ResidentFactory(community=community)).resident, member
    )
    client.force_login(operator)
    body = client.get(reverse("requests:care_overview") + f"?tab={tab}").content.decode()
    table = re.search(rf'<div class="table-responsive"><table [^>]*data-testid="{tab}-table"', body)
    assert table
    name_link = reverse("requests:care_resident", args=[pairing.resident_id])
    assert re.search(rf'<td class="text-nowrap"><a href="{name_link}">', body)


# --- 6: the volunteer's visit page -------------------------------------------------------------


def _contact(resident, phone="13700001111", **kw):
    return ResidentContact.objects.create(
        resident=resident, name=kw.pop("name", "王女儿"), relation="女儿", phone=phone, **kw
    )


def _reveals(user):
    return AuditEntry.objects.filter(action="center.pii.revealed", actor=user)


def test_the_paired_member_sees_badges_and_contacts_in_full_logged_once(client, community, member):
    resident = ResidentFactory(community=community)
    ResidentGroupFactory(resident=resident, group=special_group("living-alone"))
    ResidentGroupFactory(resident=resident, group=special_group("disabled"))
    contact = _contact(resident)
    paired(resident, member)
    client.force_login(member.user)
    response = client.get(
        reverse("requests:visit_create", args=[resident.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    body = response.content.decode()
    assert "独居老人" in body and "Special group" in body
    assert "残疾人" not in body  # a sensitive membership: the generic badge only
    assert contact.phone in body and f"tel:{contact.phone}" in body
    assert "sensitive record" not in body and "tell the station" in body
    entry = _reveals(member.user).get()
    assert entry.data == {"fields": ["phones", "contacts"], "purpose": "pairing"}


def test_a_slot_holder_sees_contacts_masked_and_reveals_one_from_the_day_before(
    client, community, member, station
):
    resident = ResidentFactory(community=community)
    contact = _contact(resident)
    slot = care.rota_schedule(
        actor=None, resident=resident, first_on=TODAY() + days(5), every_days=7, count=1
    )[0]
    care.care_slot_take(actor=None, slot=slot, volunteer=member)
    client.force_login(member.user)
    url = reverse("requests:visit_create", args=[resident.pk])
    reveal = reverse("requests:care_contact_reveal", args=[resident.pk, contact.pk])
    body = client.get(url).content.decode()
    assert contact.phone not in body and contact.masked_phone in body and reveal not in body
    assert client.post(reveal).status_code == 400  # too early
    # From the day before the visit: the tap shows it, logged.
    slot.due_on = TODAY() + days(1)
    slot.save(update_fields=["due_on"])
    body = client.get(url).content.decode()
    assert contact.phone not in body and reveal in body
    assert not _reveals(member.user).exists()
    response = client.post(reveal)
    assert response.status_code == 200 and contact.phone in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert _reveals(member.user).get().data == {"fields": ["contacts"], "purpose": "rota"}
    # Another resident's contact through this resident's URL, another volunteer: 404.
    other = _contact(ResidentFactory(community=community))
    assert (
        client.post(
            reverse("requests:care_contact_reveal", args=[resident.pk, other.pk])
        ).status_code
        == 404
    )
    stranger = InServiceVolunteerFactory(station=station, user=UserFactory(role=Role.VOLUNTEER))
    client.force_login(stranger.user)
    assert client.post(reveal).status_code == 404
    assert _reveals(member.user).count() == 1 and not _reveals(stranger.user).exists()


def test_the_contact_reveal_refuses_an_outsider_and_staff(
    client, community, member, outsider, operator
):
    resident = ResidentFactory(community=community)
    contact = _contact(resident)
    paired(resident, member)
    reveal = reverse("requests:care_contact_reveal", args=[resident.pk, contact.pk])
    for user in (outsider, operator):
        client.force_login(user)
        assert client.post(reveal).status_code == 403
    assert not AuditEntry.objects.filter(action="center.pii.revealed").exists()


def test_the_volunteers_visit_page_keeps_its_query_count_as_contacts_and_groups_grow(
    client, community, member, django_assert_num_queries
):
    resident = ResidentFactory(community=community)
    ResidentGroupFactory(resident=resident, group=special_group("living-alone"))
    _contact(resident)
    paired(resident, member)
    client.force_login(member.user)
    url = reverse("requests:visit_create", args=[resident.pk])
    client.get(url)
    # session, user, volunteer, pairing (+resident, community), my slots,
    # memberships (+group), phones, contacts, the access-log entry
    with django_assert_num_queries(9):
        client.get(url)
    for code in ("empty-nest", "disabled", "minimum-living"):
        ResidentGroupFactory(resident=resident, group=special_group(code))
    for n in range(3):
        _contact(resident, phone=f"1370000222{n}", name=f"联系人{n}")
    with django_assert_num_queries(9):
        response = client.get(url)
    assert len(response.context["contacts"]) == 4


# --- 7: no emergency offered to a volunteer ---------------------------------------------------


def test_a_volunteer_is_not_offered_an_emergency_but_staff_are(
    client, member, member_visit, operator
):
    url = reverse("requests:visit_detail", args=[member_visit.pk])
    client.force_login(member.user)
    body = client.get(url).content.decode()
    assert 'value="normal"' in body and 'value="emergency"' not in body
    assert "96345" in body  # the hotline, said where the choice would be
    client.force_login(operator)
    assert 'value="emergency"' in client.get(url).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_care_list_on_a_390px_phone_keeps_names_on_one_line_and_scrolls_its_table(
    live_server, browser, station
):
    community = CommunityFactory(name="梅湾社区")
    station.communities.add(community)
    member = InServiceVolunteerFactory(station=station, name="欧阳志愿")
    for name in ("欧阳奶奶", "司马爷爷"):
        # Marked special directly: a transactional test may run after another
        # flushed the groups the migration made.
        paired(ResidentFactory(community=community, name=name, is_special=True), member)
    UserFactory(username="carephone", role=Role.OPERATOR)
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号或用户名").fill("carephone")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    for tab in ("overdue", "silent"):
        page.goto(f"{live_server.url}/care/?tab={tab}")
        table = page.get_by_test_id(f"{tab}-table")
        link = table.get_by_role("link", name="欧阳奶奶")
        box = link.bounding_box()
        # One line: as wide as four characters, no taller than one line.
        assert box["width"] > 40 and box["height"] < 30, box
        # The table scrolls inside its wrapper; the page itself does not.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=f"/tmp/care_{tab}_390.png", full_page=True)
    context.close()
