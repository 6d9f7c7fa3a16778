import pytest
from django.urls import reverse

from tests.factories import OrganizationFactory, SpecialtyFactory, VolunteerFactory
from volunteers import services
from volunteers.models import Merchant, ServiceTeam
from volunteers.tasks import expire_sanctions

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


@pytest.mark.parametrize(
    ("url_name", "queries"),
    [
        # session, user, capped count, page (+member counts), kind filter has no query
        ("volunteers:organization_list", 4),
        # session, user, station ids, capped count, page
        ("volunteers:hours_pending", 5),
    ],
)
def test_more_list_query_counts_stay_constant(
    login, center_manager, station_manager, station, django_assert_num_queries, url_name, queries
):
    client = login(center_manager if url_name.endswith("organization_list") else station_manager)

    def grow(n):
        for _ in range(n):
            org = OrganizationFactory()
            v = VolunteerFactory(station=station, kind="in_service", organization=org)
            services.hours_record(
                actor=None,
                volunteer=v,
                date=v.created_at.date(),
                hours=2,
                source="manual",
                description="值班",
                reason="补录",
                station=station,
                verified=False,
            )

    grow(2)
    with django_assert_num_queries(queries):
        assert client.get(reverse(url_name)).status_code == 200
    grow(10)
    with django_assert_num_queries(queries):
        assert client.get(reverse(url_name)).status_code == 200


def test_expire_sanctions_task_runs_the_service(center_manager):
    volunteer = VolunteerFactory()
    complaint = services.complaint_record(actor=None, provider=volunteer, description="x")
    services.complaint_rule(actor=center_manager, complaint=complaint, valid=True, reason="属实")
    assert expire_sanctions.delay().get() == 0  # not due yet
    volunteer.refresh_from_db()
    assert volunteer.status == "suspended"


def test_volunteer_admin_changelist_is_constant_and_never_shows_id_numbers(
    client, center_manager, station, django_assert_num_queries
):
    client.force_login(center_manager)
    url = reverse("admin:volunteers_volunteer_changelist")
    VolunteerFactory(station=station, id_number="11010519491231002X")
    client.get(url)
    with django_assert_num_queries(4) as small:  # session, user, capped count, page
        body = client.get(url).content.decode()
    assert "11010519491231002X" not in body
    VolunteerFactory.create_batch(20, station=station)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(url)
    change = client.get(
        reverse("admin:volunteers_volunteer_change", args=[station.volunteers.first().pk])
    ).content.decode()
    assert "11010519491231002X" not in change
