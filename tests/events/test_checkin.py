"""Volunteers' self check-in by the code shown at the stall: the daily code,
the refusals (wrong code, another day's code, no sign-up, guessing), the
hours credited once, the staff poster (scoped, on the day only) and the
volunteer's scan page."""

import datetime
from decimal import Decimal
from urllib.parse import unquote

import pytest
import segno
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from center.models import AuditEntry, Role
from events.models import SignUp
from events.services import checkin
from events.services.checkin import (
    WRONG_CODE_LIMIT,
    self_check,
    service_today,
    stall_code,
)
from events.services.signups import SERVICE_TZ, signup_create
from tests.factories import (
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)
from volunteers.models import HoursEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are asserted in English (zh-hans is the default)."""
    with translation.override("en"):
        yield


def _at(date, hour, minute=0):
    """A moment of ``date`` in Jiaxing."""
    return datetime.datetime.combine(date, datetime.time(hour, minute), tzinfo=SERVICE_TZ)


@pytest.fixture
def me(station, volunteer_user):
    return VolunteerFactory(name="王志愿", station=station, user=volunteer_user, on_duty=True)


@pytest.fixture
def future_shift(station):
    """09:00–11:00 on a coming service day at a stall of ``station``."""
    return ShiftFactory(stall__venue__station=station, stall__service="磨刀")


@pytest.fixture
def my_future_signup(me, future_shift):
    return signup_create(actor=None, shift=future_shift, volunteer=me)


def _today_shift(station, service="磨刀"):
    """A stall of ``station`` on a service day today, one 09:00–11:00 shift."""
    today = service_today()
    day = ServiceDayFactory(date=today)
    venue = VenueFactory(day=day, station=station, name="月河广场")
    return ShiftFactory(stall=StallFactory(venue=venue, service=service))


@pytest.fixture
def past_shift(station):
    """09:00–11:00 on a service day a week ago (hours are never credited for
    a future date, so a whole check-in/out runs on a past day with ``at=``)."""
    day = ServiceDayFactory(date=service_today() - datetime.timedelta(days=7))
    return ShiftFactory(stall__venue__day=day, stall__venue__station=station, stall__service="磨刀")


def _confirmed(shift, volunteer):
    """A confirmed sign-up on a shift of today (signup_create refuses shifts
    already started, which a 09:00 shift of today may be)."""
    shift.taken += 1
    shift.save(update_fields=["taken"])
    return SignUp.objects.create(shift=shift, volunteer=volunteer, status=SignUp.Status.CONFIRMED)


# --- The code ----------------------------------------------------------------------------


def test_code_differs_per_stall_and_per_day_and_is_stable(future_shift):
    stall = future_shift.stall
    other = StallFactory(venue=stall.venue)
    day = stall.venue.day.date
    code = stall_code(stall, day)
    assert len(code) == 8 and code.isalnum() and code == code.upper()
    assert stall_code(stall, day) == code  # no storage: derived again, the same
    assert stall_code(stall.pk, day) == code
    assert stall_code(other, day) != code
    assert stall_code(stall, day + datetime.timedelta(days=1)) != code
    assert stall_code(stall, day - datetime.timedelta(days=1)) != code


def test_today_is_the_date_in_jiaxing():
    # 2026-01-30 17:30 UTC is already Saturday 01:30 in Jiaxing.
    at = datetime.datetime(2026, 1, 30, 17, 30, tzinfo=datetime.UTC)
    assert service_today(at) == datetime.date(2026, 1, 31)


# --- self_check --------------------------------------------------------------------------


def test_check_in_then_out_credits_the_hours_once(me, past_shift, volunteer_user):
    my_signup = _confirmed(past_shift, me)
    stall = past_shift.stall
    day = stall.venue.day.date
    code = stall_code(stall, day)
    signup = self_check(
        actor=volunteer_user, volunteer=me, stall=stall, code=code, at=_at(day, 8, 55)
    )
    assert signup.pk == my_signup.pk
    assert signup.checked_in_at == _at(day, 8, 55) and signup.checked_out_at is None
    assert signup.checked_in_by == volunteer_user
    assert not HoursEntry.objects.filter(volunteer=me).exists()
    # The same code again, later: checks out (lower-case and spaces are forgiven).
    signup = self_check(
        actor=volunteer_user,
        volunteer=me,
        stall=stall,
        code=f" {code.lower()} ",
        at=_at(day, 11, 0),
    )
    assert signup.checked_out_at == _at(day, 11, 0)
    entry = HoursEntry.objects.get(volunteer=me)
    # In at 08:55, out at 11:00: the shift (09:00–11:00) is what is credited.
    assert entry.hours == Decimal("2.00")
    assert entry.source == HoursEntry.Source.SERVICE_DAY
    assert (
        entry.source_ref == f"shift:{signup.shift_id}:volunteer:{signup.volunteer_id}"
        and entry.date == day
    )
    # A third scan: refused, no second entry.
    with pytest.raises(ValidationError, match="already checked out"):
        self_check(actor=volunteer_user, volunteer=me, stall=stall, code=code, at=_at(day, 11, 30))
    assert HoursEntry.objects.filter(volunteer=me).count() == 1
    actions = list(
        AuditEntry.objects.filter(target_id=str(signup.pk)).values_list("action", "actor")
    )
    assert ("events.signup.checked_in", volunteer_user.pk) in actions
    assert ("events.signup.checked_out", volunteer_user.pk) in actions


@pytest.mark.parametrize("days", [-1, 1])
def test_another_days_code_is_refused(me, my_future_signup, volunteer_user, days):
    stall = my_future_signup.shift.stall
    day = stall.venue.day.date
    yesterdays_or_tomorrows = stall_code(stall, day + datetime.timedelta(days=days))
    with pytest.raises(ValidationError, match="not valid"):
        self_check(
            actor=volunteer_user,
            volunteer=me,
            stall=stall,
            code=yesterdays_or_tomorrows,
            at=_at(day, 9, 0),
        )
    my_future_signup.refresh_from_db()
    assert my_future_signup.checked_in_at is None


def test_the_right_code_on_another_day_finds_no_sign_up(me, my_future_signup, volunteer_user):
    """The day before, that day's code is right but the service day is not today."""
    stall = my_future_signup.shift.stall
    eve = stall.venue.day.date - datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="no confirmed sign-up"):
        self_check(
            actor=volunteer_user,
            volunteer=me,
            stall=stall,
            code=stall_code(stall, eve),
            at=_at(eve, 9, 0),
        )
    my_future_signup.refresh_from_db()
    assert my_future_signup.checked_in_at is None


def test_another_stalls_code_is_refused(me, my_future_signup, volunteer_user):
    stall = my_future_signup.shift.stall
    day = stall.venue.day.date
    neighbour = StallFactory(venue=stall.venue)
    with pytest.raises(ValidationError, match="not valid"):
        self_check(
            actor=volunteer_user,
            volunteer=me,
            stall=stall,
            code=stall_code(neighbour, day),
            at=_at(day, 9, 0),
        )


def test_volunteer_without_a_confirmed_sign_up_is_refused(future_shift, station):
    stall = future_shift.stall
    day = stall.venue.day.date
    code = stall_code(stall, day)
    stranger = VolunteerFactory(station=station, on_duty=True)
    with pytest.raises(ValidationError, match="no confirmed sign-up"):
        self_check(actor=None, volunteer=stranger, stall=stall, code=code, at=_at(day, 9, 0))
    # On the waiting list is not enough either.
    for v in VolunteerFactory.create_batch(2, on_duty=True):
        signup_create(actor=None, shift=future_shift, volunteer=v)
    waiting = signup_create(actor=None, shift=future_shift, volunteer=stranger)
    assert waiting.status == "waiting"
    with pytest.raises(ValidationError, match="no confirmed sign-up"):
        self_check(actor=None, volunteer=stranger, stall=stall, code=code, at=_at(day, 9, 0))
    waiting.refresh_from_db()
    assert waiting.checked_in_at is None
    assert not AuditEntry.objects.filter(action__startswith="events.signup.checked").exists()


def test_of_two_shifts_the_current_one_then_the_open_one(me, past_shift):
    morning = past_shift
    stall = past_shift.stall
    day = stall.venue.day.date
    later = ShiftFactory(
        stall=stall,
        starts_at=morning.starts_at + datetime.timedelta(hours=3),
        ends_at=morning.ends_at + datetime.timedelta(hours=3),
    )
    first = _confirmed(morning, me)
    second = _confirmed(later, me)
    code = stall_code(stall, day)
    # 11:30: the 09:00–11:00 shift is over, the 12:00 one is next.
    done = self_check(actor=None, volunteer=me, stall=stall, code=code, at=_at(day, 11, 30))
    assert done.pk == second.pk
    # Checked in: the next scan checks that one out, not the other.
    done = self_check(actor=None, volunteer=me, stall=stall, code=code, at=_at(day, 14, 0))
    assert done.pk == second.pk and done.checked_out_at is not None
    first.refresh_from_db()
    assert first.checked_in_at is None


def test_wrong_codes_are_counted_and_then_refused_for_a_while(
    me, my_future_signup, volunteer_user, station
):
    stall = my_future_signup.shift.stall
    day = stall.venue.day.date
    at = _at(day, 9, 0)
    for i in range(WRONG_CODE_LIMIT - 1):
        with pytest.raises(ValidationError, match="not valid"):
            self_check(actor=None, volunteer=me, stall=stall, code=f"WRONG{i:03d}", at=at)
    # Nine wrong: the right code still works.
    self_check(actor=None, volunteer=me, stall=stall, code=stall_code(stall, day), at=at)
    # The tenth wrong code: blocked, and now even the right code is refused.
    with pytest.raises(ValidationError) as refused:
        self_check(actor=None, volunteer=me, stall=stall, code="WRONG999", at=at)
    assert refused.value.code == "throttled"
    with pytest.raises(ValidationError, match="Too many wrong codes"):
        self_check(
            actor=None,
            volunteer=me,
            stall=stall,
            code=stall_code(stall, day),
            at=_at(day, 11, 0),
        )
    my_future_signup.refresh_from_db()
    assert my_future_signup.checked_out_at is None
    # Another volunteer is not blocked by my guesses.
    other = VolunteerFactory(station=station, on_duty=True)
    with pytest.raises(ValidationError) as theirs:
        self_check(actor=None, volunteer=other, stall=stall, code=stall_code(stall, day), at=at)
    assert theirs.value.code == "no_signup"


# --- The staff poster ----------------------------------------------------------------------


def test_poster_shows_the_qr_code_only_on_the_day(client, station, station_manager):
    today_shift = _today_shift(station)
    stall = today_shift.stall
    client.force_login(station_manager)
    response = client.get(reverse("events:stall_code", args=[stall.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    code = stall_code(stall, service_today())
    assert "<svg" in body and code in body
    assert "磨刀" in body and "月河广场" in body
    scan_url = reverse("events:self_check_in", kwargs={"pk": stall.pk, "code": code})
    assert response.context["code"] == code
    # The QR code is the one of the absolute scan URL (same matrix, same drawing).
    expected = segno.make(f"http://testserver{scan_url}", error="m").svg_inline(
        scale=8, omitsize=False, title="Check-in QR code: 磨刀"
    )
    assert expected in body
    assert response["Cache-Control"].startswith("max-age=0")

    coming = ShiftFactory(stall__venue__station=station).stall
    response = client.get(reverse("events:stall_code", args=[coming.pk]), HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" not in body and "appears here on the service day" in body
    for offset in range(-2, 40):
        assert stall_code(coming, service_today() + datetime.timedelta(days=offset)) not in body


def test_poster_escapes_the_stall_name(client, station, center_manager):
    stall = _today_shift(station, service="<b>磨刀</b>").stall
    client.force_login(center_manager)
    body = client.get(reverse("events:stall_code", args=[stall.pk])).content.decode()
    assert "<svg" in body and "<b>" not in body and "&lt;b&gt;磨刀" in body


def test_poster_is_scoped_and_staff_only(
    client, station, other_station, station_manager, center_manager, operator, me
):
    stall = _today_shift(station).stall
    url = reverse("events:stall_code", args=[stall.pk])
    # Anonymous: to the login page, back here afterwards.
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response.url and url in response.url
    # Another station's manager: 404, as if it did not exist.
    client.force_login(UserFactory(role=Role.STATION_MANAGER, stations=[other_station]))
    assert client.get(url).status_code == 404
    # A volunteer (even one signed up there) and an outsider: 403.
    _confirmed(stall.shifts.get(), me)
    for user in (me.user, UserFactory(role="")):
        client.force_login(user)
        assert client.get(url).status_code == 403
    for user in (station_manager, center_manager, operator):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and b"<svg" in response.content, user
    # A page, not an action.
    assert client.post(url).status_code == 405


# --- The volunteer's scan page -------------------------------------------------------------


@pytest.fixture
def at_half_past_nine():
    """09:30 today in Jiaxing, the clock running: the 09:00 shift is on."""
    import time_machine

    start = datetime.datetime.combine(service_today(), datetime.time(9, 30), tzinfo=SERVICE_TZ)
    with time_machine.travel(start, tick=True):
        yield


def test_scan_confirm_then_check_in_then_out(client, station, me, at_half_past_nine):
    shift = _today_shift(station)
    signup = _confirmed(shift, me)
    code = stall_code(shift.stall, service_today())
    url = reverse("events:self_check_in", kwargs={"pk": shift.stall.pk, "code": code})
    client.force_login(me.user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["signup"] == signup
    assert b"Check in now" in response.content
    signup.refresh_from_db()
    assert signup.checked_in_at is None  # GET writes nothing
    response = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response.url == reverse("events:my_shifts")
    signup.refresh_from_db()
    assert signup.checked_in_at is not None and signup.checked_in_by == me.user
    assert b"Check out now" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content
    client.post(url)
    signup.refresh_from_db()
    assert signup.checked_out_at is not None
    assert (
        HoursEntry.objects.filter(
            volunteer=me, source_ref=f"shift:{signup.shift_id}:volunteer:{signup.volunteer_id}"
        ).count()
        == 1
    )
    # Done: the page says so, a further POST is refused and credits nothing more.
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert b"already checked out" in response.content and b"self-check-button" not in (
        response.content
    )
    response = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and b"already checked out" in response.content
    assert HoursEntry.objects.filter(volunteer=me).count() == 1


def test_scan_of_a_stall_i_never_signed_up_for_is_404_with_a_reason(client, station, me):
    stall = _today_shift(station).stall
    client.force_login(me.user)
    right = reverse(
        "events:self_check_in",
        kwargs={"pk": stall.pk, "code": stall_code(stall, service_today())},
    )
    for method in ("get", "post"):
        response = getattr(client, method)(right, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404
        assert b"You have not signed up for a shift at this stall" in response.content
    assert not AuditEntry.objects.filter(action__startswith="events.signup").exists()


def test_scan_with_a_wrong_code_says_why_and_changes_nothing(client, station, me):
    shift = _today_shift(station)
    signup = _confirmed(shift, me)
    client.force_login(me.user)
    wrong = reverse("events:self_check_in", kwargs={"pk": shift.stall.pk, "code": "AAAAAAAA"})
    response = client.get(wrong, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200  # the page explains; no button
    assert b"not valid for this stall today" in response.content
    assert b"self-check-button" not in response.content
    response = client.post(wrong, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and b"not valid for this stall today" in response.content
    signup.refresh_from_db()
    assert signup.checked_in_at is None


def test_scan_on_the_waiting_list_is_refused(client, station, me):
    shift = _today_shift(station)
    SignUp.objects.create(shift=shift, volunteer=me, status=SignUp.Status.WAITING)
    client.force_login(me.user)
    right = reverse(
        "events:self_check_in",
        kwargs={"pk": shift.stall.pk, "code": stall_code(shift.stall, service_today())},
    )
    response = client.post(right, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and b"no confirmed sign-up" in response.content
    assert not AuditEntry.objects.filter(action__startswith="events.signup").exists()


def test_scan_page_throttles_guessing(client, station, me):
    shift = _today_shift(station)
    signup = _confirmed(shift, me)
    client.force_login(me.user)
    for i in range(WRONG_CODE_LIMIT):
        url = reverse("events:self_check_in", kwargs={"pk": shift.stall.pk, "code": f"G{i:07d}"})
        client.get(url)
    right = reverse(
        "events:self_check_in",
        kwargs={"pk": shift.stall.pk, "code": stall_code(shift.stall, service_today())},
    )
    response = client.post(right, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429 and b"Too many wrong codes" in response.content
    signup.refresh_from_db()
    assert signup.checked_in_at is None


def test_scan_page_asks_a_visitor_to_log_in_first_and_refuses_staff(
    client, station, station_manager
):
    stall = _today_shift(station).stall
    url = reverse(
        "events:self_check_in", kwargs={"pk": stall.pk, "code": stall_code(stall, service_today())}
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login")) and url in unquote(response.url)
    client.force_login(station_manager)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


def test_preview_counts_wrong_codes_too(me, my_future_signup):
    stall = my_future_signup.shift.stall
    day = stall.venue.day.date
    for _ in range(WRONG_CODE_LIMIT):
        with pytest.raises(ValidationError):
            checkin.self_check_preview(volunteer=me, stall=stall, code="NOPE", at=_at(day, 9))
    with pytest.raises(ValidationError, match="Too many"):
        checkin.self_check_preview(
            volunteer=me, stall=stall, code=stall_code(stall, day), at=_at(day, 9)
        )


def test_guessing_at_one_stall_does_not_block_the_scan_at_another(client, station, me):
    """The throttle is per volunteer and stall: a forged link (or sticker) to
    one stall cannot lock the volunteer out of their scan at another."""
    first = _today_shift(station, service="磨刀")
    second = ShiftFactory(stall=StallFactory(venue=first.stall.venue, service="理发"))
    _confirmed(first, me)
    _confirmed(second, me)
    client.force_login(me.user)
    for i in range(WRONG_CODE_LIMIT):
        client.get(
            reverse("events:self_check_in", kwargs={"pk": first.stall.pk, "code": f"G{i:07d}"})
        )
    right_first = reverse(
        "events:self_check_in",
        kwargs={"pk": first.stall.pk, "code": stall_code(first.stall, service_today())},
    )
    assert client.post(right_first).status_code == 429
    right_second = reverse(
        "events:self_check_in",
        kwargs={"pk": second.stall.pk, "code": stall_code(second.stall, service_today())},
    )
    assert client.post(right_second).status_code != 429
