"""Fixes from the new-user walk-through (issue 8) on the hotline's pages: the
console's 尾号 search and device alerts, follow-up calls, duplicate callers, the
admin's phone search and the provider's order page."""

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from center.models import AuditEntry
from requests import selectors, services
from requests.models import OrderEvent, Resident, ServiceRequest
from tests.factories import CommunityFactory, ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _done(order, operator, provider):
    services.order_assign(actor=operator, order=order, provider=provider)
    services.order_take(actor=None, order=order)
    return services.order_complete(actor=operator, order=order, notes="修好了", fee=Decimal("0"))


# --- 3. The console finds a caller by the last digits (尾号) -----------------------------


def test_console_lookup_matches_prefix_first_then_tail(
    operator, community, django_assert_num_queries
):
    starts = ResidentFactory(name="号头匹配", community=community, phone="13900001111")
    ends = ResidentFactory(name="尾号匹配", community=community, phone="13711111390")
    ResidentFactory(name="不相干", community=community, phone="13600002222")
    # ranked ids (prefix or tail, one query), residents, their phones, recent orders,
    # + 2 since issue 11 (the special-group mark and contacts at once):
    # memberships (+group), emergency contacts
    with django_assert_num_queries(6):
        found = selectors.console_lookup(user=operator, phone="1390")
    assert [r.name for r in found] == ["号头匹配", "尾号匹配"]
    assert [r.match for r in found] == ["prefix", "tail"]
    assert found[0].pk == starts.pk and found[1].pk == ends.pk


def test_console_tail_search_uses_the_indexed_expression(operator, resident):
    with CaptureQueriesContext(connection) as ctx:
        found = selectors.console_lookup(user=operator, phone="5678")
    assert [r.pk for r in found] == [resident.pk] and found[0].match == "tail"
    # The same expression as the index residentphone_tail4, so the planner can use it
    # (SQLite spells RIGHT as SUBSTR; CI checks the PostgreSQL form).
    if connection.vendor == "postgresql":
        assert 'RIGHT("requests_residentphone"."number", 4)' in ctx.captured_queries[0]["sql"]


def test_console_tail_search_needs_four_digits_and_the_whole_suffix(operator, resident):
    assert selectors.console_lookup(user=operator, phone="678") == []  # prefix only
    assert selectors.console_lookup(user=operator, phone="95678") == []  # …45678, not 95678
    assert [r.pk for r in selectors.console_lookup(user=operator, phone="345678")] == [resident.pk]


def test_console_tail_search_keeps_the_station_scope(
    client, station_manager, resident, other_station
):
    elsewhere = CommunityFactory()
    other_station.communities.add(elsewhere)
    ResidentFactory(name="别站居民", community=elsewhere, phone="13900005678")
    client.force_login(station_manager)
    body = client.get(reverse("requests:console_lookup"), {"phone": "5678"}).content.decode()
    assert resident.name in body and "别站居民" not in body
    assert 'data-testid="tail-match"' in body and "138****5678" in body
    page = client.get(reverse("requests:console")).content.decode()
    assert 'data-testid="lookup-help"' in page


# --- 4. Follow-up pages: the number to call back, masked, and the order ---------------------


def test_followup_pages_show_the_masked_number_to_call_and_the_order(
    client, operator, make_order, near_volunteer, resident
):
    order = _done(make_order(), operator, near_volunteer)
    phone = resident.phones.get()
    reveal = reverse("requests:phone_reveal", args=["phone", phone.pk])
    client.force_login(operator)
    for url in (reverse("requests:followup_queue"), reverse("requests:followup", args=[order.pk])):
        body = client.get(url).content.decode()
        assert "138****5678" in body and "13812345678" not in body, url
        assert reveal in body and order.get_absolute_url() in body, url
    # The tap reveals the number and logs it.
    assert "13812345678" in client.post(reveal).content.decode()
    assert AuditEntry.objects.filter(action="center.pii.revealed", actor=operator).exists()


def test_followup_page_refuses_outsiders_and_other_stations(
    client, operator, make_order, near_volunteer, outsider, other_station
):
    order = _done(make_order(), operator, near_volunteer)
    url = reverse("requests:followup", args=[order.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert client.get(reverse("requests:followup_queue")).status_code == 403
    client.force_login(UserFactory(role="station_manager", stations=[other_station]))
    assert client.get(url).status_code == 404


# --- 5. A device alert can be acknowledged ---------------------------------------------------


@pytest.fixture
def device_order(device):
    _device, secret = device
    return services.device_call(device_id="YJT-0001", secret=secret)


def test_alert_acknowledge_is_recorded_once(operator, station_manager, device_order):
    first = services.alert_acknowledge(actor=operator, order=device_order)
    again = services.alert_acknowledge(actor=station_manager, order=device_order)
    assert again.alert_acknowledged_by == operator
    assert again.alert_acknowledged_at == first.alert_acknowledged_at
    assert (
        OrderEvent.objects.filter(
            order=device_order, action="requests.order.alert_acknowledged"
        ).count()
        == 1
    )
    # The order itself still waits for dispatch.
    device_order.refresh_from_db()
    assert device_order.is_open


def test_only_a_device_call_has_an_alert(operator, make_order):
    with pytest.raises(ValidationError):
        services.alert_acknowledge(actor=operator, order=make_order())


def test_acknowledged_alert_leaves_the_console_and_shows_on_the_order(
    client, station_manager, device_order
):
    client.force_login(station_manager)
    alerts = reverse("requests:console_alerts")
    assert 'data-testid="device-alert"' in client.get(alerts).content.decode()
    url = reverse("requests:alert_acknowledge", args=[device_order.pk])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert (
        response.status_code == 200
        and 'data-testid="device-alert"' not in response.content.decode()
    )
    assert 'data-testid="device-alert"' not in client.get(alerts).content.decode()
    page = client.get(device_order.get_absolute_url()).content.decode()
    assert 'data-testid="alert-acknowledged"' in page and str(station_manager) in page
    # Without htmx: back to the console.
    assert client.post(url)["Location"] == reverse("requests:console")


def test_alert_acknowledge_refuses_outsiders_and_other_stations(
    client, outsider, other_station, device_order
):
    url = reverse("requests:alert_acknowledge", args=[device_order.pk])
    client.force_login(outsider)
    assert client.post(url).status_code == 403
    client.force_login(UserFactory(role="station_manager", stations=[other_station]))
    assert client.post(url).status_code == 404
    assert client.get(url).status_code == 405
    device_order.refresh_from_db()
    assert device_order.alert_acknowledged_at is None


# --- 7. Registering the same phone twice warns first ---------------------------------------


def test_new_resident_with_a_known_phone_warns_then_registers_on_confirmation(
    client, operator, resident
):
    client.force_login(operator)
    url = reverse("requests:resident_create")
    data = {"name": "王阿姨", "phone": "138 1234 5678", "address": "梅湾街 3 号"}
    response = client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="duplicate-residents"' in body
    assert resident.name in body and "138****5678" in body
    assert reverse("requests:order_create", args=[resident.pk]) in body
    assert Resident.objects.count() == 1
    # The page carries the confirmation: the same form submitted again registers.
    assert 'name="confirm_duplicate" value="True"' in body
    response = client.post(url, {**data, "confirm_duplicate": "True"})
    assert response.status_code == 302 and Resident.objects.count() == 2


def test_new_resident_with_a_new_phone_is_registered_at_once(client, operator, resident):
    client.force_login(operator)
    response = client.post(
        reverse("requests:resident_create"), {"name": "新居民", "phone": "13955556666"}
    )
    assert response.status_code == 302 and Resident.objects.count() == 2


def test_new_resident_form_refuses_outsiders(client, outsider):
    client.force_login(outsider)
    response = client.post(
        reverse("requests:resident_create"), {"name": "x", "phone": "13955556666"}
    )
    assert response.status_code == 403 and not Resident.objects.exists()


# --- 8. The back office finds an order by the resident's phone -------------------------------


def test_admin_order_search_by_the_residents_phone(client, center_manager, make_order):
    order = make_order(caller_phone="13700007777")
    client.force_login(center_manager)
    url = reverse("admin:requests_servicerequest_changelist")
    assert order.number in client.get(url, {"q": "13812345678"}).content.decode()
    assert order.number in client.get(url, {"q": "138 1234 5678"}).content.decode()
    assert order.number in client.get(url, {"q": "13700007777"}).content.decode()
    assert order.number not in client.get(url, {"q": "13911112222"}).content.decode()


# --- 9. The provider's order page -----------------------------------------------------------


@pytest.fixture
def my_taken_order(operator, make_order, near_volunteer):
    order = services.order_assign(actor=operator, order=make_order(), provider=near_volunteer)
    return services.order_take(actor=near_volunteer.user, order=order, provider=near_volunteer)


def test_provider_gets_tap_to_call_and_a_map_link_and_the_showing_is_logged(
    client, near_volunteer, my_taken_order
):
    client.force_login(near_volunteer.user)
    body = client.get(reverse("requests:my_order", args=[my_taken_order.pk])).content.decode()
    assert 'href="tel:13812345678"' in body
    map_url = "https://uri.amap.com/search?keyword=" + quote(my_taken_order.address)
    assert f'href="{map_url}" target="_blank" rel="noopener noreferrer"' in body
    shown = AuditEntry.objects.get(action="center.pii.revealed", actor=near_volunteer.user)
    assert shown.data["purpose"] == "provider"
    listing = client.get(reverse("requests:my_orders")).content.decode()
    assert map_url in listing


def test_no_number_before_the_order_is_taken(client, operator, make_order, near_volunteer):
    order = services.order_assign(actor=operator, order=make_order(), provider=near_volunteer)
    client.force_login(near_volunteer.user)
    body = client.get(reverse("requests:my_order", args=[order.pk])).content.decode()
    assert "tel:" not in body
    assert not AuditEntry.objects.filter(action="center.pii.revealed").exists()


def test_completing_says_so(client, near_volunteer, my_taken_order):
    client.force_login(near_volunteer.user)
    response = client.post(
        reverse("requests:my_step", args=[my_taken_order.pk, "complete"]),
        {"notes": "换了插座", "fee": "80"},
    )
    my_taken_order.refresh_from_db()
    assert my_taken_order.status == ServiceRequest.Status.COMPLETED
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(my_taken_order.number in m for m in shown), shown


def test_another_volunteer_cannot_open_the_order(client, my_taken_order):
    client.force_login(UserFactory(role="volunteer"))
    assert client.get(reverse("requests:my_order", args=[my_taken_order.pk])).status_code in (
        403,
        404,
    )
