"""The operator's console: finding the caller, registering them, a repeat call."""

import pytest
from django.urls import reverse

from requests import services
from requests.models import ServiceRequest
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


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
    # session, user, phone prefix → ids, residents (+community), phones, recent orders,
    # + 2 since issue 11 (the special-group mark and contacts before the operator
    # speaks): memberships (+group), emergency contacts
    with django_assert_num_queries(8):
        client.get(reverse("requests:console_lookup"), {"phone": "1381"})
    grow(8, 100)
    with django_assert_num_queries(8):
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
