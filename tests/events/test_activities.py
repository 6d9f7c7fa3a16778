"""Activity services: plan, edit, cancel (the volunteers told), mark held;
participants added, called up by area and by specialty (the right ones, the
cap in order, never twice), their answers, and attendance crediting the
hours once with the activity source; bad input changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from center.models import AuditEntry, Notification, Role
from events.models import Activity, Participation
from events.services import activities as svc
from events.services.signups import SERVICE_TZ
from tests.factories import (
    ActivityFactory,
    CommunityFactory,
    SpecialtyFactory,
    StreetFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers.models import HoursEntry, ProviderStatus

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def with_login(**kw):
    return VolunteerFactory(user=UserFactory(role=Role.VOLUNTEER), **kw)


@pytest.fixture
def activity(station):
    return ActivityFactory(station=station, date=TODAY() + days(7), title="重阳节走访")


# --- Activities --------------------------------------------------------------------------


def test_create_by_the_stations_manager_and_refused_for_another_station(
    station, other_station, station_manager, operator
):
    activity = svc.activity_create(
        actor=station_manager,
        station=station,
        title=" 点亮微心愿 ",
        kind=Activity.Kind.WISH_DRIVE,
        date=TODAY() + days(3),
        organizer="建设街道分站",
    )
    assert activity.title == "点亮微心愿" and activity.status == Activity.Status.PLANNED
    assert activity.created_by == station_manager
    assert AuditEntry.objects.filter(action="events.activity.created").count() == 1
    for actor, target in ((station_manager, other_station), (operator, station)):
        with pytest.raises(PermissionDenied):
            svc.activity_create(
                actor=actor,
                station=target,
                title="x",
                kind=Activity.Kind.OTHER,
                date=TODAY(),
                organizer="x",
            )
    assert Activity.objects.count() == 1


def test_create_refuses_an_end_before_the_start(station, station_manager):
    start = datetime.datetime.combine(TODAY(), datetime.time(10), tzinfo=SERVICE_TZ)
    with pytest.raises(ValidationError) as exc:
        svc.activity_create(
            actor=station_manager,
            station=station,
            title="走访",
            kind=Activity.Kind.HOLIDAY_VISIT,
            date=TODAY(),
            organizer="分站",
            starts_at=start,
            ends_at=start - days(0) - datetime.timedelta(hours=1),
        )
    assert "ends_at" in exc.value.error_dict
    assert not Activity.objects.exists()


def test_update_keeps_a_held_activitys_date(activity, station_manager):
    svc.activity_update(actor=station_manager, activity=activity, data={"place": "敬老院"})
    activity.refresh_from_db()
    assert activity.place == "敬老院"
    Activity.objects.filter(pk=activity.pk).update(status=Activity.Status.HELD)
    with pytest.raises(ValidationError):
        svc.activity_update(
            actor=station_manager, activity=activity, data={"date": TODAY() - days(1)}
        )
    activity.refresh_from_db()
    assert activity.date == TODAY() + days(7)


def test_cancel_tells_the_invited_and_joined_only_once(activity, station_manager):
    invited = with_login(station=activity.station)
    joined = with_login(station=activity.station)
    declined = with_login(station=activity.station)
    for v, status in ((invited, "invited"), (joined, "joined"), (declined, "declined")):
        Participation.objects.create(activity=activity, volunteer=v, status=status)
    svc.activity_cancel(actor=station_manager, activity=activity, reason="台风预警")
    activity.refresh_from_db()
    assert activity.status == Activity.Status.CANCELLED
    told = Notification.objects.filter(message="events.activity.cancelled")
    assert {n.recipient_id for n in told} == {invited.user_id, joined.user_id}
    assert told.first().params["reason"] == "台风预警"
    with pytest.raises(ValidationError):
        svc.activity_cancel(actor=station_manager, activity=activity)
    assert told.count() == 2


def test_mark_held_only_on_or_after_the_date(activity, station_manager):
    with pytest.raises(ValidationError):
        svc.activity_mark_held(actor=station_manager, activity=activity, people_served=10)
    activity.refresh_from_db()
    assert activity.status == Activity.Status.PLANNED
    Activity.objects.filter(pk=activity.pk).update(date=TODAY())
    svc.activity_mark_held(actor=station_manager, activity=activity, people_served=42, notes="顺利")
    activity.refresh_from_db()
    assert (activity.status, activity.people_served, activity.notes) == ("held", 42, "顺利")
    with pytest.raises(ValidationError):
        svc.activity_mark_held(actor=station_manager, activity=activity, people_served=1)


def test_mark_held_refuses_a_negative_count(activity, station_manager):
    Activity.objects.filter(pk=activity.pk).update(date=TODAY())
    with pytest.raises(ValidationError):
        svc.activity_mark_held(actor=station_manager, activity=activity, people_served=-3)
    activity.refresh_from_db()
    assert activity.status == Activity.Status.PLANNED


# --- Call-up -------------------------------------------------------------------------------


def test_call_up_by_area_takes_the_area_subtree_only(
    activity, station_manager, center_manager, other_station
):
    street = StreetFactory()
    inside = CommunityFactory(parent=street)
    outside = CommunityFactory()
    in_street = with_login(station=activity.station, community=inside)
    other_station_in_street = VolunteerFactory(station=other_station, community=inside)
    elsewhere = VolunteerFactory(station=activity.station, community=outside)
    homeless = VolunteerFactory(station=activity.station, community=None)
    suspended = VolunteerFactory(
        station=activity.station,
        community=inside,
        status=ProviderStatus.SUSPENDED,
        suspended_until=TODAY() + days(30),
    )
    Activity.objects.filter(pk=activity.pk).update(area=street)
    activity.refresh_from_db()
    # The station's manager mobilises their own stations' volunteers only
    # (the invitees are listed by name on the activity).
    invited, more = svc.activity_call_up(actor=station_manager, activity=activity)
    assert (invited, more) == (1, False)
    got = set(activity.participations.values_list("volunteer_id", flat=True))
    assert got == {in_street.pk}
    # A center manager calls up the city: the other station's volunteer in the street too.
    assert svc.activity_call_up(actor=center_manager, activity=activity) == (1, False)
    got = set(activity.participations.values_list("volunteer_id", flat=True))
    assert got == {in_street.pk, other_station_in_street.pk}
    assert not got & {elsewhere.pk, homeless.pk, suspended.pk}
    assert set(activity.participations.values_list("status", flat=True)) == {"invited"}
    # Told by an inbox message (the one with a login).
    note = Notification.objects.get(message="events.activity.invited")
    assert note.recipient_id == in_street.user_id
    # The district above the street reaches them too (two levels up).
    activity2 = ActivityFactory(station=activity.station, area=street.parent)
    assert svc.activity_call_up(actor=center_manager, activity=activity2) == (2, False)


def test_call_up_by_specialty_and_area_together(activity, station_manager):
    medical, plumbing = SpecialtyFactory(name="医疗卫生"), SpecialtyFactory(name="水电安装")
    community = CommunityFactory()
    doctor = VolunteerFactory(station=activity.station, community=community)
    doctor.specialties.add(medical, plumbing)
    plumber = VolunteerFactory(station=activity.station, community=community)
    plumber.specialties.add(plumbing)
    far_doctor = VolunteerFactory(station=activity.station, community=CommunityFactory())
    far_doctor.specialties.add(medical)
    Activity.objects.filter(pk=activity.pk).update(specialty=medical)
    activity.refresh_from_db()
    svc.activity_call_up(actor=station_manager, activity=activity)
    assert set(activity.participations.values_list("volunteer_id", flat=True)) == {
        doctor.pk,
        far_doctor.pk,
    }
    other = ActivityFactory(station=activity.station, specialty=medical, area=community)
    svc.activity_call_up(actor=station_manager, activity=other)
    assert list(other.participations.values_list("volunteer_id", flat=True)) == [doctor.pk]


def test_call_up_without_area_or_specialty_takes_the_stations_volunteers(
    activity, station_manager, other_station
):
    mine = VolunteerFactory(station=activity.station)
    VolunteerFactory(station=other_station)
    assert svc.activity_call_up(actor=station_manager, activity=activity) == (1, False)
    assert activity.participations.get().volunteer == mine


def test_call_up_is_capped_in_order_and_never_invites_twice(
    activity, center_manager, other_station, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "ACTIVITY_CALL_UP_MAX": 3}
    community = CommunityFactory()
    theirs = [
        VolunteerFactory(station=other_station, community=community, volunteer_no=f"JX1{i:08d}")
        for i in range(2)
    ]
    ours = [
        VolunteerFactory(station=activity.station, community=community, volunteer_no=f"JX9{i:08d}")
        for i in range(2)
    ]
    Activity.objects.filter(pk=activity.pk).update(area=community)
    activity.refresh_from_db()
    # Home station first (though their numbers sort last), then by number.
    assert svc.activity_call_up(actor=center_manager, activity=activity) == (3, True)
    first = set(activity.participations.values_list("volunteer_id", flat=True))
    assert first == {ours[0].pk, ours[1].pk, theirs[0].pk}
    assert svc.activity_call_up(actor=center_manager, activity=activity) == (1, False)
    assert activity.participations.get(volunteer=theirs[1]).status == "invited"
    assert svc.activity_call_up(actor=center_manager, activity=activity) == (0, False)
    assert activity.participations.count() == 4


def test_call_up_refused_for_a_past_or_cancelled_activity(activity, station_manager):
    VolunteerFactory(station=activity.station)
    Activity.objects.filter(pk=activity.pk).update(date=TODAY() - days(1))
    with pytest.raises(ValidationError):
        svc.activity_call_up(actor=station_manager, activity=activity)
    assert not Participation.objects.exists()


def test_call_up_refused_for_another_stations_manager(activity, other_station):
    manager_b = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    VolunteerFactory(station=activity.station)
    with pytest.raises(PermissionDenied):
        svc.activity_call_up(actor=manager_b, activity=activity)
    assert not Participation.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_call_ups_invite_each_volunteer_once(station):
    import threading

    from django.db import connection

    activity = ActivityFactory(station=station, date=TODAY() + days(3))
    VolunteerFactory.create_batch(6, station=station)
    barrier = threading.Barrier(3)
    results, errors = [], []

    def call_up():
        try:
            barrier.wait()
            results.append(svc.activity_call_up(actor=None, activity=activity, limit=4))
        except Exception as exc:  # noqa: BLE001 — reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=call_up) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [(0, False), (2, False), (4, True)]
    assert activity.participations.count() == 6


# --- Adding, answering ----------------------------------------------------------------------


def test_add_a_named_volunteer_who_can_serve(activity, station_manager, other_station):
    volunteer = with_login(station=activity.station)
    p = svc.participation_add(actor=station_manager, activity=activity, volunteer=volunteer)
    assert p.status == "joined"
    assert Notification.objects.filter(recipient=volunteer.user).count() == 1
    with pytest.raises(ValidationError):  # twice
        svc.participation_add(actor=station_manager, activity=activity, volunteer=volunteer)
    suspended = VolunteerFactory(
        station=activity.station,
        status=ProviderStatus.SUSPENDED,
        suspended_until=TODAY() + days(30),
    )
    with pytest.raises(ValidationError):
        svc.participation_add(actor=station_manager, activity=activity, volunteer=suspended)
    # Another station's volunteer: not named by a station manager.
    stranger = VolunteerFactory(station=other_station)
    with pytest.raises(ValidationError):
        svc.participation_add(actor=station_manager, activity=activity, volunteer=stranger)
    assert activity.participations.count() == 1


def test_respond_join_then_decline_then_closed(activity):
    volunteer = with_login(station=activity.station)
    p = Participation.objects.create(activity=activity, volunteer=volunteer, status="invited")
    svc.participation_respond(actor=volunteer.user, participation=p, join=True)
    p.refresh_from_db()
    assert p.status == "joined" and p.responded_at is not None
    with pytest.raises(ValidationError):
        svc.participation_respond(actor=volunteer.user, participation=p, join=True)
    svc.participation_respond(actor=volunteer.user, participation=p, join=False)
    p.refresh_from_db()
    assert p.status == "declined"
    # Someone else cannot answer for them.
    with pytest.raises(PermissionDenied):
        svc.participation_respond(
            actor=UserFactory(role=Role.VOLUNTEER), participation=p, join=True
        )
    Activity.objects.filter(pk=activity.pk).update(status=Activity.Status.CANCELLED)
    with pytest.raises(ValidationError):
        svc.participation_respond(actor=volunteer.user, participation=p, join=True)
    p.refresh_from_db()
    assert p.status == "declined"


def test_join_an_open_activity_of_my_station_only(activity, other_station):
    mine = with_login(station=activity.station)
    p = svc.participation_join(actor=mine.user, activity=activity, volunteer=mine)
    assert p.status == "joined"
    stranger = with_login(station=other_station)
    with pytest.raises(ValidationError):
        svc.participation_join(actor=stranger.user, activity=activity, volunteer=stranger)
    assert activity.participations.count() == 1


# --- Attendance and hours ---------------------------------------------------------------------


@pytest.fixture
def past_activity(station):
    day = TODAY() - days(2)
    return ActivityFactory(
        station=station,
        date=day,
        title="春节走访慰问",
        starts_at=datetime.datetime.combine(day, datetime.time(9), tzinfo=SERVICE_TZ),
        ends_at=datetime.datetime.combine(day, datetime.time(11, 10), tzinfo=SERVICE_TZ),
    )


def test_record_attended_credits_the_hours_once_with_the_activity_source(
    past_activity, station_manager
):
    volunteer = VolunteerFactory(station=past_activity.station)
    p = Participation.objects.create(activity=past_activity, volunteer=volunteer, status="joined")
    svc.participation_record(actor=station_manager, participation=p, attended=True)
    p.refresh_from_db()
    # 09:00–11:10: rounded up to the quarter, like order hours.
    assert p.status == "attended" and p.hours == Decimal("2.25")
    entry = HoursEntry.objects.get(volunteer=volunteer)
    assert entry.source == HoursEntry.Source.ACTIVITY
    assert entry.source_ref == f"participation:{p.pk}"
    assert entry.date == past_activity.date and entry.station == past_activity.station
    assert entry.description == "春节走访慰问" and entry.hours == Decimal("2.25")
    with pytest.raises(ValidationError):
        svc.participation_record(actor=station_manager, participation=p, attended=True, hours=3)
    with pytest.raises(ValidationError):
        svc.participation_record(actor=station_manager, participation=p, attended=False)
    assert HoursEntry.objects.filter(volunteer=volunteer).count() == 1
    volunteer.refresh_from_db()
    assert volunteer.verified_hours == Decimal("2.25")


def test_record_entered_hours_rounded_up_to_the_quarter(past_activity, station_manager):
    p = Participation.objects.create(
        activity=past_activity, volunteer=VolunteerFactory(), status="invited"
    )
    svc.participation_record(actor=station_manager, participation=p, attended=True, hours="1.1")
    assert HoursEntry.objects.get().hours == Decimal("1.25")


@pytest.mark.parametrize("hours", ["0", "-1", "24.5", "abc"])
def test_bad_hours_are_refused_and_change_nothing(past_activity, station_manager, hours):
    p = Participation.objects.create(
        activity=past_activity, volunteer=VolunteerFactory(), status="joined"
    )
    with pytest.raises(ValidationError) as exc:
        svc.participation_record(actor=station_manager, participation=p, attended=True, hours=hours)
    assert "hours" in exc.value.error_dict
    p.refresh_from_db()
    assert p.status == "joined" and p.hours is None
    assert not HoursEntry.objects.exists()
    assert not AuditEntry.objects.filter(action="events.participation.recorded").exists()


def test_record_without_times_needs_hours(station, station_manager):
    activity = ActivityFactory(station=station, date=TODAY())
    p = Participation.objects.create(
        activity=activity, volunteer=VolunteerFactory(), status="joined"
    )
    with pytest.raises(ValidationError):
        svc.participation_record(actor=station_manager, participation=p, attended=True)
    svc.participation_record(actor=station_manager, participation=p, attended=True, hours="3")
    assert HoursEntry.objects.get().hours == Decimal("3")


def test_record_absent_credits_nothing_and_future_is_refused(
    past_activity, activity, station_manager
):
    p = Participation.objects.create(
        activity=past_activity, volunteer=VolunteerFactory(), status="invited"
    )
    svc.participation_record(actor=station_manager, participation=p, attended=False, hours="2")
    p.refresh_from_db()
    assert p.status == "absent" and p.hours is None
    future = Participation.objects.create(
        activity=activity, volunteer=VolunteerFactory(), status="joined"
    )
    with pytest.raises(ValidationError):
        svc.participation_record(actor=station_manager, participation=future, attended=True)
    assert not HoursEntry.objects.exists()


def test_record_refused_for_an_operator(past_activity, operator):
    p = Participation.objects.create(
        activity=past_activity, volunteer=VolunteerFactory(), status="joined"
    )
    with pytest.raises(PermissionDenied):
        svc.participation_record(actor=operator, participation=p, attended=True)
    assert not HoursEntry.objects.exists()


# --- Demo ------------------------------------------------------------------------------------


def test_demo_activities_a_year_held_with_hours_and_coming_invitations(station):
    import random

    from events.demo.activities import seed_activities

    community = CommunityFactory()
    for _ in range(6):
        VolunteerFactory(station=station, community=community)
    me = VolunteerFactory(
        station=station,
        community=community,
        user=UserFactory(username="volunteer", role=Role.VOLUNTEER),
    )
    seed_activities(random.Random(5))
    held = Activity.objects.filter(status="held")
    assert held.count() == 12 and held.filter(date__gte=TODAY()).count() == 0
    assert len({a.date.month for a in held}) == 12
    attended = Participation.objects.filter(status="attended")
    assert attended.exists()
    assert HoursEntry.objects.filter(source="activity").count() == attended.count()
    assert HoursEntry.objects.filter(volunteer=me, source="activity").exists()
    coming = Activity.objects.filter(status="planned", date__gt=TODAY())
    assert coming.count() == 2
    invitation = Participation.objects.get(activity__in=coming, volunteer=me)
    assert invitation.status == "invited"
    assert Notification.objects.filter(recipient=me.user, message="events.activity.invited")
    # Deterministic counts, and a second run adds nothing.
    rows = Participation.objects.count()
    seed_activities(random.Random(5))
    assert Participation.objects.count() == rows and Activity.objects.count() == 14
