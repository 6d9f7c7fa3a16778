"""A venue's roster on the service day (masked mobiles, the waiting list in
turn, check-in and check-out from the page crediting hours once, live
refresh), a sign-up cancelled by staff, the stall's report page, and the
message to everyone on a day (once per volunteer, never to another
station's)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry, Delivery, Notification, Role
from events.models import Shift, SignUp
from events.services import stalls as svc
from events.services.signups import SERVICE_TZ
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

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HX = {"HTTP_HX_REQUEST": "true"}


def today():
    return timezone.localdate()


@pytest.fixture
def today_venue(station):
    return VenueFactory(day=ServiceDayFactory(date=today()), station=station, name="甲站广场")


@pytest.fixture
def coming_venue(station):
    day = ServiceDayFactory(date=today() + datetime.timedelta(days=7))
    return VenueFactory(day=day, station=station, name="甲站社区")


def signup(shift, status=SignUp.Status.CONFIRMED, login=True, **volunteer):
    v = VolunteerFactory(
        station=shift.stall.venue.station,
        user=UserFactory(role=Role.VOLUNTEER) if login else None,
        **volunteer,
    )
    s = SignUp.objects.create(shift=shift, volunteer=v, status=status)
    if status == SignUp.Status.CONFIRMED:
        Shift.objects.filter(pk=shift.pk).update(taken=shift.taken + 1)
        shift.refresh_from_db()
    return s


# --- The roster ----------------------------------------------------------------------


def test_roster_lists_confirmed_masked_and_the_waiting_list_in_turn(
    client, station_manager, today_venue
):
    shift = ShiftFactory(stall=StallFactory(venue=today_venue, service="磨刀"), capacity=1)
    signup(shift, name="王一", mobile="13812345678")
    first = signup(shift, SignUp.Status.WAITING, name="李二")
    second = signup(shift, SignUp.Status.WAITING, name="赵三")
    client.force_login(station_manager)
    response = client.get(reverse("events:venue_roster", args=[today_venue.pk]), **EN)
    body = response.content.decode()
    assert response.status_code == 200
    assert "王一" in body and "138****5678" in body and "13812345678" not in body
    assert body.index("李二") < body.index("赵三")
    assert 'hx-trigger="every 15s"' in body
    assert reverse("events:venue_roster_fragment", args=[today_venue.pk]) in body
    assert (
        reverse("events:signup_check_in", args=[shift.signups.get(status="confirmed").pk]) in body
    )
    stalls = response.context["stalls"]
    assert [s.pk for s in stalls[0].shifts.all()[0].waiting_list] == [first.pk, second.pk]
    # The check-in code poster of the stall (part B's page).
    assert reverse("events:stall_code", args=[shift.stall_id]) in body


def test_roster_fragment_is_only_the_roster(client, station_manager, today_venue):
    shift = ShiftFactory(stall=StallFactory(venue=today_venue))
    signup(shift, name="王一")
    client.force_login(station_manager)
    body = client.get(
        reverse("events:venue_roster_fragment", args=[today_venue.pk]), **HX
    ).content.decode()
    assert "王一" in body and "<html" not in body and "navbar" not in body


@pytest.mark.parametrize("name", ["events:venue_roster", "events:venue_roster_fragment"])
def test_roster_query_count_is_constant(
    client, station_manager, today_venue, name, django_assert_num_queries
):
    def grow(n):
        for _ in range(n):
            shift = ShiftFactory(stall=StallFactory(venue=today_venue), capacity=1)
            s = signup(shift)
            SignUp.objects.filter(pk=s.pk).update(
                checked_in_at=timezone.now() - datetime.timedelta(hours=1),
                checked_out_at=timezone.now(),
            )
            HoursEntry.objects.create(
                volunteer=s.volunteer,
                date=today(),
                hours=Decimal("1"),
                source=HoursEntry.Source.SERVICE_DAY,
                source_ref=f"shift:{s.shift_id}:volunteer:{s.volunteer_id}",
                description="磨刀",
                station=today_venue.station,
            )
            signup(shift, SignUp.Status.WAITING)

    grow(1)
    client.force_login(station_manager)
    url = reverse(name, args=[today_venue.pk])
    # session, user, the manager's stations, the venue (+day, station),
    # stalls (+item, runners), shifts, sign-ups (+volunteer), hours credited
    with django_assert_num_queries(8):
        client.get(url)
    grow(5)
    with django_assert_num_queries(8):
        response = client.get(url)
    assert len(response.context["stalls"]) == 6
    assert "1 h" in client.get(url, **EN).content.decode()


def test_check_in_and_out_from_the_page_credit_hours_once(client, station_manager, today_venue):
    import time_machine

    shift = ShiftFactory(stall=StallFactory(venue=today_venue, service="磨刀"))  # 09:00–11:00
    s = signup(shift, name="王一")
    client.force_login(station_manager)
    nine = datetime.datetime.combine(today(), datetime.time(9, 0), tzinfo=SERVICE_TZ)
    with time_machine.travel(nine, tick=True):
        response = client.post(reverse("events:signup_check_in", args=[s.pk]), **HX)
    assert response.status_code == 200
    assert f'id="signup-{s.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    s.refresh_from_db()
    assert s.checked_in_at is not None and s.checked_in_by == station_manager
    # Out at 10:59: just under two hours served.
    with time_machine.travel(nine + datetime.timedelta(minutes=119), tick=True):
        response = client.post(reverse("events:signup_check_out", args=[s.pk]), **HX, **EN)
    assert "2 h" in response.content.decode()
    entries = HoursEntry.objects.filter(volunteer=s.volunteer, source="service_day")
    assert [e.hours for e in entries] == [Decimal("2")]
    # A second check-out: refused in the row, no second credit.
    response = client.post(reverse("events:signup_check_out", args=[s.pk]), **HX, **EN)
    assert "already checked out" in response.content.decode()
    assert entries.count() == 1
    # Without htmx: back to the roster with the message.
    response = client.post(reverse("events:signup_check_in", args=[s.pk]), follow=True, **EN)
    assert response.redirect_chain[-1][0] == reverse("events:venue_roster", args=[today_venue.pk])
    assert "already checked in" in response.content.decode()


def test_check_in_before_the_day_is_refused(client, station_manager, coming_venue):
    s = signup(ShiftFactory(stall=StallFactory(venue=coming_venue)))
    client.force_login(station_manager)
    response = client.post(reverse("events:signup_check_in", args=[s.pk]), **HX, **EN)
    assert "only possible on the service day" in response.content.decode()
    s.refresh_from_db()
    assert s.checked_in_at is None


def test_staff_cancel_moves_the_waiting_list_up(client, station_manager, coming_venue):
    shift = ShiftFactory(stall=StallFactory(venue=coming_venue), capacity=1)
    s = signup(shift, name="王一")
    waiting = signup(shift, SignUp.Status.WAITING, name="李二")
    client.force_login(station_manager)
    response = client.post(reverse("events:signup_staff_cancel", args=[s.pk]), **HX, **EN)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "The sign-up of 王一 is cancelled." in body and "李二" in body
    s.refresh_from_db()
    waiting.refresh_from_db()
    assert s.status == "cancelled" and waiting.status == "confirmed"
    assert Notification.objects.filter(recipient=waiting.volunteer.user).count() == 1
    assert AuditEntry.objects.filter(
        action="events.signup.cancelled", actor=station_manager
    ).exists()


def test_attendance_actions_scoped_and_refused_to_readers(
    client, operator, volunteer_user, other_station, today_venue
):
    s = signup(ShiftFactory(stall=StallFactory(venue=today_venue)))
    names = ["events:signup_check_in", "events:signup_check_out", "events:signup_staff_cancel"]
    client.force_login(UserFactory(role=Role.STATION_MANAGER, stations=[other_station]))
    for name in names:
        assert client.post(reverse(name, args=[s.pk])).status_code == 404
    for user in (operator, volunteer_user):
        client.force_login(user)
        for name in names:
            assert client.post(reverse(name, args=[s.pk])).status_code == 403
    client.logout()
    response = client.post(reverse("events:signup_check_in", args=[s.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    s.refresh_from_db()
    assert s.checked_in_at is None and s.status == "confirmed"


# --- The stall's report ----------------------------------------------------------------


def test_stall_report_page_saves_people_served_and_notes(client, station_manager, today_venue):
    stall = StallFactory(venue=today_venue)
    client.force_login(station_manager)
    url = reverse("events:stall_report", args=[stall.pk])
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {"people_served": "-3", "notes": ""})
    assert response.status_code == 200
    stall.refresh_from_db()
    assert stall.people_served == 0
    response = client.post(url, {"people_served": "35", "notes": "磨了35把刀"})
    assert response.status_code == 302
    stall.refresh_from_db()
    assert (stall.people_served, stall.notes) == (35, "磨了35把刀")
    assert AuditEntry.objects.filter(action="events.stall.reported", actor=station_manager).exists()


def test_stall_report_before_the_day_says_when(client, station_manager, coming_venue):
    stall = StallFactory(venue=coming_venue)
    client.force_login(station_manager)
    response = client.get(reverse("events:stall_report", args=[stall.pk]), **EN)
    assert "on the service day or after it" in response.content.decode()


# --- A message to everyone on a day ----------------------------------------------------


def test_day_message_tells_each_volunteer_once_and_not_other_stations(
    station_manager, other_station, coming_venue
):
    day = coming_venue.day
    shift = ShiftFactory(stall=StallFactory(venue=coming_venue), capacity=1)
    confirmed = signup(shift)
    waiting = signup(shift, SignUp.Status.WAITING)
    no_login = signup(shift, SignUp.Status.WAITING, login=False)  # no login: by SMS (issue 13)
    # The same volunteer on a second shift of the day: told once.
    second = ShiftFactory(stall=StallFactory(venue=coming_venue), capacity=3)
    SignUp.objects.create(shift=second, volunteer=confirmed.volunteer, status="confirmed")
    cancelled = signup(second, SignUp.Status.CANCELLED)
    other = signup(
        ShiftFactory(stall=StallFactory(venue=VenueFactory(day=day, station=other_station)))
    )
    told = svc.day_message_send(actor=station_manager, day=day, text="  明天 8:30 集合 ")
    assert told == 3
    assert Delivery.objects.get(recipient=None).address == no_login.volunteer.mobile
    notes = Notification.objects.filter(kind="events.day_message")
    assert {n.recipient_id for n in notes} == {
        confirmed.volunteer.user_id,
        waiting.volunteer.user_id,
    }
    assert notes.first().params == {"date": day.date.isoformat(), "text": "明天 8:30 集合"}
    assert not Notification.objects.filter(recipient=other.volunteer.user).exists()
    assert not Notification.objects.filter(recipient=cancelled.volunteer.user).exists()
    # Posted again: nobody is told twice.
    assert svc.day_message_send(actor=station_manager, day=day, text="明天 8:30 集合") == 0
    assert notes.count() == 2
    entries = AuditEntry.objects.filter(action="events.day.messaged").order_by("pk")
    assert [e.data["told"] for e in entries] == [3, 0]


def test_day_message_page_double_post(client, station_manager, coming_venue):
    shift = ShiftFactory(stall=StallFactory(venue=coming_venue))
    s = signup(shift)
    client.force_login(station_manager)
    url = reverse("events:day_message", args=[coming_venue.day_id])
    page = client.get(url, **EN)
    assert "1 volunteer with a login" in page.content.decode()
    assert "without a login" not in page.content.decode()
    # One more signed up who has no login: told by SMS, and the page says so.
    SignUp.objects.create(
        shift=shift, volunteer=VolunteerFactory(user=None), status=SignUp.Status.CONFIRMED
    )
    page = client.get(url, **EN)
    assert "1 more without a login gets it by SMS." in page.content.decode()
    response = client.post(url, {"text": "请带好工具"}, follow=True, **EN)
    assert "2 volunteers were told." in response.content.decode()
    response = client.post(url, {"text": "请带好工具"}, follow=True, **EN)
    assert "Nobody was told" in response.content.decode()
    assert Notification.objects.filter(recipient=s.volunteer.user).count() == 1
    # Empty: refused in the form, nothing sent.
    assert client.post(url, {"text": "   "}).status_code == 200
    assert Notification.objects.count() == 1


def test_day_message_reads_in_the_volunteers_language(station_manager, coming_venue):
    from django.utils import translation

    s = signup(ShiftFactory(stall=StallFactory(venue=coming_venue)))
    svc.day_message_send(actor=station_manager, day=coming_venue.day, text="请带好工具")
    note = Notification.objects.get(recipient=s.volunteer.user)
    with translation.override("en"):
        title, body = note.display_title, note.display_body
    assert coming_venue.day.date.isoformat() in title
    assert "message from the organisers" in title and body == "请带好工具"
    with translation.override("zh-hans"):
        assert note.display_body == "请带好工具"


@pytest.mark.usefixtures("english")
def test_day_message_refused_to_operators_and_for_a_day_that_is_over(
    client, operator, station_manager, station
):
    from django.core.exceptions import ValidationError

    past = VenueFactory(
        day=ServiceDayFactory(date=today() - datetime.timedelta(days=3)), station=station
    )
    with pytest.raises(ValidationError):
        svc.day_message_send(actor=operator, day=past.day, text="x")
    with pytest.raises(ValidationError, match="over"):
        svc.day_message_send(actor=station_manager, day=past.day, text="x")
    client.force_login(operator)
    url = reverse("events:day_message", args=[past.day_id])
    assert client.post(url, {"text": "x"}).status_code == 403


def test_the_roster_is_never_cached(client, station_manager, today_venue):
    client.force_login(station_manager)
    for name in ("events:venue_roster", "events:venue_roster_fragment"):
        response = client.get(reverse(name, args=[today_venue.pk]))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], name
