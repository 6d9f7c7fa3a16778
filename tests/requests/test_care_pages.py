"""The care pages: the staff lists (overdue visits, silent residents), a
resident's care, pairing and visit forms, the rota, and "My residents" on
the volunteer's phone. Lists keep their query count as rows grow; every
page refuses an outsider, another station's manager and another member."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry, Role
from requests.models import CareSlot, CareVisit, Channel, MicroWish, Pairing, Resident
from requests.services import care
from tests.factories import (
    CommunityFactory,
    InServiceVolunteerFactory,
    ResidentFactory,
    ResidentGroupFactory,
    UserFactory,
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


def special_resident(community, **kw):
    return ResidentGroupFactory(resident=ResidentFactory(community=community, **kw)).resident


def overdue_pairing(community, member, name="李奶奶"):
    resident = special_resident(community, name=name)
    return care.pairing_create(
        actor=None,
        resident=resident,
        volunteer=member,
        cadence_days=14,
        started_on=TODAY() - days(30),
    )


@pytest.fixture
def other_side(other_station):
    """Another station's community, special resident, member and pairing."""
    community = CommunityFactory()
    other_station.communities.add(community)
    member = InServiceVolunteerFactory(
        station=other_station, user=UserFactory(role=Role.VOLUNTEER), name="乙站党员"
    )
    pairing = overdue_pairing(community, member, name="乙站居民")
    visit = care.care_visit_record(
        actor=None,
        resident=pairing.resident,
        volunteer=member,
        visited_on=TODAY() - days(20),
        minutes=30,
    )
    slot = care.rota_schedule(
        actor=None, resident=pairing.resident, first_on=TODAY(), every_days=7, count=1
    )[0]
    return type("Side", (), {"pairing": pairing, "visit": visit, "slot": slot, "member": member})


# --- The staff lists ------------------------------------------------------------------------


def test_overdue_tab_lists_the_scope_most_overdue_first(
    client, station_manager, community, member, other_side
):
    late = overdue_pairing(community, member, name="王爷爷")
    later = care.pairing_create(
        actor=None,
        resident=special_resident(community, name="赵奶奶"),
        volunteer=member,
        cadence_days=7,
        started_on=TODAY() - days(30),
    )
    client.force_login(station_manager)
    response = client.get(reverse("requests:care_overview"))
    assert response.status_code == 200
    assert list(response.context["object_list"]) == [later, late]
    body = response.content.decode()
    assert "王爷爷" in body and "乙站居民" not in body


def test_silent_tab_lists_special_residents_without_contact(client, operator, community, settings):
    settings.LIANXIN = {**settings.LIANXIN, "CARE_SILENT_DAYS": 30}
    quiet = special_resident(community, name="孙奶奶")
    talked = special_resident(community, name="周爷爷")
    Resident.objects.filter(pk=talked.pk).update(last_contact_at=timezone.now())
    client.force_login(operator)
    response = client.get(reverse("requests:care_overview") + "?tab=silent")
    assert list(response.context["object_list"]) == [quiet]
    body = response.content.decode()
    assert "孙奶奶" in body and "周爷爷" not in body
    assert quiet.phones.get().number not in body  # masked, tap to reveal


@pytest.mark.parametrize("tab", ["overdue", "silent"])
def test_care_lists_query_count_is_constant_as_rows_grow(
    client, station_manager, community, member, tab, django_assert_num_queries
):
    def grow(n):
        for _ in range(n):
            pairing = overdue_pairing(community, member)
            Resident.objects.filter(pk=pairing.resident_id).update(last_contact_at=None)

    grow(2)
    client.force_login(station_manager)
    url = reverse("requests:care_overview") + f"?tab={tab}"
    queries = {
        # session, user, the manager's stations, capped count, the page
        # (+resident, community, volunteer)
        "overdue": 5,
        # session, user, stations, capped count, the page (+community), its
        # phones, its active pairings (+volunteer)
        "silent": 7,
    }[tab]
    with django_assert_num_queries(queries):
        assert len(client.get(url).context["object_list"]) == 2
    grow(5)
    with django_assert_num_queries(queries):
        assert len(client.get(url).context["object_list"]) == 7


def test_resident_care_page(client, station_manager, community, member):
    pairing = overdue_pairing(community, member)
    care.care_visit_record(
        actor=None,
        resident=pairing.resident,
        volunteer=member,
        visited_on=TODAY(),
        minutes=40,
        found="灯泡坏了",
    )
    client.force_login(station_manager)
    body = client.get(reverse("requests:care_resident", args=[pairing.resident_id])).content
    assert "张党员".encode() in body and "灯泡坏了".encode() in body


# --- Pairing pages ------------------------------------------------------------------------------


def test_pairing_create_end_and_cadence_from_the_pages(client, station_manager, community, member):
    resident = special_resident(community)
    client.force_login(station_manager)
    url = reverse("requests:pairing_create") + f"?resident={resident.pk}"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"volunteer": member.volunteer_no.lower(), "cadence_days": "10", "started_on": TODAY()},
    )
    assert response.status_code == 302
    pairing = Pairing.objects.get()
    assert (pairing.volunteer, pairing.cadence_days) == (member, 10)
    # The same pairing again: the service's message on the form, nothing written.
    response = client.post(
        url, {"volunteer": member.volunteer_no, "cadence_days": "10", "started_on": TODAY()}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert Pairing.objects.count() == 1
    client.post(reverse("requests:pairing_update", args=[pairing.pk]), {"cadence_days": "30"})
    pairing.refresh_from_db()
    assert pairing.next_visit_due == TODAY() + days(30)
    client.post(reverse("requests:pairing_end", args=[pairing.pk]), {"reason": "搬家"})
    pairing.refresh_from_db()
    assert pairing.ended_on == TODAY()


def test_a_station_manager_pairs_only_their_own_volunteers(
    client, station_manager, community, other_side
):
    resident = special_resident(community)
    client.force_login(station_manager)
    response = client.post(
        reverse("requests:pairing_create") + f"?resident={resident.pk}",
        {"volunteer": other_side.member.volunteer_no, "cadence_days": "14", "started_on": TODAY()},
    )
    assert response.status_code == 200 and response.context["form"].errors["volunteer"]
    assert not Pairing.objects.filter(resident=resident).exists()


# --- Visits ------------------------------------------------------------------------------------


def test_staff_record_a_visit_for_a_member(client, operator, community, member):
    pairing = overdue_pairing(community, member)
    client.force_login(operator)
    response = client.post(
        reverse("requests:visit_create", args=[pairing.resident_id]),
        {"volunteer": member.volunteer_no, "visited_on": TODAY(), "minutes": "45", "found": "好"},
    )
    visit = CareVisit.objects.get()
    assert response.url == reverse("requests:visit_detail", args=[visit.pk])
    assert visit.pairing == pairing and visit.recorded_by == operator


def test_staff_visit_form_refuses_a_future_date_and_writes_nothing(
    client, operator, community, member
):
    pairing = overdue_pairing(community, member)
    client.force_login(operator)
    response = client.post(
        reverse("requests:visit_create", args=[pairing.resident_id]),
        {"volunteer": member.volunteer_no, "visited_on": TODAY() + days(1), "minutes": "45"},
    )
    assert response.status_code == 200 and response.context["form"].errors["visited_on"]
    assert not CareVisit.objects.exists()


def test_the_member_records_a_visit_from_the_phone_and_sees_the_numbers_logged(
    client, community, member
):
    pairing = overdue_pairing(community, member)
    client.force_login(member.user)
    url = reverse("requests:visit_create", args=[pairing.resident_id])
    page = client.get(url)
    assert pairing.resident.phones.get().number in page.content.decode()
    assert AuditEntry.objects.filter(
        action="center.pii.revealed", target_id=str(pairing.resident_id)
    ).exists()
    response = client.post(url, {"visited_on": TODAY(), "minutes": "30", "found": "挺好"})
    assert response.status_code == 302
    visit = CareVisit.objects.get()
    assert (visit.volunteer, visit.pairing) == (member, pairing)
    assert client.get(reverse("requests:visit_detail", args=[visit.pk])).status_code == 200


def test_need_to_order_and_wish_from_the_visit_page(client, operator, community, member, item):
    pairing = overdue_pairing(community, member)
    visit = care.care_visit_record(
        actor=operator,
        resident=pairing.resident,
        volunteer=member,
        visited_on=TODAY(),
        minutes=30,
        found="电视坏了",
    )
    client.force_login(operator)
    assert client.get(reverse("requests:visit_detail", args=[visit.pk])).status_code == 200
    response = client.post(
        reverse("requests:visit_order", args=[visit.pk]),
        {"item": item.pk, "urgency": "normal", "description": ""},
    )
    order = pairing.resident.orders.get()
    assert response.url == order.get_absolute_url() and order.channel == Channel.VISIT
    response = client.post(
        reverse("requests:visit_wish", args=[visit.pk]),
        {
            "title": "一台电视机",
            "kind": "goods",
            "estimated_cost": "800",
            "deadline": TODAY() + days(30),
        },
    )
    assert response.status_code == 302
    wish = MicroWish.objects.get()
    assert (wish.visit, wish.source) == (visit, MicroWish.Source.VISIT)
    # A bad form writes nothing and says why.
    response = client.post(reverse("requests:visit_wish", args=[visit.pk]), {"title": ""})
    assert response.status_code == 400 and MicroWish.objects.count() == 1


# --- My residents (the member's phone) ------------------------------------------------------------


def test_my_care_lists_my_residents_most_overdue_first_and_open_slots_near_me(
    client, community, member, station, other_side, django_assert_num_queries
):
    def grow(n):
        for i in range(n):
            overdue_pairing(community, member, name=f"结对居民{i}")
            resident = ResidentFactory(community=community, name=f"轮值居民{i}")
            care.rota_schedule(
                actor=None, resident=resident, first_on=TODAY(), every_days=7, count=2
            )

    grow(2)
    client.force_login(member.user)
    url = reverse("requests:my_care")
    # session, user, volunteer, my pairings (+resident, community), my slots,
    # open slots near me (+resident, community)
    with django_assert_num_queries(6):
        response = client.get(url)
    assert len(response.context["pairings"]) == 2 and len(response.context["open_slots"]) == 4
    body = response.content.decode()
    assert "结对居民0" in body
    assert "轮值居民0" not in body and "轮" in body  # not theirs yet: masked (轮**)
    assert "乙站居民" not in body and "乙" not in body
    grow(4)
    with django_assert_num_queries(6):
        response = client.get(url)
    assert len(response.context["pairings"]) == 6


def test_the_member_takes_and_gives_back_a_rota_visit(client, community, member):
    resident = ResidentFactory(community=community)
    slot = care.rota_schedule(
        actor=None, resident=resident, first_on=TODAY(), every_days=7, count=1
    )[0]
    client.force_login(member.user)
    client.post(reverse("requests:slot_take", args=[slot.pk]))
    slot.refresh_from_db()
    assert slot.volunteer == member
    # Holding the slot, they may record the visit of that resident.
    assert client.get(reverse("requests:visit_create", args=[resident.pk])).status_code == 200
    client.post(reverse("requests:slot_release", args=[slot.pk]))
    slot.refresh_from_db()
    assert slot.volunteer is None


# --- Who may see what --------------------------------------------------------------------------------


def _urls(side, resident_pk):
    return [
        ("GET", reverse("requests:care_resident", args=[resident_pk])),
        ("GET", reverse("requests:visit_create", args=[resident_pk])),
        ("GET", reverse("requests:rota_schedule", args=[resident_pk])),
        ("GET", reverse("requests:pairing_create") + f"?resident={resident_pk}"),
        ("GET", reverse("requests:pairing_update", args=[side.pairing.pk])),
        ("GET", reverse("requests:pairing_end", args=[side.pairing.pk])),
        ("GET", reverse("requests:visit_detail", args=[side.visit.pk])),
        ("POST", reverse("requests:visit_order", args=[side.visit.pk])),
        ("POST", reverse("requests:visit_wish", args=[side.visit.pk])),
        ("POST", reverse("requests:slot_release", args=[side.slot.pk])),
    ]


def test_another_stations_manager_gets_404_for_everything_outside_their_scope(
    client, station_manager, other_side
):
    client.force_login(station_manager)
    for method, url in _urls(other_side, other_side.pairing.resident_id):
        response = client.get(url) if method == "GET" else client.post(url, {"title": "x"})
        assert response.status_code == 404, url
    assert not AuditEntry.objects.filter(actor=station_manager).exists()


def test_an_outsider_is_refused_everywhere(client, outsider, other_side):
    client.force_login(outsider)
    urls = _urls(other_side, other_side.pairing.resident_id) + [
        ("GET", reverse("requests:care_overview")),
        ("GET", reverse("requests:my_care")),
        ("POST", reverse("requests:slot_take", args=[other_side.slot.pk])),
    ]
    for method, url in urls:
        response = client.get(url) if method == "GET" else client.post(url)
        assert response.status_code == 403, url
    assert not AuditEntry.objects.filter(actor=outsider).exists()


def test_a_member_cannot_reach_another_members_residents(client, member, other_side):
    client.force_login(member.user)
    resident = other_side.pairing.resident
    assert client.get(reverse("requests:visit_create", args=[resident.pk])).status_code == 404
    response = client.post(
        reverse("requests:visit_create", args=[resident.pk]),
        {"visited_on": TODAY(), "minutes": "30"},
    )
    assert response.status_code == 404
    assert (
        client.get(reverse("requests:visit_detail", args=[other_side.visit.pk])).status_code == 404
    )
    # A slot of a resident far from their station: neither taken nor released.
    assert client.post(reverse("requests:slot_take", args=[other_side.slot.pk])).status_code == 404
    # The staff pages are not theirs.
    assert client.get(reverse("requests:care_overview")).status_code == 403
    assert client.get(reverse("requests:care_resident", args=[resident.pk])).status_code == 403
    assert CareVisit.objects.filter(volunteer=member).count() == 0
    assert CareSlot.objects.filter(volunteer=member).count() == 0


# --- The back office -------------------------------------------------------------------------------


def test_back_office_lists_care_rows_and_ends_pairings_through_the_service(
    client, center_manager, community, member
):
    pairing = overdue_pairing(community, member)
    care.care_visit_record(
        actor=None, resident=pairing.resident, volunteer=member, visited_on=TODAY(), minutes=30
    )
    care.rota_schedule(
        actor=None, resident=pairing.resident, first_on=TODAY(), every_days=7, count=2
    )
    client.force_login(center_manager)
    for model in ("pairing", "carevisit", "careslot"):
        assert client.get(reverse(f"admin:requests_{model}_changelist")).status_code == 200
    client.post(
        reverse("admin:requests_pairing_changelist"),
        {"action": "end_pairings", "_selected_action": [pairing.pk]},
    )
    pairing.refresh_from_db()
    assert pairing.ended_on == TODAY()
    assert AuditEntry.objects.filter(action="requests.pairing.ended", actor=center_manager).exists()


def test_pairing_starts_by_finding_a_resident_in_scope(
    client, station_manager, community, other_side
):
    mine = special_resident(community, name="乙字开头的本站居民")
    client.force_login(station_manager)
    url = reverse("requests:pairing_create")
    assert client.get(url).status_code == 200
    body = client.get(url, {"q": "乙"}).content.decode()
    assert f"?resident={mine.pk}" in body and "乙站居民" not in body
    form = client.get(url, {"resident": mine.pk}).content.decode()
    # The form posts back to this URL, ?resident= included (no action attribute).
    tag = form[form.rfind("<form", 0, form.index('id="id_volunteer"')) :].split(">")[0]
    assert 'method="post"' in tag and "action" not in tag
    assert client.post(url, {"volunteer": "x"}).status_code == 404  # no resident: nothing to pair


def test_my_care_marks_my_silent_residents(client, community, member):
    """The member sees, on their own list, which of their residents the staff's
    silent list holds: no visit, call or order for CARE_SILENT_DAYS."""
    silent = overdue_pairing(community, member, name="久未联系居民").resident
    recent = overdue_pairing(community, member, name="刚来过电话居民").resident
    Resident.objects.filter(pk=silent.pk).update(last_contact_at=timezone.now() - days(45))
    Resident.objects.filter(pk=recent.pk).update(last_contact_at=timezone.now() - days(2))
    client.force_login(member.user)
    response = client.get(reverse("requests:my_care"))
    marked = {p.resident.name for p in response.context["pairings"] if p.silent}
    assert marked == {"久未联系居民"}
    assert response.content.decode().count('data-testid="silent"') == 1
