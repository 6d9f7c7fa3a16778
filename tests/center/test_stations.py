import pytest
from django.urls import reverse

from center import services
from center.models import AuditEntry, Station
from center.roles import station_ids_for
from tests.factories import CommunityFactory, DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("center:station_list")


def test_station_manager_sees_own_station_and_its_service_points_only(
    login, station_manager, station, other_station
):
    point = StationFactory(
        name="梅湾社区服务站点",
        kind=Station.Kind.SERVICE_POINT,
        parent=station,
        district=station.district,
    )
    foreign_point = StationFactory(
        name="别处服务站点",
        kind=Station.Kind.SERVICE_POINT,
        parent=other_station,
        district=other_station.district,
    )
    response = login(station_manager).get(LIST)
    assert response.status_code == 200
    names = {s.name for s in response.context["object_list"]}
    assert names == {station.name, point.name}
    assert other_station.name not in response.content.decode()
    assert foreign_point.name not in names


def test_operator_and_center_manager_see_every_station(
    login, operator, center_manager, station, other_station
):
    for user in (operator, center_manager):
        names = {s.name for s in login(user).get(LIST).context["object_list"]}
        assert {station.name, other_station.name} <= names


@pytest.mark.parametrize("url_name", ["center:station_list", "center:station_create"])
def test_outsider_and_volunteer_are_refused_station_pages(
    login, outsider, volunteer_user, url_name
):
    for user in (outsider, volunteer_user):
        assert login(user).get(reverse(url_name)).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_station_manager_gets_404_for_another_stations_detail(
    login, station_manager, other_station, station
):
    client = login(station_manager)
    assert client.get(reverse("center:station_detail", args=[other_station.pk])).status_code == 404
    assert client.get(reverse("center:station_detail", args=[station.pk])).status_code == 200


def test_station_list_query_count_is_constant_as_rows_grow(
    login, operator, center_station, django_assert_num_queries
):
    client = login(operator)
    StationFactory.create_batch(3, parent=center_station)
    # session, user, capped count, page of stations (district+parent joined), filter's district choices
    with django_assert_num_queries(5):
        client.get(LIST)
    StationFactory.create_batch(30, parent=center_station, district=DistrictFactory())
    with django_assert_num_queries(5):
        response = client.get(LIST)
    assert len(response.context["object_list"]) == 34


def test_station_list_filters_by_kind_and_district(
    login, operator, station, other_station, center_station
):
    client = login(operator)
    response = client.get(LIST, {"district": other_station.district_id})
    assert [s.name for s in response.context["object_list"]] == [other_station.name]
    response = client.get(LIST, {"kind": Station.Kind.CENTER})
    assert [s.name for s in response.context["object_list"]] == [center_station.name]


def test_htmx_filter_returns_only_the_results_partial(login, operator, station):
    response = login(operator).get(
        LIST, {"q": "建设"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="station-results"
    )
    body = response.content.decode()
    assert station.name in body
    assert '<nav class="navbar' not in body


def test_center_manager_creates_station_through_the_service(
    login, center_manager, center_station, district
):
    community = CommunityFactory()
    response = login(center_manager).post(
        reverse("center:station_create"),
        {
            "code": "BR-NEW",
            "name": "长水街道分站",
            "kind": Station.Kind.BRANCH,
            "parent": center_station.pk,
            "district": district.pk,
            "communities": [community.pk],
            "address": "长水路1号",
            "latitude": "30.7",
            "longitude": "120.7",
            "phone": "0573-82345678",
            "opening_hours": "8-20",
            "is_active": "on",
        },
    )
    created = Station.objects.get(code="BR-NEW")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert list(created.communities.all()) == [community]
    assert AuditEntry.objects.filter(
        action="center.station.created", target_id=str(created.pk), actor=center_manager
    ).exists()


def test_branch_without_parent_is_refused_with_a_message_and_nothing_saved(
    login, center_manager, district
):
    response = login(center_manager).post(
        reverse("center:station_create"),
        {
            "code": "BR-ORPHAN",
            "name": "孤儿分站",
            "kind": Station.Kind.BRANCH,
            "district": district.pk,
            "address": "某路",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].has_error("parent")
    assert not Station.objects.filter(code="BR-ORPHAN").exists()


def test_station_manager_cannot_edit_stations(login, station_manager, station):
    response = login(station_manager).post(
        reverse("center:station_update", args=[station.pk]), {"name": "改名"}
    )
    assert response.status_code == 403
    station.refresh_from_db()
    assert station.name == "建设街道分站"


def test_station_update_audits_only_real_changes(center_manager, station):
    services.station_update(actor=center_manager, station=station, data={"name": station.name})
    assert not AuditEntry.objects.filter(action="center.station.updated").exists()
    services.station_update(actor=center_manager, station=station, data={"name": "建设街道新分站"})
    entry = AuditEntry.objects.get(action="center.station.updated")
    assert entry.data == {"name": "建设街道新分站"}


def test_station_ids_for_roles(station_manager, operator, outsider, station, other_station):
    assert station_ids_for(operator) is None
    assert station_ids_for(outsider) == frozenset()
    assert station_ids_for(station_manager) == frozenset({station.pk})


def test_a_manager_of_a_higher_station_sees_its_whole_subtree(center_station, station, district):
    from tests.factories import UserFactory

    point = StationFactory(kind=Station.Kind.SERVICE_POINT, parent=station, district=district)
    boss = UserFactory(role="station_manager", stations=[center_station])
    assert {center_station.pk, station.pk, point.pk} <= station_ids_for(boss)
