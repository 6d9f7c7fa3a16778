"""Activity pages: the staff list and an activity with its participants
(scoped: another station's manager gets 404, a volunteer 403, a visitor the
login page, an operator reads but may not write), the forms, the call-up
and attendance buttons; "My activities" on the volunteer's phone. Lists keep
their query count as rows grow."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import Role
from events.models import Activity, Participation
from events.services import activities as svc
from events.services.signups import SERVICE_TZ
from tests.factories import ActivityFactory, CommunityFactory, UserFactory, VolunteerFactory
from volunteers.models import HoursEntry

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def me(station, volunteer_user):
    return VolunteerFactory(name="王志愿", station=station, user=volunteer_user)


@pytest.fixture
def activity(station):
    return ActivityFactory(station=station, title="甲站重阳走访", date=TODAY() + days(7))


@pytest.fixture
def theirs(other_station):
    return ActivityFactory(station=other_station, title="乙站春节慰问", date=TODAY() + days(7))


def invite(activity, volunteer, status="invited"):
    return Participation.objects.create(activity=activity, volunteer=volunteer, status=status)


# --- Who may see what ---------------------------------------------------------------------


def _staff_urls(activity, participation):
    return [
        ("get", reverse("events:activity_list")),
        ("get", reverse("events:activity_create")),
        ("get", reverse("events:activity_detail", args=[activity.pk])),
        ("get", reverse("events:activity_update", args=[activity.pk])),
        ("get", reverse("events:activity_cancel", args=[activity.pk])),
        ("get", reverse("events:activity_held", args=[activity.pk])),
        ("get", reverse("events:participation_add", args=[activity.pk])),
        ("post", reverse("events:activity_call_up", args=[activity.pk])),
        ("post", reverse("events:participation_record", args=[participation.pk])),
    ]


def test_staff_pages_refuse_visitors_volunteers_and_outsiders(client, activity, me, outsider):
    participation = invite(activity, me)
    for method, url in _staff_urls(activity, participation):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("login") in response.url, url
    for user in (me.user, outsider):
        client.force_login(user)
        for method, url in _staff_urls(activity, participation):
            assert getattr(client, method)(url).status_code == 403, (user, url)


def test_another_stations_manager_gets_404(client, theirs, station_manager):
    participation = invite(theirs, VolunteerFactory(station=theirs.station))
    client.force_login(station_manager)
    for method, url in _staff_urls(theirs, participation)[2:]:
        assert getattr(client, method)(url).status_code == 404, url
    body = client.get(reverse("events:activity_list")).content.decode()
    assert "乙站春节慰问" not in body
    participation.refresh_from_db()
    assert participation.status == "invited"


def test_operator_reads_every_station_but_may_not_write(client, activity, theirs, operator):
    VolunteerFactory(station=activity.station)
    client.force_login(operator)
    body = client.get(reverse("events:activity_list")).content.decode()
    assert "甲站重阳走访" in body and "乙站春节慰问" in body
    body = client.get(reverse("events:activity_detail", args=[theirs.pk])).content.decode()
    assert "乙站春节慰问" in body
    assert reverse("events:activity_call_up", args=[theirs.pk]) not in body
    assert reverse("events:activity_create") not in body
    assert client.get(reverse("events:activity_create")).status_code == 403
    for name in ("activity_call_up", "activity_cancel", "activity_update"):
        response = client.post(reverse(f"events:{name}", args=[activity.pk]), {"reason": "x"})
        assert response.status_code == 403, name
    activity.refresh_from_db()
    assert activity.status == Activity.Status.PLANNED and not activity.participations.exists()


def test_nav_entries(client, me, station_manager):
    staff, mine = (f'href="{reverse(n)}"' for n in ("events:activity_list", "events:my_activities"))
    client.force_login(station_manager)
    body = client.get(reverse("center:home")).content.decode()
    assert staff in body and mine not in body
    client.force_login(me.user)
    body = client.get(reverse("center:home")).content.decode()
    assert mine in body and staff not in body


# --- Staff: the list and the forms ----------------------------------------------------------


def test_list_filters_by_kind_status_and_dates(client, station, station_manager):
    ActivityFactory(station=station, title="微心愿活动", kind="wish_drive", date=TODAY())
    ActivityFactory(station=station, title="去年走访", date=TODAY() - days(400))
    client.force_login(station_manager)
    url = reverse("events:activity_list")
    titles = [a.title for a in client.get(url + "?kind=wish_drive").context["object_list"]]
    assert titles == ["微心愿活动"]
    since = (TODAY() - days(30)).isoformat()
    titles = [a.title for a in client.get(url + f"?date_from={since}").context["object_list"]]
    assert titles == ["微心愿活动"]
    assert not client.get(url + "?status=held").context["object_list"]


def test_plan_an_activity_with_iso_dates_in_chinese(client, station, station_manager):
    client.force_login(station_manager)
    form = client.get(reverse("events:activity_create")).content.decode()
    assert 'type="date"' in form and TODAY().isoformat() in form  # ISO, whatever the language
    day = TODAY() + days(5)
    response = client.post(
        reverse("events:activity_create"),
        {
            "title": "防汛应急集结",
            "kind": "call_up",
            "date": day.isoformat(),
            "start_time": "08:30",
            "end_time": "11:00",
            "station": station.pk,
            "organizer": "建设街道分站",
            "place": "南湖大堤",
        },
    )
    activity = Activity.objects.get(title="防汛应急集结")
    assert response.status_code == 302 and response.url == reverse(
        "events:activity_detail", args=[activity.pk]
    )
    assert activity.starts_at == datetime.datetime.combine(
        day, datetime.time(8, 30), tzinfo=SERVICE_TZ
    )
    assert activity.created_by == station_manager


def test_plan_refuses_another_station_and_bad_times(
    client, station, other_station, station_manager
):
    client.force_login(station_manager)
    data = {
        "title": "走访",
        "kind": "holiday_visit",
        "date": TODAY().isoformat(),
        "station": other_station.pk,
        "organizer": "分站",
    }
    response = client.post(reverse("events:activity_create"), data)
    assert response.status_code == 200 and response.context["form"].errors
    data.update(station=station.pk, start_time="10:00", end_time="09:00")
    response = client.post(reverse("events:activity_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert "The end must be after the start." in response.content.decode()
    assert not Activity.objects.exists()


def test_edit_cancel_and_held_forms(client, activity, station_manager):
    client.force_login(station_manager)
    url = reverse("events:activity_update", args=[activity.pk])
    form = client.get(url).context["form"]
    # The form opens with the activity's values (it once opened empty).
    assert form["title"].value() == activity.title
    assert str(form["date"].value()) == activity.date.isoformat()
    assert form["station"].value() == activity.station_id
    assert form["organizer"].value() == activity.organizer
    data = {
        "title": "甲站重阳走访（改）",
        "kind": activity.kind,
        "date": activity.date.isoformat(),
        "station": activity.station_id,
        "organizer": activity.organizer,
    }
    assert client.post(url, data).status_code == 302
    activity.refresh_from_db()
    assert activity.title == "甲站重阳走访（改）"
    # Held before its day: refused in the form, nothing changed.
    response = client.post(
        reverse("events:activity_held", args=[activity.pk]),
        {"people_served": "30"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and "can be marked as held from that day" in (
        response.content.decode()
    )
    response = client.post(reverse("events:activity_cancel", args=[activity.pk]), {"reason": "雨"})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.status == "cancelled" and activity.people_served == 0


def test_call_up_button_invites_and_says_how_many(client, activity, station_manager):
    community = CommunityFactory()
    for _ in range(3):
        VolunteerFactory(station=activity.station, community=community)
    Activity.objects.filter(pk=activity.pk).update(area=community)
    client.force_login(station_manager)
    response = client.post(
        reverse("events:activity_call_up", args=[activity.pk]),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "3 volunteers invited." in response.content.decode()
    assert activity.participations.filter(status="invited").count() == 3


def test_add_a_participant_by_number(client, activity, station_manager, other_station):
    volunteer = VolunteerFactory(station=activity.station)
    stranger = VolunteerFactory(station=other_station)
    client.force_login(station_manager)
    url = reverse("events:participation_add", args=[activity.pk])
    assert client.post(url, {"volunteer": volunteer.volunteer_no}).status_code == 302
    response = client.post(url, {"volunteer": stranger.volunteer_no})
    assert response.status_code == 200 and response.context["form"].errors
    assert list(activity.participations.values_list("volunteer", flat=True)) == [volunteer.pk]


def test_record_attendance_from_the_detail_page(client, station, station_manager):
    day = TODAY() - days(1)
    activity = ActivityFactory(
        station=station,
        date=day,
        starts_at=datetime.datetime.combine(day, datetime.time(9), tzinfo=SERVICE_TZ),
        ends_at=datetime.datetime.combine(day, datetime.time(12), tzinfo=SERVICE_TZ),
    )
    p = invite(activity, VolunteerFactory(station=station, name="李志愿"), "joined")
    client.force_login(station_manager)
    detail = client.get(reverse("events:activity_detail", args=[activity.pk])).content.decode()
    url = reverse("events:participation_record", args=[p.pk])
    assert url in detail
    response = client.post(url, {"attended": "1", "hours": "30"}, follow=True)
    assert list(response.context["messages"])
    p.refresh_from_db()
    assert p.status == "joined" and not HoursEntry.objects.exists()
    client.post(url, {"attended": "1", "hours": ""})
    p.refresh_from_db()
    assert p.status == "attended" and p.hours == Decimal("3")
    client.post(url, {"attended": "1", "hours": "2"})  # again: refused
    assert HoursEntry.objects.get().hours == Decimal("3")
    detail = client.get(reverse("events:activity_detail", args=[activity.pk])).content.decode()
    assert url not in detail


def test_detail_shows_photos_section_with_upload_for_managers(
    client, activity, station_manager, operator
):
    client.force_login(station_manager)
    body = client.get(reverse("events:activity_detail", args=[activity.pk])).content.decode()
    assert 'id="photos-heading"' in body
    assert reverse("events:activity_photo_add", args=[activity.pk]) in body
    client.force_login(operator)
    body = client.get(reverse("events:activity_detail", args=[activity.pk])).content.decode()
    assert reverse("events:activity_photo_add", args=[activity.pk]) not in body


# --- Query counts -------------------------------------------------------------------------------


def test_list_query_count_is_constant(client, station, station_manager, django_assert_num_queries):
    def grow(n):
        for _ in range(n):
            a = ActivityFactory(station=station)
            invite(a, VolunteerFactory(station=station))
            invite(a, VolunteerFactory(station=station), "joined")

    grow(1)
    client.force_login(station_manager)
    url = reverse("events:activity_list")
    # session, user, stations in scope, the station choices, capped count,
    # the page (+station, participant counts)
    with django_assert_num_queries(6):
        assert len(client.get(url).context["object_list"]) == 1
    grow(5)
    with django_assert_num_queries(6):
        assert len(client.get(url).context["object_list"]) == 6


def test_detail_query_count_is_constant(
    client, activity, station_manager, django_assert_num_queries
):
    def grow(n):
        for i in range(n):
            invite(
                activity, VolunteerFactory(station=activity.station), ("invited", "joined")[i % 2]
            )

    grow(1)
    client.force_login(station_manager)
    url = reverse("events:activity_detail", args=[activity.pk])
    # session, user, stations in scope, the activity (+station, area,
    # specialty, creator), capped count, participants page (+volunteer,
    # station), counts per status, photos
    with django_assert_num_queries(8):
        assert len(client.get(url).context["participations"]) == 1
    grow(5)
    with django_assert_num_queries(8):
        response = client.get(url)
    assert len(response.context["participations"]) == 6
    assert response.context["total"] == 6
    assert dict((c, n) for c, _l, n in response.context["tabs"])["joined"] == 2


# --- The volunteer's side ------------------------------------------------------------------------


def test_my_activities_lists_mine_and_open_ones_and_i_answer(client, me, activity, theirs):
    mine = invite(activity, me)
    open_one = ActivityFactory(station=me.station, title="甲站开放活动", date=TODAY() + days(3))
    invite(theirs, VolunteerFactory(station=theirs.station))
    client.force_login(me.user)
    body = client.get(reverse("events:my_activities")).content.decode()
    assert "甲站重阳走访" in body and "甲站开放活动" in body and "乙站春节慰问" not in body
    respond = reverse("events:participation_respond", args=[mine.pk])
    assert respond in body
    assert client.post(respond, {"join": "1"}).status_code == 302
    mine.refresh_from_db()
    assert mine.status == "joined"
    join = reverse("events:participation_join", args=[open_one.pk])
    assert client.post(join).status_code == 302
    assert open_one.participations.get().volunteer == me


def test_another_volunteers_participation_is_404(client, me, theirs, activity):
    other = invite(theirs, VolunteerFactory(station=theirs.station))
    client.force_login(me.user)
    assert (
        client.post(
            reverse("events:participation_respond", args=[other.pk]), {"join": "1"}
        ).status_code
        == 404
    )
    # Another station's activity cannot be joined directly.
    assert client.post(reverse("events:participation_join", args=[theirs.pk])).status_code == 404
    other.refresh_from_db()
    assert other.status == "invited"


def test_my_activities_only_for_volunteers(client, me, activity, station_manager, outsider):
    p = invite(activity, me)
    urls = [
        ("get", reverse("events:my_activities")),
        ("post", reverse("events:participation_respond", args=[p.pk])),
        ("post", reverse("events:participation_join", args=[activity.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("login") in response.url
    for user in (station_manager, outsider, UserFactory(role=Role.VOLUNTEER)):
        client.force_login(user)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 403, (user, url)


def test_my_activities_query_count_is_constant(client, me, station, django_assert_num_queries):
    def grow(n):
        for _ in range(n):
            invite(ActivityFactory(station=station), me)
            ActivityFactory(station=station)  # open to join

    grow(1)
    client.force_login(me.user)
    url = reverse("events:my_activities")
    # session, user, volunteer (+station), my participations (+activity,
    # station), open activities of my station (+station)
    with django_assert_num_queries(5):
        response = client.get(url)
    assert len(response.context["participations"]) == 1
    grow(5)
    with django_assert_num_queries(5):
        response = client.get(url)
    assert len(response.context["participations"]) == 6
    assert len(response.context["open_activities"]) == 6


def test_past_hours_show_on_my_activities(client, me, station):
    day = TODAY() - days(3)
    activity = ActivityFactory(station=station, date=day, title="往期走访")
    p = invite(activity, me, "joined")
    svc.participation_record(actor=None, participation=p, attended=True, hours="2.5")
    client.force_login(me.user)
    body = client.get(reverse("events:my_activities"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "往期走访" in body and "2.50 hours" in body
    assert reverse("events:participation_respond", args=[p.pk]) not in body
