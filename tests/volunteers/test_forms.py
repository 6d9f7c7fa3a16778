"""The staff forms' own rules: teams named by volunteer number, merchants' stations and mobiles."""

import pytest
from django.urls import reverse

from tests.factories import SpecialtyFactory, VolunteerFactory
from volunteers.models import Merchant, ServiceTeam

pytestmark = pytest.mark.django_db


def test_team_form_names_leader_and_members_by_volunteer_number(
    login, station_manager, station, other_station
):
    leader, member = VolunteerFactory(station=station), VolunteerFactory(station=station)
    foreign = VolunteerFactory(station=other_station)
    client = login(station_manager)
    data = {
        "name": "建设水电队",
        "kind": "specialty",
        "specialty": SpecialtyFactory().pk,
        "station": station.pk,
        "is_active": "on",
        "leader_no": leader.volunteer_no,
        "member_nos": f"{member.volunteer_no}\n{foreign.volunteer_no}",
    }
    response = client.post(reverse("volunteers:team_create"), data)
    assert response.status_code == 200 and foreign.volunteer_no in response.content.decode()
    assert not ServiceTeam.objects.exists()
    data["member_nos"] = member.volunteer_no
    client.post(reverse("volunteers:team_create"), data)
    team = ServiceTeam.objects.get()
    assert team.leader == leader and set(team.members.all()) == {leader, member}


def test_specialty_team_needs_a_specialty(login, station_manager, station):
    response = login(station_manager).post(
        reverse("volunteers:team_create"),
        {
            "name": "无专业队",
            "kind": "specialty",
            "station": station.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "特色服务分队必须指定专业" in response.content.decode()
    assert not ServiceTeam.objects.exists()


def test_merchant_create_needs_a_station_and_a_valid_mobile(login, station_manager, station):
    client = login(station_manager)
    data = {
        "name": "安居家政",
        "kind": "franchise",
        "licence_no": "91330400000000009",
        "contact_name": "周",
        "mobile": "12345",
        "staff_count": 3,
        "stations": [station.pk],
    }
    response = client.post(reverse("volunteers:merchant_create"), data)
    assert response.context["form"].has_error("mobile")
    data["mobile"] = "15700000001"
    client.post(reverse("volunteers:merchant_create"), data)
    assert list(Merchant.objects.get().stations.all()) == [station]
