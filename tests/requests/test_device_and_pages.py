import json
from decimal import Decimal

import pytest
from django.urls import reverse

from requests import services
from requests.models import DeviceCall, ServiceRequest
from tests.factories import ResidentFactory, ServiceItemFactory, StationFactory, UserFactory
from tests.requests.conftest import near

pytestmark = pytest.mark.django_db
CALL = "/api/devices/call"


def post(client, payload):
    return client.post(
        CALL,
        data=json.dumps(payload) if not isinstance(payload, str) else payload,
        content_type="application/json",
    )


def test_device_call_creates_an_emergency_order_offered_at_once(client, device, station, item):
    volunteer = near(station, item, 1)
    _device, secret = device
    response = post(client, {"device_id": "YJT-0001", "secret": secret})
    assert response.status_code == 201
    order = ServiceRequest.objects.get(number=response.json()["order"])
    assert (order.channel, order.urgency, order.status) == ("device", "emergency", "dispatched")
    assert order.offers.get().provider.volunteer == volunteer
    assert DeviceCall.objects.get().ok


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"device_id": "YJT-0001", "secret": "wrong"}, 401, "bad_secret"),
        ({"device_id": "NOPE", "secret": "x"}, 404, "unknown_device"),
        ("{not json", 400, "malformed_json"),
        ("[1, 2]", 400, "malformed_json"),
    ],
)
def test_bad_device_calls_create_nothing_and_are_logged(client, device, payload, status, error):
    response = post(client, payload)
    assert response.status_code == status and response.json() == {"error": error}
    assert not ServiceRequest.objects.exists()
    if status != 400:
        assert DeviceCall.objects.get().error == error


def test_device_call_pops_up_on_every_console(client, device, operator):
    _device, secret = device
    post(client, {"device_id": "YJT-0001", "secret": secret})
    client.force_login(operator)
    body = client.get(reverse("requests:console_alerts")).content.decode()
    assert "王小红" in body and 'data-testid="device-alert"' in body
    # The numbers are masked until tapped (a logged reveal): see docs/privacy.md.
    assert "139****9999" in body and "13900009999" not in body


def test_console_lookup_by_number_prefix(client, operator, resident, make_order):
    make_order()
    client.force_login(operator)
    body = client.get(reverse("requests:console_lookup"), {"phone": "13812"}).content.decode()
    assert resident.name in body and "电视机维修" in body
    assert (
        resident.name
        not in client.get(reverse("requests:console_lookup"), {"phone": "139"}).content.decode()
    )


def test_console_lookup_query_count_is_constant(
    client, operator, community, item, django_assert_num_queries
):
    client.force_login(operator)
    client.get(reverse("requests:console_lookup"), {"phone": "1381"})

    def grow(n, start):
        for i in range(n):
            r = ResidentFactory(community=community, phone=f"1381{start + i:07d}")
            services.order_create(actor=None, resident=r, item=item, channel="hotline")

    grow(2, 0)
    # session, user, phone prefix → ids, residents (+community), phones, recent orders
    with django_assert_num_queries(6):
        client.get(reverse("requests:console_lookup"), {"phone": "1381"})
    grow(8, 100)
    with django_assert_num_queries(6):
        client.get(reverse("requests:console_lookup"), {"phone": "1381"})


def test_new_order_from_the_console_offers_a_merge(client, operator, resident, item, make_order):
    existing = make_order()
    client.force_login(operator)
    url = reverse("requests:order_create", args=[resident.pk])
    data = {
        "item": item.pk,
        "kind": "help",
        "channel": "hotline",
        "urgency": "normal",
        "caller_phone": "13812345678",
        "address": resident.address,
    }
    response = client.post(url, data)
    assert 'data-testid="merge-offer"' in response.content.decode()
    assert ServiceRequest.objects.count() == 1
    client.post(
        reverse("requests:order_merge", args=[existing.pk]), {"caller_phone": "13812345678"}
    )
    existing.refresh_from_db()
    assert existing.repeat_calls == 1
    client.post(url, {**data, "confirm_new": "True"})
    assert ServiceRequest.objects.count() == 2


def test_register_a_new_caller_then_order(client, operator, community, item):
    client.force_login(operator)
    response = client.post(
        reverse("requests:resident_create"),
        {
            "name": "孙奶奶",
            "phone": "13700007777",
            "address": "梅湾街5号",
            "community": community.pk,
        },
    )
    assert response.status_code == 302 and "/orders/new/" in response["Location"]
    response = client.post(
        reverse("requests:resident_create"), {"name": "无号码", "phone": "123", "address": "x"}
    )
    assert response.status_code == 200 and response.context["form"].has_error("phone")


ORDER_PAGES = ["requests:console", "requests:order_list", "requests:followup_queue"]


@pytest.mark.parametrize("url_name", ORDER_PAGES)
def test_outsider_and_volunteer_are_refused_hotline_pages(
    client, outsider, volunteer_user, url_name
):
    for user in (outsider, volunteer_user):
        client.force_login(user)
        assert client.get(reverse(url_name)).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("requests:my_orders")).status_code == 403
    assert client.get(reverse("requests:order_create", args=[999999])).status_code == 403
    assert client.get(reverse("requests:followup", args=[999999])).status_code == 403


def test_station_manager_sees_only_own_stations_orders(
    client, station_manager, make_order, resident, item, other_station
):
    mine = make_order()
    theirs = services.order_create(
        actor=None,
        resident=resident,
        item=ServiceItemFactory(),
        channel="hotline",
        station=other_station,
    )
    client.force_login(station_manager)
    numbers = [o.number for o in client.get(reverse("requests:order_list")).context["object_list"]]
    assert numbers == [mine.number]
    assert client.get(reverse("requests:order_detail", args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("requests:order_step", args=[theirs.pk, "cancel"]), {"reason": "x"}
        ).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == "received"


def test_order_list_query_count_is_constant(
    client, operator, community, item, django_assert_num_queries, near_volunteer
):
    client.force_login(operator)
    client.get(reverse("requests:order_list"))

    def grow(n):
        for _ in range(n):
            o = services.order_create(
                actor=None,
                resident=ResidentFactory(community=community),
                item=item,
                channel="hotline",
            )
            services.order_assign(actor=operator, order=o, provider=near_volunteer)

    grow(2)
    # session, user, capped count, page (all joins), filter choices: stations, items, categories
    with django_assert_num_queries(7):
        client.get(reverse("requests:order_list"))
    grow(15)
    with django_assert_num_queries(7):
        response = client.get(reverse("requests:order_list"))
    assert len(response.context["object_list"]) == 17


def test_order_list_filters(client, operator, make_order, item):
    a = make_order(urgency="emergency")
    make_order(item=ServiceItemFactory(), channel="walk_in")
    client.force_login(operator)
    for params in (
        {"urgency": "emergency"},
        {"channel": "hotline"},
        {"item": item.pk},
        {"category": item.category_id},
        {"number": a.number},
        {"status": "received", "urgency": "emergency"},
    ):
        numbers = [
            o.number
            for o in client.get(reverse("requests:order_list"), params).context["object_list"]
        ]
        assert numbers == [a.number], params


def test_order_detail_explains_the_ranking(client, operator, make_order, near_volunteer):
    order = make_order()
    client.force_login(operator)
    body = client.get(reverse("requests:order_detail", args=[order.pk])).content.decode()
    assert near_volunteer.name in body and "1.0 km" in body


def test_follow_up_queue_and_form(client, operator, make_order, near_volunteer):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    services.order_complete(actor=None, order=order, notes="修好", fee=Decimal("80"))
    client.force_login(operator)
    assert [
        o.pk for o in client.get(reverse("requests:followup_queue")).context["object_list"]
    ] == [order.pk]
    client.post(
        reverse("requests:followup", args=[order.pk]),
        {"satisfaction": "basically", "score": "4", "words": "还行"},
    )
    order.refresh_from_db()
    assert order.status == "archived"
    assert list(client.get(reverse("requests:followup_queue")).context["object_list"]) == []


def test_volunteer_side_offer_take_and_finish(client, operator, make_order, near_volunteer):
    order = make_order()
    services.order_offer(actor=operator, order=order)
    client.force_login(near_volunteer.user)
    page = client.get(reverse("requests:my_orders")).content.decode()
    assert "电视机维修" in page and "1.00 km" in page
    assert (
        "电视机维修"
        in client.get(reverse("requests:my_offers"), HTTP_HX_REQUEST="true").content.decode()
    )
    client.post(reverse("requests:my_take", args=[order.pk]))
    assert "电视机维修" not in client.get(reverse("requests:my_offers")).content.decode()
    for step in ("on_the_way", "arrive"):
        client.post(reverse("requests:my_step", args=[order.pk, step]))
    client.post(
        reverse("requests:my_step", args=[order.pk, "complete"]), {"notes": "修好了", "fee": "80"}
    )
    order.refresh_from_db()
    assert order.status == "completed" and order.volunteer == near_volunteer


def test_a_volunteer_cannot_touch_another_volunteers_order(
    client, operator, make_order, near_volunteer, station, item
):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    other = near(station, item, 2, user=UserFactory(role="volunteer"))
    client.force_login(other.user)
    assert client.get(reverse("requests:my_order", args=[order.pk])).status_code == 404
    assert (
        client.post(
            reverse("requests:my_step", args=[order.pk, "return"]), {"reason": "x"}
        ).status_code
        == 404
    )
    assert client.post(reverse("requests:my_take", args=[order.pk])).status_code == 404
    order.refresh_from_db()
    assert order.status == "dispatched"


def test_far_station_is_not_in_area(make_order):
    from requests.dispatch import area_station_ids

    far = StationFactory()
    order = make_order()
    assert far.pk not in area_station_ids(order.station)


def test_follow_up_queue_and_my_orders_query_counts_are_constant(
    client, operator, community, item, near_volunteer, django_assert_num_queries
):
    def grow(n):
        for _ in range(n):
            o = services.order_create(
                actor=None,
                resident=ResidentFactory(community=community),
                item=item,
                channel="hotline",
            )
            services.order_assign(actor=operator, order=o, provider=near_volunteer)
            services.order_take(actor=None, order=o, provider=near_volunteer)
            services.order_complete(actor=None, order=o, notes="修好", fee=Decimal("80"))
            offered = services.order_create(
                actor=None, resident=o.resident, item=ServiceItemFactory(), channel="hotline"
            )
            near_volunteer.service_items.add(offered.item)
            services.order_offer(actor=operator, order=offered)

    grow(2)
    for user, url, queries in [
        # session, user, capped count, page (joins), residents' phones; filter: no query
        (operator, reverse("requests:followup_queue"), 5),
        # session, user, volunteer, offers (+order, item, community), my orders (+item, resident)
        (near_volunteer.user, reverse("requests:my_orders"), 5),
    ]:
        client.force_login(user)
        with django_assert_num_queries(queries):
            client.get(url)
    grow(6)
    for user, url, queries in [
        (operator, reverse("requests:followup_queue"), 5),
        (near_volunteer.user, reverse("requests:my_orders"), 5),
    ]:
        client.force_login(user)
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200
