"""Care (issue 11) after the security probe: who may be named on a visit,
a need passed on once and in time, visits not backdated, a slot holder's
view of the resident's numbers, and the numbers never cached."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from center.models import AuditEntry, Role
from requests.models import CareSlot, CareVisit, MicroWish, Pairing, ServiceRequest
from requests.services import care
from tests.factories import (
    CommunityFactory,
    InServiceVolunteerFactory,
    ResidentFactory,
    ResidentGroupFactory,
    UserFactory,
)
from volunteers import services as volunteer_services
from volunteers.models import HoursEntry

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def sanction(volunteer, center_manager):
    complaint = volunteer_services.complaint_record(
        actor=None, provider=volunteer, description="迟到"
    )
    volunteer_services.complaint_rule(
        actor=center_manager, complaint=complaint, valid=True, reason="属实"
    )


@pytest.fixture
def special(community):
    return ResidentGroupFactory(resident=ResidentFactory(community=community)).resident


@pytest.fixture
def member(station):
    return InServiceVolunteerFactory(station=station, user=UserFactory(role=Role.VOLUNTEER))


@pytest.fixture
def far_member(other_station):
    """Another station's volunteer."""
    other_station.communities.add(CommunityFactory())
    return InServiceVolunteerFactory(station=other_station, user=UserFactory(role=Role.VOLUNTEER))


def paired(resident, volunteer, started=30):
    return care.pairing_create(
        actor=None,
        resident=resident,
        volunteer=volunteer,
        cadence_days=14,
        started_on=TODAY() - days(started),
    )


# --- 5: the volunteer named on a visit ----------------------------------------------------


def test_a_station_manager_cannot_record_a_visit_for_another_stations_volunteer(
    client, station_manager, special, far_member
):
    client.force_login(station_manager)
    response = client.post(
        reverse("requests:visit_create", args=[special.pk]),
        {"volunteer": far_member.volunteer_no, "visited_on": TODAY(), "minutes": "600"},
    )
    assert response.status_code == 200 and response.context["form"].errors["volunteer"]
    assert not CareVisit.objects.exists() and not HoursEntry.objects.exists()
    with pytest.raises(ValidationError):
        care.care_visit_record(
            actor=station_manager,
            resident=special,
            volunteer=far_member,
            visited_on=TODAY(),
            minutes=30,
        )


def test_a_station_manager_records_the_visit_of_another_stations_paired_member(
    station_manager, special, far_member
):
    pairing = paired(special, far_member)
    visit = care.care_visit_record(
        actor=station_manager,
        resident=special,
        volunteer=far_member,
        visited_on=TODAY(),
        minutes=30,
    )
    assert visit.pairing == pairing


def test_a_suspended_volunteers_visit_is_refused_even_when_staff_record_it(
    client, operator, special, member, center_manager
):
    paired(special, member)
    sanction(member, center_manager)
    client.force_login(operator)
    response = client.post(
        reverse("requests:visit_create", args=[special.pk]),
        {"volunteer": member.volunteer_no, "visited_on": TODAY(), "minutes": "600"},
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not CareVisit.objects.exists()
    assert not HoursEntry.objects.filter(source=HoursEntry.Source.CARE_VISIT).exists()


def test_a_volunteer_cannot_record_a_visit_in_another_volunteers_name(special, member, station):
    other = InServiceVolunteerFactory(station=station)
    paired(special, other)
    with pytest.raises(ValidationError):
        care.care_visit_record(
            actor=member.user, resident=special, volunteer=other, visited_on=TODAY(), minutes=30
        )
    assert not CareVisit.objects.exists()


def test_a_station_manager_cannot_pair_another_stations_volunteer_in_the_service(
    station_manager, special, far_member
):
    with pytest.raises(ValidationError) as exc:
        care.pairing_create(actor=station_manager, resident=special, volunteer=far_member)
    assert "volunteer" in exc.value.error_dict
    assert not Pairing.objects.exists()


def test_the_pairing_form_says_the_same_for_an_unknown_and_another_stations_number(
    client, station_manager, special, far_member
):
    client.force_login(station_manager)
    url = reverse("requests:pairing_create") + f"?resident={special.pk}"
    errors = []
    for number in (far_member.volunteer_no, "V99999999"):
        response = client.post(
            url, {"volunteer": number, "cadence_days": "14", "started_on": TODAY()}
        )
        assert response.status_code == 200
        errors.append(response.context["form"].errors["volunteer"][0].replace(number, "N"))
    assert errors[0] == errors[1]
    assert not Pairing.objects.exists()


# --- 6: a need passed on once, in time, by whom ---------------------------------------------------


@pytest.fixture
def member_visit(special, member):
    paired(special, member)
    return care.care_visit_record(
        actor=member.user,
        resident=special,
        volunteer=member,
        visited_on=TODAY(),
        minutes=30,
        found="水管漏水",
    )


def test_a_visits_need_becomes_one_order_and_one_wish_only(member_visit, member, item, operator):
    care.visit_need_to_order(actor=member.user, visit=member_visit, item=item)
    with pytest.raises(ValidationError):
        care.visit_need_to_order(actor=member.user, visit=member_visit, item=item)
    with pytest.raises(ValidationError):  # staff too: more orders go through intake
        care.visit_need_to_order(actor=operator, visit=member_visit, item=item)
    assert ServiceRequest.objects.count() == 1
    wish = {"title": "一台取暖器", "kind": MicroWish.Kind.GOODS, "deadline": TODAY() + days(30)}
    care.visit_need_to_wish(actor=member.user, visit=member_visit, **wish)
    with pytest.raises(ValidationError):
        care.visit_need_to_wish(actor=member.user, visit=member_visit, **wish)
    assert MicroWish.objects.count() == 1


def test_a_volunteer_passes_a_need_on_only_within_the_days_after_the_visit(
    special, member, item, operator, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "CARE_NEED_DAYS": 7}
    paired(special, member)
    old = care.care_visit_record(
        actor=member.user,
        resident=special,
        volunteer=member,
        visited_on=TODAY() - days(8),
        minutes=30,
    )
    with pytest.raises(ValidationError):
        care.visit_need_to_order(actor=member.user, visit=old, item=item)
    with pytest.raises(ValidationError):
        care.visit_need_to_wish(
            actor=member.user, visit=old, title="x", kind="goods", deadline=TODAY() + days(9)
        )
    assert not ServiceRequest.objects.exists() and not MicroWish.objects.exists()
    care.visit_need_to_order(actor=operator, visit=old, item=item)  # staff may, later
    assert ServiceRequest.objects.count() == 1


def test_a_volunteer_passes_no_need_on_after_the_pairing_ended(client, member_visit, member, item):
    care.pairing_end(actor=None, pairing=member_visit.pairing, reason="搬家")
    client.force_login(member.user)
    response = client.post(
        reverse("requests:visit_order", args=[member_visit.pk]),
        {"item": item.pk, "urgency": "normal"},
    )
    assert response.status_code == 400
    response = client.post(
        reverse("requests:visit_wish", args=[member_visit.pk]),
        {"title": "x", "kind": "goods", "estimated_cost": "0", "deadline": TODAY() + days(9)},
    )
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists() and not MicroWish.objects.exists()


def test_the_holder_of_a_rota_slot_passes_the_need_of_its_visit_on(special, member, item):
    slot = care.rota_schedule(
        actor=None, resident=special, first_on=TODAY(), every_days=7, count=1
    )[0]
    care.care_slot_take(actor=None, slot=slot, volunteer=member)
    visit = care.care_visit_record(
        actor=member.user,
        resident=special,
        volunteer=member,
        visited_on=TODAY(),
        minutes=30,
        slot=slot,
    )
    assert care.visit_need_to_order(actor=member.user, visit=visit, item=item).pk


def test_a_volunteer_cannot_raise_an_emergency_from_a_visit_but_staff_can(
    client, member_visit, member, item, operator
):
    client.force_login(member.user)
    with translation.override("en"):
        response = client.post(
            reverse("requests:visit_order", args=[member_visit.pk]),
            {"item": item.pk, "urgency": "emergency"},
        )
    assert response.status_code == 400
    assert "96345" in " ".join(response.context["order_form"].errors["urgency"])
    assert not ServiceRequest.objects.exists()
    order = care.visit_need_to_order(
        actor=operator, visit=member_visit, item=item, urgency="emergency"
    )
    assert order.urgency == "emergency"


# --- 7: no backdating, a day's minutes capped ---------------------------------------------------


def test_a_visit_before_the_pairing_started_is_refused(client, special, member):
    paired(special, member, started=3)
    client.force_login(member.user)
    response = client.post(
        reverse("requests:visit_create", args=[special.pk]),
        {"visited_on": TODAY() - days(4), "minutes": "600"},
    )
    assert response.status_code == 200 and response.context["form"].errors["visited_on"]
    assert not CareVisit.objects.exists() and not HoursEntry.objects.exists()


def test_a_rota_visit_is_not_dated_before_the_slot_nor_long_before_its_due_date(special, member):
    soon, late = care.rota_schedule(
        actor=None, resident=special, first_on=TODAY() + days(1), every_days=9, count=2
    )
    for slot in (soon, late):
        care.care_slot_take(actor=None, slot=slot, volunteer=member)
    for slot, visited_on in ((soon, TODAY() - days(1)), (late, TODAY())):
        with pytest.raises(ValidationError) as exc:
            care.care_visit_record(
                actor=member.user,
                resident=special,
                volunteer=member,
                visited_on=visited_on,
                minutes=30,
                slot=slot,
            )
        assert "visited_on" in exc.value.error_dict
    assert not CareVisit.objects.exists()
    care.care_visit_record(
        actor=member.user,
        resident=special,
        volunteer=member,
        visited_on=TODAY(),
        minutes=30,
        slot=soon,
    )
    assert CareSlot.objects.get(pk=soon.pk).visit_id is not None


def test_one_volunteers_visits_of_a_day_are_capped(community, member, operator):
    first, second = (
        ResidentGroupFactory(resident=ResidentFactory(community=community)).resident
        for _ in range(2)
    )
    paired(first, member)
    paired(second, member)
    care.care_visit_record(
        actor=member.user, resident=first, volunteer=member, visited_on=TODAY(), minutes=400
    )
    with pytest.raises(ValidationError) as exc:
        care.care_visit_record(
            actor=operator, resident=second, volunteer=member, visited_on=TODAY(), minutes=201
        )
    assert "minutes" in exc.value.error_dict
    care.care_visit_record(
        actor=operator, resident=second, volunteer=member, visited_on=TODAY(), minutes=200
    )
    assert sum(v.minutes for v in CareVisit.objects.all()) == 600


# --- 8 and 12: a slot holder and the resident's numbers ---------------------------------------------


def _take(resident, volunteer, due_in):
    slot = care.rota_schedule(
        actor=None, resident=resident, first_on=TODAY() + days(due_in), every_days=7, count=1
    )[0]
    return care.care_slot_take(actor=None, slot=slot, volunteer=volunteer)


def _reveals(user):
    return AuditEntry.objects.filter(action="center.pii.revealed", actor=user)


def test_a_slot_holder_sees_the_numbers_masked_until_the_day_before_the_visit(
    client, community, member
):
    resident = ResidentFactory(community=community)
    phone = resident.phones.get()
    _take(resident, member, due_in=5)
    client.force_login(member.user)
    page = client.get(reverse("requests:visit_create", args=[resident.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert phone.number not in body and phone.masked in body
    reveal = reverse("requests:care_phone_reveal", args=[resident.pk, phone.pk])
    assert reveal not in body  # no button yet
    response = client.post(reveal)
    assert response.status_code == 400 and phone.number not in response.content.decode()
    assert not _reveals(member.user).exists()


def test_a_slot_holder_reveals_a_number_from_the_day_before_logged_and_not_cached(
    client, community, member
):
    resident = ResidentFactory(community=community)
    phone = resident.phones.get()
    _take(resident, member, due_in=1)
    client.force_login(member.user)
    body = client.get(reverse("requests:visit_create", args=[resident.pk])).content.decode()
    reveal = reverse("requests:care_phone_reveal", args=[resident.pk, phone.pk])
    assert phone.number not in body and reveal in body
    assert not _reveals(member.user).exists()  # the page itself shows nothing in full
    response = client.post(reveal)
    assert response.status_code == 200 and phone.number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = _reveals(member.user).get()
    assert entry.target_id == str(resident.pk) and entry.data["purpose"] == "rota"


def test_the_number_reveal_refuses_others(client, community, member, station, outsider):
    resident = ResidentFactory(community=community)
    phone = resident.phones.get()
    _take(resident, member, due_in=0)
    reveal = reverse("requests:care_phone_reveal", args=[resident.pk, phone.pk])
    stranger = InServiceVolunteerFactory(station=station, user=UserFactory(role=Role.VOLUNTEER))
    client.force_login(stranger.user)
    assert client.post(reveal).status_code == 404
    client.force_login(outsider)
    assert client.post(reveal).status_code == 403
    # Another resident's phone through this resident's URL: 404.
    other_phone = ResidentFactory(community=community).phones.get()
    client.force_login(member.user)
    assert (
        client.post(
            reverse("requests:care_phone_reveal", args=[resident.pk, other_phone.pk])
        ).status_code
        == 404
    )
    assert not AuditEntry.objects.filter(action="center.pii.revealed").exists()


def test_the_paired_members_visit_page_shows_the_numbers_and_is_never_cached(
    client, special, member
):
    paired(special, member)
    client.force_login(member.user)
    response = client.get(reverse("requests:visit_create", args=[special.pk]))
    assert special.phones.get().number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert _reveals(member.user).get().data["purpose"] == "pairing"
