"""What a probe of issue 8 found, fixed: a sanctioned leader's team is not
dispatched, the console lists only orders the reader may open, a non-JSON
device body is a 400, the provider's order page is never cached."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from requests import dispatch, services
from tests.factories import UserFactory, VolunteerFactory
from volunteers import services as volunteer_services
from volunteers.models import Provider, ServiceTeam

pytestmark = pytest.mark.django_db


def test_a_team_whose_leader_is_sanctioned_is_not_offered_nor_can_take(
    make_order, station, item, center_manager
):
    leader = VolunteerFactory(station=station, user=UserFactory(role="volunteer"))
    team = volunteer_services.team_create(
        actor=None,
        data={
            "name": "家电维修分队",
            "kind": ServiceTeam.Kind.SPECIALTY,
            "specialty": item.specialty,
            "station": station,
            "leader": leader,
        },
    )
    order = make_order()
    assert [c.provider for c in dispatch.team_candidates(order)] == [team.provider]
    services.order_offer(actor=None, order=order)
    complaint = volunteer_services.complaint_record(actor=None, provider=leader, description="x")
    volunteer_services.complaint_rule(
        actor=center_manager, complaint=complaint, valid=True, reason="属实"
    )
    assert Provider.objects.get(team=team).status == "suspended"
    assert dispatch.team_candidates(make_order(description="again")) == []
    with pytest.raises(ValidationError):
        services.order_take(actor=None, order=order, provider=team.provider)


def test_console_lists_only_orders_at_the_readers_stations(
    client, station_manager, resident, item, other_station, operator
):
    here = services.order_create(actor=None, resident=resident, item=item, channel="hotline")
    there = services.order_create(
        actor=None, resident=resident, item=item, channel="hotline", station=other_station
    )
    client.force_login(station_manager)
    page = client.get(reverse("requests:console_lookup"), {"phone": "13812345678"})
    body = page.content.decode()
    assert here.number in body and there.number not in body
    client.force_login(operator)
    body = client.get(reverse("requests:console_lookup"), {"phone": "13812345678"}).content
    assert there.number in body.decode()


def test_a_multipart_device_call_is_a_400_not_a_500(client):
    response = client.post(reverse("requests:device_call"), {"device_id": "x", "secret": "y"})
    assert response.status_code == 400 and response.json() == {"error": "malformed_json"}


def test_the_providers_order_page_is_never_cached(client, make_order, near_volunteer, operator):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    client.force_login(near_volunteer.user)
    response = client.get(reverse("requests:my_order", args=[order.pk]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert Decimal(order.quoted_price) >= 0
