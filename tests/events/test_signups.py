"""Sign-ups to service-day shifts: places, the waiting list, check-in/out → hours."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from center.models import AuditEntry, Notification, Role
from events.models import SignUp
from events.services.signups import (
    signup_cancel,
    signup_check_in,
    signup_check_out,
    signup_create,
)
from tests.factories import (
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)
from volunteers.models import HoursEntry, ProviderStatus


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _refused(call, text):
    with override("en"), pytest.raises(ValidationError) as exc:
        call()
    assert text in exc.value.messages[0], exc.value.messages
    return exc.value


@pytest.fixture
def shift(db, station):
    return ShiftFactory(stall__venue__station=station, capacity=2)


@pytest.mark.django_db
def test_places_are_confirmed_then_the_rest_wait(shift, station_manager):
    vols = VolunteerFactory.create_batch(3)
    signups = [signup_create(actor=station_manager, shift=shift, volunteer=v) for v in vols]
    assert [s.status for s in signups] == ["confirmed", "confirmed", "waiting"]
    shift.refresh_from_db()
    assert shift.taken == 2
    entry = AuditEntry.objects.filter(action="events.signup.created").order_by("pk").last()
    assert entry.actor == station_manager and entry.data["status"] == "waiting"


@pytest.mark.django_db
def test_a_volunteer_who_cannot_serve_is_refused(shift):
    removed = VolunteerFactory(status=ProviderStatus.REMOVED)
    _refused(lambda: signup_create(actor=None, shift=shift, volunteer=removed), "cannot serve")
    # Suspended until after the day: refused; the suspension over by the day: allowed.
    day = shift.stall.venue.day.date
    late = VolunteerFactory(
        status=ProviderStatus.SUSPENDED, suspended_until=day + datetime.timedelta(days=1)
    )
    _refused(lambda: signup_create(actor=None, shift=shift, volunteer=late), "cannot serve")
    back = VolunteerFactory(status=ProviderStatus.SUSPENDED, suspended_until=day)
    assert signup_create(actor=None, shift=shift, volunteer=back).status == "confirmed"
    assert SignUp.objects.count() == 1


@pytest.mark.django_db
def test_a_started_shift_is_refused(station):
    now = timezone.now()
    day = ServiceDayFactory(date=timezone.localdate())
    shift = ShiftFactory(
        stall__venue__day=day,
        starts_at=now - datetime.timedelta(minutes=1),
        ends_at=now + datetime.timedelta(hours=2),
    )
    _refused(
        lambda: signup_create(actor=None, shift=shift, volunteer=VolunteerFactory()),
        "already started",
    )
    shift.refresh_from_db()
    assert shift.taken == 0 and not SignUp.objects.exists()


@pytest.mark.django_db
def test_a_second_active_sign_up_on_the_shift_is_refused(shift):
    vol, other = VolunteerFactory(), VolunteerFactory()
    signup_create(actor=None, shift=shift, volunteer=vol)
    _refused(lambda: signup_create(actor=None, shift=shift, volunteer=vol), "already signed up")
    # Waiting counts too.
    signup_create(actor=None, shift=shift, volunteer=other)
    third = VolunteerFactory()
    signup_create(actor=None, shift=shift, volunteer=third)  # waiting
    _refused(lambda: signup_create(actor=None, shift=shift, volunteer=third), "already signed up")
    shift.refresh_from_db()
    assert shift.taken == 2 and SignUp.objects.count() == 3


@pytest.mark.django_db
def test_overlapping_confirmed_shifts_on_the_same_day_are_refused(shift):
    day = shift.stall.venue.day
    vol = VolunteerFactory()
    signup_create(actor=None, shift=shift, volunteer=vol)  # 09:00–11:00
    overlapping = ShiftFactory(
        stall=StallFactory(venue=VenueFactory(day=day), service="理发"),
        starts_at=_at(day.date, 10),
        ends_at=_at(day.date, 12),
    )
    _refused(lambda: signup_create(actor=None, shift=overlapping, volunteer=vol), "at this time")
    after = ShiftFactory(
        stall=overlapping.stall, starts_at=_at(day.date, 11), ends_at=_at(day.date, 13)
    )
    assert signup_create(actor=None, shift=after, volunteer=vol).status == "confirmed"


@pytest.mark.django_db
def test_cancelling_a_place_promotes_the_first_waiting_in_turn(station):
    shift = ShiftFactory(stall__venue__station=station, capacity=1)
    first = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    user_b = UserFactory(role=Role.VOLUNTEER)
    user_c = UserFactory(role=Role.VOLUNTEER)
    b = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory(user=user_b))
    c = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory(user=user_c))
    assert (b.status, c.status) == ("waiting", "waiting")
    # Turn is sign-up time (then id), not the id alone.
    SignUp.objects.filter(pk=c.pk).update(created_at=b.created_at - datetime.timedelta(minutes=1))

    signup_cancel(actor=first.volunteer.user, signup=first)

    first.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db(), shift.refresh_from_db()
    assert first.status == "cancelled" and first.cancelled_at is not None
    assert (c.status, b.status) == ("confirmed", "waiting")
    assert shift.taken == 1
    note = Notification.objects.get()
    assert note.recipient == user_c and note.message == "events.signup.promoted"
    assert note.params["service"] == "磨刀" and note.params["start"] == "09:00"
    assert AuditEntry.objects.filter(action="events.signup.promoted", target_id=str(c.pk)).exists()
    assert AuditEntry.objects.get(action="events.signup.cancelled").data["promoted"] == c.pk
    # Then b, next.
    signup_cancel(actor=None, signup=c)
    b.refresh_from_db()
    assert b.status == "confirmed" and Notification.objects.filter(recipient=user_b).exists()


@pytest.mark.django_db
def test_promotion_without_a_login_tells_nobody_and_still_promotes(station):
    shift = ShiftFactory(stall__venue__station=station, capacity=1)
    first = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    waiting = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory(user=None))
    signup_cancel(actor=None, signup=first)
    waiting.refresh_from_db()
    assert waiting.status == "confirmed" and not Notification.objects.exists()


@pytest.mark.django_db
def test_promotion_skips_a_volunteer_now_busy_at_that_time(station):
    shift = ShiftFactory(stall__venue__station=station, capacity=1)
    day = shift.stall.venue.day
    first = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    busy_vol, free_vol = VolunteerFactory(), VolunteerFactory()
    busy = signup_create(actor=None, shift=shift, volunteer=busy_vol)
    free = signup_create(actor=None, shift=shift, volunteer=free_vol)
    # While waiting here, busy_vol took a place elsewhere at the same time.
    other = ShiftFactory(
        stall__venue__day=day, starts_at=_at(day.date, 10), ends_at=_at(day.date, 12)
    )
    signup_create(actor=None, shift=other, volunteer=busy_vol)
    signup_cancel(actor=None, signup=first)
    busy.refresh_from_db(), free.refresh_from_db()
    assert (busy.status, free.status) == ("waiting", "confirmed")


@pytest.mark.django_db
def test_cancelling_a_waiting_sign_up_promotes_nobody(station):
    shift = ShiftFactory(stall__venue__station=station, capacity=1)
    confirmed = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    a = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    b = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    signup_cancel(actor=None, signup=a)
    confirmed.refresh_from_db(), a.refresh_from_db(), b.refresh_from_db(), shift.refresh_from_db()
    assert (confirmed.status, a.status, b.status) == ("confirmed", "cancelled", "waiting")
    assert shift.taken == 1
    assert AuditEntry.objects.get(action="events.signup.cancelled").data == {
        "was": "waiting",
        "promoted": None,
    }
    _refused(lambda: signup_cancel(actor=None, signup=a), "already cancelled")


@pytest.mark.django_db
def test_cancel_then_sign_up_again_round_trip(shift):
    vol = VolunteerFactory()
    signup = signup_create(actor=None, shift=shift, volunteer=vol)
    signup_cancel(actor=None, signup=signup)
    shift.refresh_from_db()
    assert shift.taken == 0  # nobody waiting: the place is free again
    again = signup_create(actor=None, shift=shift, volunteer=vol)
    assert again.pk != signup.pk and again.status == "confirmed"
    signup.refresh_from_db()
    assert signup.status == "cancelled"  # kept for the record
    shift.refresh_from_db()
    assert shift.taken == 1


@pytest.mark.django_db
def test_a_started_shift_can_no_longer_be_cancelled(shift):
    signup = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    now = timezone.now()
    type(shift).objects.filter(pk=shift.pk).update(
        starts_at=now - datetime.timedelta(minutes=5), ends_at=now + datetime.timedelta(hours=1)
    )
    _refused(lambda: signup_cancel(actor=None, signup=signup), "already started")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_ups_fill_exactly_the_places(station):
    shift = ShiftFactory(stall__venue__station=station, capacity=3)
    vols = VolunteerFactory.create_batch(8)
    barrier = threading.Barrier(len(vols))
    outcomes, errors = [], []

    def sign_up(volunteer):
        try:
            barrier.wait()
            outcomes.append(signup_create(actor=None, shift=shift, volunteer=volunteer).status)
        except Exception as exc:  # noqa: BLE001 — reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(v,)) for v in vols]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(outcomes) == ["confirmed"] * 3 + ["waiting"] * 5
    shift.refresh_from_db()
    assert shift.taken == 3
    assert SignUp.objects.filter(shift=shift, status="confirmed").count() == 3
    assert SignUp.objects.filter(shift=shift, status="waiting").count() == 5


# --- check-in and check-out --------------------------------------------------------


@pytest.fixture
def today_signup(db, station):
    """A confirmed sign-up on a service day that is today."""
    day = ServiceDayFactory(date=timezone.localdate())
    stall = StallFactory(venue=VenueFactory(day=day, station=station), service="家电维修")
    shift = ShiftFactory(stall=stall, starts_at=_at(day.date, 9, 0), ends_at=_at(day.date, 11, 0))
    # Signed up before the day began (the shift has since started, for all we know).
    return SignUp.objects.create(shift=shift, volunteer=VolunteerFactory(), status="confirmed")


@pytest.mark.django_db
def test_check_in_and_out_credit_the_hours_once(today_signup, station, station_manager):
    today = today_signup.shift.stall.venue.day.date
    signup_check_in(actor=station_manager, signup=today_signup, at=_at(today, 9, 0))
    signup = signup_check_out(actor=station_manager, signup=today_signup, at=_at(today, 10, 20))
    assert signup.checked_in_by == station_manager
    entry = HoursEntry.objects.get()
    # 80 minutes, rounded up to quarters like order hours.
    assert entry.hours == Decimal("1.50")
    assert entry.source == HoursEntry.Source.SERVICE_DAY
    assert entry.source_ref == f"shift:{signup.shift_id}:volunteer:{signup.volunteer_id}"
    assert entry.station == station and entry.date == today
    assert entry.description == "家电维修" and entry.volunteer == signup.volunteer
    _refused(
        lambda: signup_check_out(actor=station_manager, signup=signup, at=_at(today, 11)),
        "already checked out",
    )
    assert HoursEntry.objects.count() == 1
    signup.refresh_from_db()
    assert signup.checked_out_at == _at(today, 10, 20)
    assert AuditEntry.objects.get(action="events.signup.checked_out").data["hours"] == "1.5"


@pytest.mark.django_db
def test_short_attendance_gets_at_least_a_quarter(today_signup):
    today = today_signup.shift.stall.venue.day.date
    signup_check_in(actor=None, signup=today_signup, at=_at(today, 9, 0))
    signup_check_out(actor=None, signup=today_signup, at=_at(today, 9, 5))
    assert HoursEntry.objects.get().hours == Decimal("0.25")


@pytest.mark.django_db
def test_check_out_needs_a_check_in_before_it(today_signup):
    today = today_signup.shift.stall.venue.day.date
    _refused(
        lambda: signup_check_out(actor=None, signup=today_signup, at=_at(today, 10)),
        "not checked in",
    )
    signup_check_in(actor=None, signup=today_signup, at=_at(today, 10))
    _refused(
        lambda: signup_check_in(actor=None, signup=today_signup, at=_at(today, 10, 5)),
        "already checked in",
    )
    _refused(
        lambda: signup_check_out(actor=None, signup=today_signup, at=_at(today, 10)),
        "after check-in",
    )
    assert not HoursEntry.objects.exists()


@pytest.mark.django_db
def test_check_in_only_within_the_shift_and_credit_only_the_shift(today_signup):
    today = today_signup.shift.stall.venue.day.date
    # 09:00–11:00: not before 08:00, not from 11:00.
    _refused(
        lambda: signup_check_in(actor=None, signup=today_signup, at=_at(today, 7, 59)),
        "an hour before",
    )
    _refused(
        lambda: signup_check_in(actor=None, signup=today_signup, at=_at(today, 11, 0)),
        "ended",
    )
    signup_check_in(actor=None, signup=today_signup, at=_at(today, 8, 0))
    # Out before the shift began: nothing served in it yet.
    _refused(
        lambda: signup_check_out(actor=None, signup=today_signup, at=_at(today, 8, 30)),
        "starts at 09:00",
    )
    # Out late in the evening: the shift's two hours, not fifteen.
    signup_check_out(actor=None, signup=today_signup, at=_at(today, 23, 0))
    assert HoursEntry.objects.get().hours == Decimal("2.00")


@pytest.mark.django_db
def test_a_checked_in_sign_up_cannot_be_cancelled_and_a_shift_is_credited_once(
    station, monkeypatch
):
    """The probe's loop: check in, out, cancel, sign up again, again... A
    checked-in sign-up is a record (no cancel), and the hours are per
    volunteer and shift, so even a second row of the same shift credits
    nothing more."""
    day = ServiceDayFactory(date=timezone.localdate())
    shift = ShiftFactory(
        stall=StallFactory(venue=VenueFactory(day=day, station=station)),
        starts_at=_at(day.date, 9, 0),
        ends_at=_at(day.date, 11, 0),
        capacity=3,
    )
    volunteer = VolunteerFactory()
    first = SignUp.objects.create(shift=shift, volunteer=volunteer, status="confirmed")
    signup_check_in(actor=None, signup=first, at=_at(day.date, 9, 0))
    signup_check_out(actor=None, signup=first, at=_at(day.date, 10, 0))
    # Before the shift (as if it were early morning): cancelling is still refused.
    monkeypatch.setattr("events.services.signups.timezone.now", lambda: _at(day.date, 8, 0))
    _refused(lambda: signup_cancel(actor=None, signup=first), "checked in")
    # A second row of the same shift (however it came about) adds no hours.
    SignUp.objects.filter(pk=first.pk).update(status="cancelled")
    second = SignUp.objects.create(shift=shift, volunteer=volunteer, status="confirmed")
    signup_check_in(actor=None, signup=second, at=_at(day.date, 10, 0))
    signup_check_out(actor=None, signup=second, at=_at(day.date, 11, 0))
    assert HoursEntry.objects.filter(volunteer=volunteer).count() == 1


@pytest.mark.django_db
def test_check_in_only_on_the_service_day(today_signup):
    today = today_signup.shift.stall.venue.day.date
    _refused(
        lambda: signup_check_in(
            actor=None, signup=today_signup, at=_at(today - datetime.timedelta(days=1), 9)
        ),
        "only possible on the service day",
    )
    # 00:30 UTC is 08:30 in Asia/Shanghai: the day itself (the 09:00 shift's check-in is open).
    utc_evening = datetime.datetime.combine(today, datetime.time(0, 30), tzinfo=datetime.UTC)
    signup_check_in(actor=None, signup=today_signup, at=utc_evening)
    today_signup.refresh_from_db()
    assert today_signup.checked_in_at == utc_evening
    # Not the next day either.
    _refused(
        lambda: signup_check_out(
            actor=None, signup=today_signup, at=_at(today + datetime.timedelta(days=1), 0, 30)
        ),
        "only possible on the service day",
    )


@pytest.mark.django_db
def test_only_confirmed_sign_ups_check_in(today_signup):
    today = today_signup.shift.stall.venue.day.date
    for status in ("waiting", "cancelled"):
        SignUp.objects.filter(pk=today_signup.pk).update(status=status)
        _refused(
            lambda: signup_check_in(actor=None, signup=today_signup, at=_at(today, 9)),
            "Only a confirmed sign-up",
        )
    assert not SignUp.objects.filter(checked_in_at__isnull=False).exists()


@pytest.mark.django_db
def test_back_office_lists_and_shows_service_days_read_mostly(client, center_manager, shift):
    from django.urls import reverse

    signup = signup_create(actor=None, shift=shift, volunteer=VolunteerFactory())
    client.force_login(center_manager)
    stall, venue = shift.stall, shift.stall.venue
    for name, obj in (
        ("serviceday", venue.day),
        ("venue", venue),
        ("stall", stall),
        ("shift", shift),
        ("signup", signup),
    ):
        assert client.get(reverse(f"admin:events_{name}_changelist")).status_code == 200, name
        url = reverse(f"admin:events_{name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200, name
    # Places and sign-ups change only through the services.
    assert client.get(reverse("admin:events_signup_add")).status_code == 403
    assert client.get(reverse("admin:events_shift_add")).status_code == 403
    # Stall details are plain data, saved through reference_save (audited).
    response = client.post(
        reverse("admin:events_stall_change", args=[stall.pk]),
        {"service": "磨刀剪", "people_served": "12", "notes": "人很多"},
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    stall.refresh_from_db()
    assert (stall.service, stall.people_served) == ("磨刀剪", 12)
    assert AuditEntry.objects.get(action="events.stall.updated").actor == center_manager
