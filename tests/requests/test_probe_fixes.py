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


# --- What the new-user walk-through found ----------------------------------------------


def test_a_number_typed_to_search_is_not_prefilled_as_the_callers(client, operator, resident):
    client.force_login(operator)
    url = reverse("requests:order_create", args=[resident.pk])
    page = client.get(url, {"phone": "5678"}).content.decode()  # 尾号
    assert 'name="caller_phone" value="5678"' not in page
    page = client.get(url, {"phone": "13812345678"}).content.decode()
    assert 'value="13812345678"' in page


def test_a_refused_completion_keeps_what_the_provider_typed(
    client, make_order, near_volunteer, operator
):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    client.force_login(near_volunteer.user)
    response = client.post(
        reverse("requests:my_step", args=[order.pk, "complete"]),
        {"notes": "换了电源板，教会老人使用", "fee": "999"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "换了电源板，教会老人使用" in page and 'value="999' in page
    assert "高于报价" in page  # the service's reason error, next to its field
    order.refresh_from_db()
    assert order.status == "taken"


def test_an_assigned_order_can_be_returned_before_taking_it(
    client, make_order, near_volunteer, operator
):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    client.force_login(near_volunteer.user)
    page = client.get(reverse("requests:my_order", args=[order.pk])).content.decode()
    assert reverse("requests:my_step", args=[order.pk, "return"]) in page
    client.post(reverse("requests:my_step", args=[order.pk, "return"]), {"reason": "今天不在嘉兴"})
    order.refresh_from_db()
    assert order.status == "received" and order.provider is None


def test_a_teams_follow_up_offers_no_complaint_box(client, make_order, station, item, operator):
    leader = VolunteerFactory(station=station)
    member = VolunteerFactory(station=station)
    team = volunteer_services.team_create(
        actor=None,
        data={
            "name": "家电分队",
            "kind": ServiceTeam.Kind.SPECIALTY,
            "specialty": item.specialty,
            "station": station,
            "leader": leader,
        },
        members=[member],
    )
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=team.provider)
    services.order_take(actor=None, order=order)
    services.order_complete(
        actor=None, order=order, notes="修好", fee=Decimal("80"), members=[member]
    )
    client.force_login(operator)
    page = client.get(reverse("requests:followup", args=[order.pk])).content.decode()
    assert 'name="reopen"' in page and 'name="complain"' not in page


def test_a_merchants_own_price_is_the_quote_until_it_returns_the_order(
    make_order, station, item, operator
):
    from tests.factories import MerchantFactory
    from volunteers.models import MerchantOffer

    merchant = MerchantFactory(stations=[station])
    MerchantOffer.objects.create(merchant=merchant, item=item, price=Decimal("60"))
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=merchant)
    order.refresh_from_db()
    assert order.quoted_price == Decimal("60.00")
    services.order_return(actor=operator, order=order, reason="太远")
    order.refresh_from_db()
    assert order.quoted_price == item.center_price


def test_the_volunteers_own_page_reads_notices_in_the_readers_language(
    client, make_order, near_volunteer, operator
):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    client.force_login(near_volunteer.user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("volunteers:me")).content.decode()
    assert f"New order {order.number}" in page and "新工单" not in page


def test_a_merchant_is_assigned_from_its_own_row_and_the_other_station_tick_is_offered(
    client, make_order, station, item, station_manager
):
    from tests.factories import MerchantFactory
    from volunteers.models import MerchantOffer

    merchant = MerchantFactory(
        stations=[station], latitude=Decimal("30.751"), longitude=Decimal("120.76")
    )
    MerchantOffer.objects.create(merchant=merchant, item=item, price=Decimal("70"))
    order = make_order()
    client.force_login(station_manager)
    page = client.get(order.get_absolute_url()).content.decode()
    assert f'name="merchant" value="{merchant.provider.pk}"' in page
    assert 'name="other_station"' in page
    client.post(
        reverse("requests:order_assign", args=[order.pk]), {"merchant": merchant.provider.pk}
    )
    order.refresh_from_db()
    assert order.merchant == merchant and order.quoted_price == Decimal("70.00")
