"""A message to everyone in a team (issue 13, part C): once per member,
however often posted; by SMS to members without a login; the team's
station managers and center managers only."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from center.models import AuditEntry, Delivery, Notification, Role
from center.roles import station_ids_for
from tests.factories import UserFactory, VolunteerFactory
from volunteers import services
from volunteers.models import ProviderStatus, ServiceTeam

pytestmark = pytest.mark.django_db
# notify(): SAVEPOINT, SELECT and INSERT the inbox row, RELEASE; per channel
# (SMS; no email address here) the same four for the outbox row.
PER_MEMBER = 8
TEXT = "周六上午九点在社区服务站集合，请带好工具。"


@pytest.fixture
def team(station):
    with_login = VolunteerFactory(
        station=station, user=UserFactory(role=Role.VOLUNTEER), mobile="15977700001"
    )
    without_login = VolunteerFactory(station=station, mobile="15977700002")
    removed = VolunteerFactory(station=station, status=ProviderStatus.REMOVED)
    return services.team_create(
        actor=None,
        data={"name": "水电维修队", "kind": ServiceTeam.Kind.PROFESSIONAL, "station": station},
        members=[with_login, without_login, removed],
    )


def _url(team):
    return reverse("volunteers:team_message", args=[team.pk])


def test_each_member_is_told_once_however_often_posted(station_manager, team):
    assert services.team_message_send(actor=station_manager, team=team, text=TEXT) == 2
    assert services.team_message_send(actor=station_manager, team=team, text=f" {TEXT}\n") == 0
    member = team.members.get(user__isnull=False)
    n = Notification.objects.get()
    assert (n.recipient, n.message) == (member.user, "volunteers.team.message")
    # With a login: inbox and SMS (their choice, their login's mobile);
    # without one: SMS on their mobile.
    assert set(Delivery.objects.values_list("address", "recipient")) == {
        (member.user.mobile, member.user.pk),
        ("15977700002", None),
    }
    entries = AuditEntry.objects.filter(action="volunteers.team.messaged")
    assert [e.data["told"] for e in entries.order_by("pk")] == [2, 0]


def test_another_text_is_another_message(station_manager, team):
    services.team_message_send(actor=station_manager, team=team, text=TEXT)
    assert services.team_message_send(actor=station_manager, team=team, text="改到周日") == 2
    assert Delivery.objects.count() == 4


def test_the_message_reads_in_both_languages(station_manager, team):
    services.team_message_send(actor=station_manager, team=team, text=TEXT)
    n = Notification.objects.get()
    with translation.override("en"):
        assert (n.display_title, n.display_body) == ("Message to team 水电维修队", TEXT)
    with translation.override("zh-hans"):
        assert n.display_body == TEXT and "水电维修队" in n.display_title


def test_who_may_send(team, station_manager, center_manager, operator, other_station):
    manager_b = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    for actor in (operator, manager_b):
        with pytest.raises(ValidationError):
            services.team_message_send(actor=actor, team=team, text=TEXT)
    assert services.team_message_send(actor=center_manager, team=team, text=TEXT) == 2


def test_an_empty_or_long_message_is_refused(station_manager, team):
    for text in ("   ", "长" * 301):
        with pytest.raises(ValidationError):
            services.team_message_send(actor=station_manager, team=team, text=text)
    assert not Delivery.objects.exists()


def test_the_page_posts_once(client, station_manager, team):
    client.force_login(station_manager)
    detail = client.get(reverse("volunteers:team_detail", args=[team.pk])).content.decode()
    assert _url(team) in detail
    with translation.override("en"):
        page = client.get(_url(team), HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert "2 members will be told (1 without a login, by SMS only)" in body
    assert "quiet hours" in body and "tells nobody twice" in body
    for _twice in range(2):
        response = client.post(_url(team), {"text": TEXT})
        assert response.status_code == 302
    assert Notification.objects.count() == 1 and Delivery.objects.count() == 2


def test_the_page_refuses_others(client, team, operator, volunteer_user, other_station):
    for user in (operator, volunteer_user):
        client.force_login(user)
        assert client.get(_url(team)).status_code == 403
        assert client.post(_url(team), {"text": TEXT}).status_code == 403
    client.force_login(UserFactory(role=Role.STATION_MANAGER, stations=[other_station]))
    assert client.post(_url(team), {"text": TEXT}).status_code == 404
    assert not Delivery.objects.exists()


def test_cost_is_constant_per_member(station_manager, station):
    """Per member: the notify() of one message (inbox row, its outbox rows,
    their savepoints); per batch of 500: who was told, their logins. So the
    count grows by the same number for each member, whatever the team."""

    def team_of(n):
        members = [
            VolunteerFactory(station=station, user=UserFactory(role=Role.VOLUNTEER))
            for _ in range(n)
        ]
        return services.team_create(
            actor=None,
            data={"name": f"队{n}", "kind": ServiceTeam.Kind.PROFESSIONAL, "station": station},
            members=members,
        )

    station_ids_for(station_manager)  # cached on the user for the rest
    counts = []
    for team in (team_of(2), team_of(6), team_of(10)):
        with CaptureQueriesContext(connection) as queries:
            services.team_message_send(actor=station_manager, team=team, text=TEXT)
        counts.append(len(queries))
    per_member = (counts[1] - counts[0]) / 4
    assert counts[2] - counts[1] == counts[1] - counts[0], counts
    assert per_member <= PER_MEMBER, counts
