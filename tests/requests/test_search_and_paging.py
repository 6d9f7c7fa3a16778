"""Search and paging that stay fast at city size: an order number or a phone
exactly, a name by its beginning (one function for the staff pages and the
back office), and keyset pages instead of OFFSET."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from requests import selectors
from requests.models import ServiceRequest
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def test_order_search_by_number_as_typed(make_order):
    a, b = make_order(), make_order()
    qs = ServiceRequest.objects.all()
    typed = " " + a.number.lower()[:6] + " " + a.number[6:] + " "
    assert list(selectors.order_search(qs, typed)) == [a]
    assert list(selectors.order_search(qs, "")) == list(qs)  # nothing typed: no filter
    assert list(selectors.order_search(qs, "电视")) == []  # words find nothing
    assert b not in selectors.order_search(qs, a.number)


def test_order_search_by_the_number_that_called_or_the_residents(make_order, resident):
    own = resident.phones.get().number
    by_caller = make_order(caller_phone="13912345678")
    other = make_order(resident=ResidentFactory(), caller_phone="13800000000")
    qs = ServiceRequest.objects.all()
    assert set(selectors.order_search(qs, "+86 139-1234-5678")) == {by_caller}
    # Every order of the resident holding the number (the caller's too).
    assert set(selectors.order_search(qs, own)) == set(
        ServiceRequest.objects.filter(resident=resident)
    )
    assert other not in selectors.order_search(qs, own)


def test_resident_search_by_phone_or_name_beginning():
    zhang = ResidentFactory(name="张秀英")
    wang = ResidentFactory(name="王张三")
    qs = type(zhang).objects.all()
    assert list(selectors.resident_search(qs, "张")) == [zhang]  # beginning, not inside
    number = zhang.phones.get().number
    assert list(selectors.resident_search(qs, f"{number[:3]} {number[3:]}")) == [zhang]
    assert wang not in selectors.resident_search(qs, number)


@pytest.mark.postgres
def test_the_searches_use_indexes_not_upper(make_order, resident):
    """The back office's own "=field" search compared UPPER(col) = UPPER(q),
    which no index serves: ours compare the column itself."""
    order = make_order(caller_phone="13912345678")
    qs = ServiceRequest.objects.all()
    for term in (order.number, "13912345678"):
        with CaptureQueriesContext(connection) as ctx:
            list(selectors.order_search(qs, term))
        assert not any("UPPER" in q["sql"] for q in ctx.captured_queries), term


def test_admin_order_and_resident_search_use_the_shared_functions(
    client, center_manager, make_order, resident
):
    order = make_order(caller_phone="13912345678")
    make_order(resident=ResidentFactory())
    client.force_login(center_manager)
    for term in (order.number, "139 1234 5678"):
        page = client.get(reverse("admin:requests_servicerequest_changelist"), {"q": term})
        assert list(page.context["cl"].result_list) == [order], term
    page = client.get(
        reverse("admin:requests_resident_changelist"), {"q": resident.phones.get().number}
    )
    assert list(page.context["cl"].result_list) == [resident]


def test_the_order_list_number_box_takes_a_phone_too(client, operator, make_order):
    order = make_order(caller_phone="13912345678")
    make_order()
    client.force_login(operator)
    page = client.get(reverse("requests:order_list"), {"number": "139 1234 5678"})
    assert list(page.context["object_list"]) == [order]


def test_order_list_pages_by_keyset_and_back(client, operator, make_order, settings):
    orders = [make_order() for _ in range(7)]
    # Two orders at the same instant: the id breaks the tie, none is lost.
    now = timezone.now()
    for i, o in enumerate(orders):
        ServiceRequest.objects.filter(pk=o.pk).update(
            received_at=now - datetime.timedelta(minutes=i // 2)
        )
    newest_first = list(
        ServiceRequest.objects.order_by("-received_at", "-id").values_list("pk", flat=True)
    )
    client.force_login(operator)
    url = reverse("requests:order_list")
    from requests.views import OrderListView

    OrderListView.paginate_by, old = 3, OrderListView.paginate_by
    try:
        seen, params, pages = [], {}, []
        while True:
            page = client.get(url, params).context["page_obj"]
            pages.append(page)
            seen += [o.pk for o in page]
            if not page.has_next():
                break
            params = {"after": page.next_cursor}
        assert seen == newest_first and len(pages) == 3
        back = client.get(url, {"before": pages[-1].previous_cursor}).context["page_obj"]
        assert [o.pk for o in back] == [o.pk for o in pages[-2]]
        # A cursor that is not one is the first page, not an error.
        assert client.get(url, {"after": "garbage"}).status_code == 200
    finally:
        OrderListView.paginate_by = old


def test_a_deep_page_costs_what_the_first_costs(client, operator, make_order):
    from requests.views import OrderListView

    for _ in range(7):
        make_order()
    client.force_login(operator)
    url = reverse("requests:order_list")
    OrderListView.paginate_by, old = 3, OrderListView.paginate_by
    try:
        first = client.get(url).context["page_obj"]
        second = client.get(url, {"after": first.next_cursor}).context["page_obj"]
        with CaptureQueriesContext(connection) as deep:
            client.get(url, {"after": second.next_cursor})
        with CaptureQueriesContext(connection) as top:
            client.get(url)
    finally:
        OrderListView.paginate_by = old
    assert not any(" OFFSET " in q["sql"] for q in deep.captured_queries)
    assert len(deep.captured_queries) == len(top.captured_queries)


def test_a_station_manager_pages_through_the_subtree_merged_from_each_station(
    client, station_manager, station, make_order, community
):
    """Each station's newest orders are sought apart and merged: the pages
    read exactly the scope's orders, newest first, none twice."""
    from requests.views import OrderListView
    from tests.factories import StationFactory

    child = StationFactory(parent=station)
    orders = [make_order() for _ in range(7)]
    now = timezone.now()
    for i, o in enumerate(orders):
        ServiceRequest.objects.filter(pk=o.pk).update(
            station=child if i % 2 else station,
            received_at=now - datetime.timedelta(minutes=i // 2),  # ties across stations
        )
    outside = make_order()
    ServiceRequest.objects.filter(pk=outside.pk).update(station=StationFactory())
    expected = list(
        ServiceRequest.objects.filter(station__in=[station, child])
        .order_by("-received_at", "-id")
        .values_list("pk", flat=True)
    )
    client.force_login(station_manager)
    url = reverse("requests:order_list")
    OrderListView.paginate_by, old = 3, OrderListView.paginate_by
    try:
        seen, params = [], {}
        while True:
            page = client.get(url, params).context["page_obj"]
            seen += [o.pk for o in page]
            if not page.has_next():
                break
            params = {"after": page.next_cursor}
        assert seen == expected and outside.pk not in seen
    finally:
        OrderListView.paginate_by = old
