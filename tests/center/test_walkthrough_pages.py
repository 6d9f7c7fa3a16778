"""Fixes from the new-user walk-through (issue 8) that live in the center app:
ISO date inputs, yes/no filters, station labels, the home page's station card."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from center.filters import StationFilter
from center.forms import StationForm
from center.models import Station
from requests.filters import OrderFilter
from requests.forms import OrderForm
from requests.models import ServiceRequest
from tests.factories import DistrictFactory, StationFactory, UserFactory, VolunteerFactory
from volunteers.filters import PostFilter, VolunteerFilter
from volunteers.forms import CertificateForm, HoursForm, VolunteerForm

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 27)


# --- 1. Date inputs carry ISO values whatever the language ----------------------------


def test_date_inputs_render_iso_values_in_chinese(station_manager, station):
    with translation.override("zh-hans"):
        hours = HoursForm(user=station_manager, initial={"date": DAY}).as_p()
        certificate = CertificateForm(
            user=station_manager, initial={"period_start": DAY, "period_end": DAY}
        ).as_p()
        volunteer = VolunteerForm(user=station_manager, initial={"party_join_date": DAY}).as_p()
        order = OrderForm(
            user=station_manager,
            initial={"preferred_time": datetime.datetime(2026, 11, 27, 14, 30)},
        ).as_p()
    assert 'type="date"' in hours and 'value="2026-11-27"' in hours
    assert "2026/11/27" not in hours
    assert certificate.count('value="2026-11-27"') == 2 and "2026/11/27" not in certificate
    assert 'type="date"' in volunteer and 'value="2026-11-27"' in volunteer
    assert 'type="datetime-local"' in order and 'value="2026-11-27T14:30"' in order


def test_order_list_date_filter_renders_iso_in_chinese(operator):
    with translation.override("zh-hans"):
        form = OrderFilter(
            {"received_from": "2026-11-27"},
            queryset=ServiceRequest.objects.none(),
            request=type("R", (), {"user": operator})(),
        ).form
        html = str(form["received_from"])
    assert 'type="date"' in html and 'value="2026-11-27"' in html


def test_manual_hours_posted_from_a_chinese_page_are_recorded(client, station_manager, station):
    volunteer = VolunteerFactory(station=station)
    client.force_login(station_manager)
    response = client.post(
        reverse("volunteers:volunteer_hours_add", args=[volunteer.pk]),
        {
            "date": "2026-11-01",  # what <input type=date> submits, in every language
            "hours": "2",
            "description": "上门维修",
            "reason": "补录",
            "station": station.pk,
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 302
    assert volunteer.hours.get().date == datetime.date(2026, 11, 1)


# --- 2. Yes/no filters read 全部 / 是 / 否 --------------------------------------------


@pytest.mark.parametrize(
    "filterset, field",
    [
        (VolunteerFilter, "is_party_member"),
        (VolunteerFilter, "on_duty"),
        (PostFilter, "is_open"),
        (StationFilter, "is_active"),
    ],
)
def test_yes_no_filters_start_at_all_not_unknown(filterset, field, station_manager):
    request = type("R", (), {"user": station_manager})()
    with translation.override("zh-hans"):
        html = str(filterset({}, request=request).form[field])
    assert "未知" not in html and "Unknown" not in html
    assert '<option value="" selected>全部</option>' in html
    assert '<option value="true">是</option>' in html
    assert '<option value="false">否</option>' in html


def test_yes_no_filter_still_filters(client, station_manager, station):
    VolunteerFactory(station=station, name="党员甲", is_party_member=True)
    VolunteerFactory(station=station, name="群众乙", is_party_member=False)
    client.force_login(station_manager)
    url = reverse("volunteers:volunteer_list")
    body = client.get(url, {"is_party_member": "false"}).content.decode()
    assert "群众乙" in body and "党员甲" not in body
    body = client.get(url, {"is_party_member": ""}).content.decode()
    assert "群众乙" in body and "党员甲" in body


# --- 6. Stations that share a name are told apart ---------------------------------------


@pytest.fixture
def gardens(center_station):
    """Three 花园社区服务站点 in three districts, each under its street's branch."""
    out = []
    for code, district in (("330402", "南湖区"), ("330411", "秀洲区"), ("330421", "嘉善县")):
        d = DistrictFactory(code=f"{code}X", name=district)
        branch = StationFactory(
            code=f"BR-{code}", name=f"{district}新兴街道分站", parent=center_station, district=d
        )
        out.append(
            StationFactory(
                code=f"SP-{code}",
                name="花园社区服务站点",
                kind=Station.Kind.SERVICE_POINT,
                parent=branch,
                district=d,
            )
        )
    return out


def test_station_display_name_carries_district_and_branch(gardens, station):
    assert gardens[0].display_name == "花园社区服务站点（南湖区 · 南湖区新兴街道分站）"
    # A branch sits under the center: its district alone.
    assert station.display_name == f"{station.name}（{station.district.name}）"


def test_station_choices_are_labelled_with_their_place_without_n_plus_one(
    gardens, center_manager, django_assert_num_queries
):
    form = HoursForm(user=center_manager)
    with django_assert_num_queries(1):  # the stations, with district and parent joined
        labels = [label for _value, label in form.fields["station"].choices][1:]
    assert sum(label.startswith("花园社区服务站点（") for label in labels) == 3
    assert len({label for label in labels if label.startswith("花园")}) == 3
    station_form = StationForm()
    with django_assert_num_queries(1):
        parents = [label for _value, label in station_form.fields["parent"].choices]
    assert "花园社区服务站点（嘉善县 · 嘉善县新兴街道分站）" in parents


def test_station_filter_choices_are_labelled_with_their_place(gardens, center_manager):
    request = type("R", (), {"user": center_manager})()
    html = str(VolunteerFilter({}, request=request).form["station"])
    assert "花园社区服务站点（秀洲区 · 秀洲区新兴街道分站）" in html


# --- 12. Home pages of city-wide roles ----------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "center_manager"])
def test_home_does_not_tell_city_wide_roles_they_have_no_station(request, client, role, station):
    client.force_login(request.getfixturevalue(role))
    body = client.get(reverse("center:home")).content.decode()
    assert "尚未分配站点" not in body and "No station assigned yet." not in body
    assert 'data-testid="station-scope"' in body


def test_home_still_says_so_to_a_manager_without_stations(client):
    client.force_login(UserFactory(role="station_manager"))
    body = client.get(reverse("center:home")).content.decode()
    assert "尚未分配站点" in body


def test_home_lists_a_station_managers_stations_by_display_name(client, station_manager, station):
    client.force_login(station_manager)
    body = client.get(reverse("center:home")).content.decode()
    assert station.display_name in body
