"""Pairing and care visits (issue 11): the services' rules."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from center.models import AuditEntry, Role
from requests.models import CareSlot, CareVisit, Channel, MicroWish, Pairing, Resident
from requests.selectors import care as care_selectors
from requests.services import care
from tests.factories import (
    CommunityFactory,
    InServiceVolunteerFactory,
    PairingFactory,
    ResidentFactory,
    ResidentGroupFactory,
    UserFactory,
    VolunteerFactory,
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


# --- Pairings --------------------------------------------------------------------------


def test_pairing_uses_the_default_cadence_and_is_due_one_cadence_after_the_start(
    special, member, station_manager, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "CARE_VISIT_CADENCE_DAYS": 10}
    start = TODAY() - days(3)
    pairing = care.pairing_create(
        actor=station_manager, resident=special, volunteer=member, started_on=start
    )
    assert (pairing.cadence_days, pairing.next_visit_due) == (10, start + days(10))
    entry = AuditEntry.objects.get(action="requests.pairing.created")
    assert entry.target_id == str(pairing.pk) and entry.actor == station_manager


def test_a_duplicate_active_pairing_is_refused_with_a_clear_message(special, member):
    care.pairing_create(actor=None, resident=special, volunteer=member, cadence_days=14)
    with pytest.raises(ValidationError, match="已与|already paired"):
        care.pairing_create(actor=None, resident=special, volunteer=member, cadence_days=7)
    assert Pairing.objects.count() == 1
    # Once ended, the two may be paired again (a new pairing).
    care.pairing_end(actor=None, pairing=Pairing.objects.get(), reason="搬家")
    care.pairing_create(actor=None, resident=special, volunteer=member, cadence_days=7)
    assert Pairing.objects.filter(ended_on__isnull=True).count() == 1


def test_a_sanctioned_volunteer_cannot_be_paired(special, member, center_manager):
    sanction(member, center_manager)
    with pytest.raises(ValidationError):
        care.pairing_create(actor=center_manager, resident=special, volunteer=member)
    assert not Pairing.objects.exists()
    assert not AuditEntry.objects.filter(action="requests.pairing.created").exists()


def test_bad_cadence_is_refused(special, member):
    for bad in (0, 400):
        with pytest.raises(ValidationError) as exc:
            care.pairing_create(actor=None, resident=special, volunteer=member, cadence_days=bad)
        assert "cadence_days" in exc.value.error_dict
    assert not Pairing.objects.exists()


def test_cadence_change_recomputes_the_next_visit_from_the_last_one(special, member):
    pairing = care.pairing_create(
        actor=None,
        resident=special,
        volunteer=member,
        cadence_days=14,
        started_on=TODAY() - days(20),
    )
    care.care_visit_record(
        actor=None, resident=special, volunteer=member, visited_on=TODAY() - days(5), minutes=30
    )
    pairing = care.pairing_update(actor=None, pairing=pairing, cadence_days=30)
    assert pairing.next_visit_due == TODAY() - days(5) + days(30)
    assert AuditEntry.objects.filter(action="requests.pairing.updated").count() == 1


def test_ending_needs_a_reason_and_an_ended_pairing_cannot_change(special, member):
    pairing = care.pairing_create(actor=None, resident=special, volunteer=member)
    with pytest.raises(ValidationError):
        care.pairing_end(actor=None, pairing=pairing, reason="  ")
    care.pairing_end(actor=None, pairing=pairing, reason="老人搬去子女家")
    pairing.refresh_from_db()
    assert pairing.ended_on == TODAY() and pairing.end_reason == "老人搬去子女家"
    with pytest.raises(ValidationError):
        care.pairing_update(actor=None, pairing=pairing, cadence_days=7)
    with pytest.raises(ValidationError):
        care.pairing_end(actor=None, pairing=pairing, reason="again")


# --- Visits -----------------------------------------------------------------------------


def test_a_visit_keeps_the_cadence_the_last_contact_and_credits_hours_once(
    special, member, station
):
    start = TODAY() - days(40)
    pairing = care.pairing_create(
        actor=None, resident=special, volunteer=member, cadence_days=14, started_on=start
    )
    assert pairing.next_visit_due < TODAY()  # overdue before the visit
    visit = care.care_visit_record(
        actor=member.user,
        resident=special,
        volunteer=member,
        visited_on=TODAY() - days(1),
        minutes=50,
        found="厨房水龙头滴水",
    )
    pairing.refresh_from_db()
    special.refresh_from_db()
    assert visit.pairing == pairing  # found by itself
    assert (pairing.last_visit_on, pairing.next_visit_due) == (
        TODAY() - days(1),
        TODAY() + days(13),
    )
    assert timezone.localdate(special.last_contact_at) == TODAY() - days(1)
    entry = HoursEntry.objects.get(volunteer=member)
    assert (entry.source, entry.source_ref, entry.hours) == (
        HoursEntry.Source.CARE_VISIT,
        f"visit:{visit.pk}",
        Decimal("1.00"),  # 50 minutes: four quarters
    )
    # The volunteer's own record waits for the station to verify it.
    assert entry.verified_at is None
    # The same visit posted again is refused; its hours stay one entry.
    with pytest.raises(ValidationError):
        care.care_visit_record(
            actor=member.user,
            resident=special,
            volunteer=member,
            visited_on=TODAY() - days(1),
            minutes=50,
        )
    assert CareVisit.objects.count() == 1 and HoursEntry.objects.count() == 1
    assert AuditEntry.objects.filter(action="requests.visit.recorded").count() == 1


def test_an_older_visit_recorded_late_does_not_move_the_due_date_back(special, member):
    pairing = care.pairing_create(
        actor=None,
        resident=special,
        volunteer=member,
        cadence_days=14,
        started_on=TODAY() - days(60),
    )
    care.care_visit_record(
        actor=None, resident=special, volunteer=member, visited_on=TODAY(), minutes=30
    )
    care.care_visit_record(
        actor=None, resident=special, volunteer=member, visited_on=TODAY() - days(20), minutes=30
    )
    pairing.refresh_from_db()
    assert (pairing.last_visit_on, pairing.next_visit_due) == (TODAY(), TODAY() + days(14))


def test_a_staff_record_is_verified_hours(special, member, station_manager):
    care.pairing_create(actor=None, resident=special, volunteer=member)
    care.care_visit_record(
        actor=station_manager, resident=special, volunteer=member, visited_on=TODAY(), minutes=90
    )
    entry = HoursEntry.objects.get()
    assert entry.verified_at is not None and entry.hours == Decimal("1.50")


@pytest.mark.parametrize(
    ("visited_on", "minutes", "field"),
    [(1, 30, "visited_on"), (-400, 30, "visited_on"), (0, 0, "minutes"), (0, 601, "minutes")],
)
def test_a_future_date_or_bad_minutes_are_refused(special, member, visited_on, minutes, field):
    care.pairing_create(actor=None, resident=special, volunteer=member)
    with pytest.raises(ValidationError) as exc:
        care.care_visit_record(
            actor=member.user,
            resident=special,
            volunteer=member,
            visited_on=TODAY() + days(visited_on),
            minutes=minutes,
        )
    assert field in exc.value.error_dict
    assert not CareVisit.objects.exists() and not HoursEntry.objects.exists()


def test_a_volunteer_not_paired_cannot_record_but_staff_can(special, member, operator):
    stranger = VolunteerFactory(user=UserFactory(role=Role.VOLUNTEER))
    with pytest.raises(ValidationError):
        care.care_visit_record(
            actor=stranger.user,
            resident=special,
            volunteer=stranger,
            visited_on=TODAY(),
            minutes=30,
        )
    assert not CareVisit.objects.exists()
    visit = care.care_visit_record(
        actor=operator, resident=special, volunteer=stranger, visited_on=TODAY(), minutes=30
    )
    assert visit.pairing is None


# --- Overdue and silent ----------------------------------------------------------------------


def test_overdue_and_silent_lists(community, station, operator, settings):
    settings.LIANXIN = {**settings.LIANXIN, "CARE_SILENT_DAYS": 30}
    overdue = PairingFactory(
        resident=ResidentFactory(community=community), next_visit_due=TODAY() - days(1)
    )
    PairingFactory(resident=ResidentFactory(community=community), next_visit_due=TODAY())
    ended = PairingFactory(
        resident=ResidentFactory(community=community),
        next_visit_due=TODAY() - days(9),
        ended_on=TODAY(),
    )
    assert list(care_selectors.overdue_pairings(user=operator)) == [overdue]
    assert ended not in care_selectors.overdue_pairings(user=operator)

    never = ResidentGroupFactory(resident=ResidentFactory(community=community)).resident
    long_ago = ResidentGroupFactory(resident=ResidentFactory(community=community)).resident
    recent = ResidentGroupFactory(resident=ResidentFactory(community=community)).resident
    Resident.objects.filter(pk=long_ago.pk).update(last_contact_at=timezone.now() - days(31))
    Resident.objects.filter(pk=recent.pk).update(last_contact_at=timezone.now() - days(29))
    ResidentFactory(community=community)  # not special: never listed
    assert list(care_selectors.silent_residents(user=operator)) == [never, long_ago]
    # A visit ends the silence.
    member = InServiceVolunteerFactory(station=station)
    care.care_visit_record(
        actor=operator, resident=never, volunteer=member, visited_on=TODAY(), minutes=20
    )
    assert list(care_selectors.silent_residents(user=operator)) == [long_ago]


def test_silent_list_puts_never_contacted_first(community, operator):
    a = ResidentGroupFactory(resident=ResidentFactory(community=community)).resident
    b = ResidentGroupFactory(resident=ResidentFactory(community=community)).resident
    Resident.objects.filter(pk=a.pk).update(last_contact_at=timezone.now() - days(90))
    assert list(care_selectors.silent_residents(user=operator)) == [b, a]


# --- Rota ---------------------------------------------------------------------------------


def test_rota_schedule_take_release_and_visit(special, member, station):
    other = InServiceVolunteerFactory(station=station)
    slots = care.rota_schedule(
        actor=None, resident=special, first_on=TODAY(), every_days=7, count=4
    )
    assert [s.due_on for s in slots] == [TODAY() + days(7 * i) for i in range(4)]
    # Scheduling again keeps the dates already there.
    assert care.rota_schedule(
        actor=None, resident=special, first_on=TODAY(), every_days=7, count=5
    )[0].due_on == TODAY() + days(28)
    slot = slots[0]
    care.care_slot_take(actor=None, slot=slot, volunteer=member)
    with pytest.raises(ValidationError):
        care.care_slot_take(actor=None, slot=slot, volunteer=other)
    with pytest.raises(ValidationError):
        care.care_slot_release(actor=None, slot=slot, volunteer=other)
    # Only the holder records the visit of the slot.
    with pytest.raises(ValidationError):
        care.care_visit_record(
            actor=None, resident=special, volunteer=other, visited_on=TODAY(), minutes=30, slot=slot
        )
    visit = care.care_visit_record(
        actor=member.user,
        resident=special,
        volunteer=member,
        visited_on=TODAY(),
        minutes=30,
        slot=slot,
    )
    slot.refresh_from_db()
    assert slot.visit == visit
    with pytest.raises(ValidationError):
        care.care_slot_release(actor=None, slot=slot, volunteer=member)
    # Round trip on another slot: take, release, someone else takes it.
    second = slots[1]
    care.care_slot_take(actor=None, slot=second, volunteer=member)
    care.care_slot_release(actor=None, slot=second, volunteer=member)
    care.care_slot_take(actor=None, slot=second, volunteer=other)
    second.refresh_from_db()
    assert second.volunteer == other


def test_rota_refuses_the_past_and_bad_counts(special):
    for kwargs in (
        {"first_on": TODAY() - days(1), "every_days": 7, "count": 2},
        {"first_on": TODAY(), "every_days": 0, "count": 2},
        {"first_on": TODAY(), "every_days": 7, "count": 53},
    ):
        with pytest.raises(ValidationError):
            care.rota_schedule(actor=None, resident=special, **kwargs)
    assert not CareSlot.objects.exists()


def test_a_sanctioned_volunteer_cannot_take_a_slot(special, member, center_manager):
    slot = care.rota_schedule(
        actor=None, resident=special, first_on=TODAY(), every_days=7, count=1
    )[0]
    sanction(member, center_manager)
    with pytest.raises(ValidationError):
        care.care_slot_take(actor=None, slot=slot, volunteer=member)
    slot.refresh_from_db()
    assert slot.volunteer is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_of_a_rota_slot_have_one_winner(station):
    resident = ResidentFactory(community=CommunityFactory())
    slot = care.rota_schedule(
        actor=None, resident=resident, first_on=TODAY(), every_days=7, count=1
    )[0]
    members = [InServiceVolunteerFactory(station=station) for _ in range(6)]
    barrier = threading.Barrier(len(members))
    outcomes = []

    def take(volunteer):
        barrier.wait()
        try:
            care.care_slot_take(actor=None, slot=slot, volunteer=volunteer)
            outcomes.append("won")
        except ValidationError:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost"] * 5 + ["won"]
    slot.refresh_from_db()
    assert slot.volunteer_id in {m.pk for m in members}
    assert AuditEntry.objects.filter(action="requests.slot.taken").count() == 1


# --- A need found on a visit -----------------------------------------------------------------


def test_need_becomes_an_order_with_the_visit_channel(special, member, item, operator):
    visit = care.care_visit_record(
        actor=operator,
        resident=special,
        volunteer=member,
        visited_on=TODAY(),
        minutes=30,
        found="电视机没有图像",
    )
    order = care.visit_need_to_order(actor=operator, visit=visit, item=item, description="")
    assert order.channel == Channel.VISIT and order.resident == special
    assert order.description == "电视机没有图像"  # the visit's finding when none typed
    assert order.status == "received"
    assert AuditEntry.objects.filter(
        action="requests.visit.need_ordered", target_id=str(visit.pk)
    ).exists()


def test_need_becomes_a_draft_wish_from_the_visit(special, member, operator):
    visit = care.care_visit_record(
        actor=operator, resident=special, volunteer=member, visited_on=TODAY(), minutes=30
    )
    wish = care.visit_need_to_wish(
        actor=operator,
        visit=visit,
        title="一台取暖器",
        kind=MicroWish.Kind.GOODS,
        deadline=TODAY() + days(30),
        estimated_cost=Decimal("300"),
    )
    assert (wish.status, wish.source, wish.visit, wish.resident) == (
        MicroWish.Status.DRAFT,
        MicroWish.Source.VISIT,
        visit,
        special,
    )
