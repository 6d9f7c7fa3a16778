"""The order pages: the staff list, detail and follow-up queue, who may see
them, and their query budgets as the data grows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from requests import services
from requests.models import OrderOffer
from tests.factories import ResidentFactory, ServiceItemFactory
from tests.requests.conftest import near

pytestmark = pytest.mark.django_db

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
    # session, user, capped count, page (its own columns), the page's items
    # (+category) and stations (one UNION), residents, providers; filter
    # choices (kept a minute in production, read here): stations, items, categories
    with django_assert_num_queries(10):
        client.get(reverse("requests:order_list"))
    grow(15)
    with django_assert_num_queries(10):
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


def test_order_detail_query_count_is_constant_as_events_and_offers_grow(
    client, operator, make_order, station, item, settings, django_assert_num_queries
):
    """The staff order page of a returned order (candidates shown again, the
    earlier rounds' offers and the timeline below): the same queries with 4
    events and 2 offers as with dozens of each."""
    settings.LIANXIN = {**settings.LIANXIN, "OFFER_SIZE": 2}
    for i in range(12):
        near(station, item, 0.5 + i / 10)
    order = make_order()

    def round_trip():
        """Offer, the nearest offered one takes it, then returns it (退单)."""
        services.order_offer(actor=operator, order=order)
        order.refresh_from_db()
        taker = order.offers.filter(
            round=order.dispatch_round, status=OrderOffer.Status.OFFERED
        ).first()
        services.order_take(actor=None, order=order, provider=taker.provider)
        services.order_return(actor=None, order=order, reason="临时有事", provider=taker.provider)

    round_trip()
    client.force_login(operator)
    url = reverse("requests:order_detail", args=[order.pk])
    queries = (
        13  # session, user, the order (+item, category, specialty, station, resident,
        # provider, community), events (+actor), offers (+provider; who returned
        # it is read from them), follow-ups (+operator: a reopened or returned
        # order may have some), the resident's phones, contacts; the order's
        # area stations (once for the three rankings); volunteers: ranking,
        # ranked rows (+volunteer); merchants; teams
    )
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert (len(response.context["events"]), len(response.context["offers"])) == (4, 2)
    for _ in range(4):
        round_trip()
    for n in range(10):
        services.order_urge(actor=operator, order=order, note=f"第{n}次催办")
        services.order_merge(actor=operator, order=order, caller_phone="13812345678")
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert len(response.context["events"]) == 36 and len(response.context["offers"]) == 10
    assert response.context["candidates"]  # the page still ranks who is left


def test_a_new_order_page_ranks_in_twelve_queries(
    client, operator, make_order, station, item, django_assert_num_queries
):
    """The page an operator lands on after taking a call (the issue's budget:
    at most 12 queries with the ranking): no follow-up can exist yet."""
    near(station, item, 0.5)
    order = make_order()
    client.force_login(operator)
    # session, user, order (+joins), events, offers, phones, contacts,
    # area stations, volunteer ranking, ranked rows, merchants, teams
    with django_assert_num_queries(12):
        response = client.get(reverse("requests:order_detail", args=[order.pk]))
    assert response.context["candidates"] and response.context["follow_ups"] == []
