"""Hardening of the hotline: scoping, personal data, valid input, one order per call,
the device endpoint under abuse, and a broker outage."""

import json
import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from center.models import AuditEntry, Role
from requests import services
from requests.models import DeviceCall, Resident, ResidentContact, ServiceRequest
from tests.factories import CommunityFactory, ResidentFactory, UserFactory, VolunteerFactory

CALL = "/api/devices/call"


@pytest.fixture
def b_resident(other_station):
    community = CommunityFactory()
    other_station.communities.add(community)
    return ResidentFactory(name="乙站居民", community=community, phone="13599998888")


def _call(client, payload, **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(CALL, data=body, content_type="application/json", **extra)


# --- Station scoping ------------------------------------------------------------------


def test_alerts_show_a_station_manager_only_their_own_device_calls(
    client, station_manager, operator, resident, b_resident, item, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "DEVICE_ITEM_CODE": item.code}
    for r, device_id in ((resident, "YJT-A"), (b_resident, "YJT-B")):
        _d, secret = services.device_register(actor=None, resident=r, device_id=device_id)
        assert _call(client, {"device_id": device_id, "secret": secret}).status_code == 201
    client.force_login(station_manager)
    body = client.get(reverse("requests:console_alerts")).content.decode()
    assert resident.name in body and b_resident.name not in body
    client.force_login(operator)
    body = client.get(reverse("requests:console_alerts")).content.decode()
    assert resident.name in body and b_resident.name in body


def test_order_form_lists_only_the_managers_stations(
    client, station_manager, resident, station, other_station
):
    client.force_login(station_manager)
    page = client.get(reverse("requests:order_create", args=[resident.pk])).content.decode()
    assert f'value="{station.pk}"' in page and other_station.name not in page


def test_station_manager_cannot_route_an_order_to_another_station(
    client, station_manager, resident, item, other_station
):
    client.force_login(station_manager)
    response = client.post(
        reverse("requests:order_create", args=[resident.pk]),
        {
            "item": item.pk,
            "kind": "help",
            "channel": "hotline",
            "urgency": "normal",
            "station": other_station.pk,
        },
    )
    assert response.status_code == 200 and not ServiceRequest.objects.exists()


def test_station_manager_assigns_another_stations_volunteer_only_when_ticked(
    client, station_manager, operator, make_order, other_station, station
):
    outside = VolunteerFactory(station=other_station, volunteer_no="JX000000777")
    order = make_order(station=station)
    client.force_login(station_manager)
    url = reverse("requests:order_assign", args=[order.pk])
    client.post(url, {"volunteer_no": outside.volunteer_no})
    order.refresh_from_db()
    assert order.status == "received" and order.volunteer is None
    client.post(url, {"volunteer_no": outside.volunteer_no, "other_station": "on"})
    order.refresh_from_db()
    assert order.volunteer == outside
    assert order.events.get(action="requests.order.assigned").data["other_station"] == "True"


def test_operator_assigns_any_stations_volunteer(client, operator, make_order, other_station):
    outside = VolunteerFactory(station=other_station, volunteer_no="JX000000778")
    order = make_order()
    client.force_login(operator)
    client.post(
        reverse("requests:order_assign", args=[order.pk]), {"volunteer_no": outside.volunteer_no}
    )
    order.refresh_from_db()
    assert order.volunteer == outside


# --- Personal data ------------------------------------------------------------------


def test_order_page_masks_numbers_and_a_reveal_is_logged(client, operator, make_order, resident):
    ResidentContact.objects.create(
        resident=resident, name="李", relation="儿子", phone="13711112222"
    )
    order = make_order(caller_phone="13812345678")
    client.force_login(operator)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "13812345678" not in page and "138****5678" in page
    assert "13711112222" not in page and "137****2222" in page
    phone = resident.phones.get()
    response = client.post(reverse("requests:phone_reveal", args=["phone", phone.pk]))
    assert response.status_code == 200 and "13812345678" in response.content.decode()
    entry = AuditEntry.objects.get(action="center.pii.revealed")
    assert entry.actor == operator and entry.target_id == str(phone.pk)


def test_console_shows_in_full_only_the_number_typed_in_full(client, operator, resident):
    ResidentFactory(name="同号段", phone="13812349999")
    client.force_login(operator)
    body = client.get(reverse("requests:console_lookup"), {"phone": "13812345678"}).content
    assert "13812345678" in body.decode()
    body = client.get(reverse("requests:console_lookup"), {"phone": "138123"}).content.decode()
    assert "13812345678" not in body and "138****5678" in body and "138****9999" in body


def test_station_manager_cannot_reveal_another_stations_number(client, station_manager, b_resident):
    client.force_login(station_manager)
    phone = b_resident.phones.get()
    assert (
        client.post(reverse("requests:phone_reveal", args=["phone", phone.pk])).status_code == 404
    )
    assert not AuditEntry.objects.exists()


def test_admin_resident_page_logs_the_showing_and_history_works(client, center_manager, resident):
    client.force_login(center_manager)
    assert client.get(f"/admin/requests/resident/{resident.pk}/change/").status_code == 200
    assert (
        AuditEntry.objects.filter(action="center.pii.revealed", actor=center_manager).count() == 1
    )
    # Resident has no simple-history: the admin's own history, not a 500.
    assert client.get(f"/admin/requests/resident/{resident.pk}/history/").status_code == 200


# --- Valid input, and nothing else ----------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+86 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("０５７３－８２３４５６７８", "057382345678"),
        ("0573 8234 5678", "057382345678"),
        ("82345678", "057382345678"),  # local landline: the area code from settings
    ],
)
def test_resident_phones_are_normalised(client, operator, community, typed, stored):
    client.force_login(operator)
    response = client.post(
        reverse("requests:resident_create"),
        {"name": "张三", "phone": typed, "address": "梅湾街1号", "community": community.pk},
    )
    assert response.status_code == 302
    assert Resident.objects.get().phones.get().number == stored


@pytest.mark.parametrize(
    "bad", ["abc", "NaN", "0", "😀😀", "1381234567", "+1 415 555 0100", "x" * 30]
)
def test_resident_phone_rejects_what_is_not_a_number(client, operator, community, bad):
    client.force_login(operator)
    response = client.post(
        reverse("requests:resident_create"),
        {"name": "张三", "phone": bad, "address": "梅湾街1号", "community": community.pk},
    )
    assert response.status_code == 200 and not Resident.objects.exists()


def test_other_phones_too_long_or_invalid_is_a_message_not_a_500(client, operator, community):
    client.force_login(operator)
    for other in ("1" * 300, "13812345678, abc", "13812345678," * 6):
        response = client.post(
            reverse("requests:resident_create"),
            {"name": "张三", "phone": "13800001111", "other_phones": other, "address": "x"},
        )
        assert response.status_code == 200 and not Resident.objects.exists(), other


def test_nul_bytes_are_refused_before_any_view(client, operator):
    client.force_login(operator)
    assert client.get(reverse("requests:order_list"), {"q": "a\x00b"}).status_code == 400
    response = client.post(
        reverse("requests:resident_create"), {"name": "张\x00三", "phone": "13800001111"}
    )
    assert response.status_code == 400 and not Resident.objects.exists()
    assert _call(client, '{"device_id": "YJT-\\u0000", "secret": "x"}').status_code == 400


# --- Exactly one order per call ----------------------------------------------------------


def _order_post(item, key, **extra):
    return {
        "item": item.pk,
        "kind": "help",
        "channel": "hotline",
        "urgency": "normal",
        "intake_key": str(key),
        **extra,
    }


def test_the_same_order_form_posted_twice_is_one_order(client, operator, resident, item):
    client.force_login(operator)
    url = reverse("requests:order_create", args=[resident.pk])
    key = uuid.uuid4()
    first = client.post(url, _order_post(item, key))
    second = client.post(url, _order_post(item, key, confirm_new="True"))
    assert ServiceRequest.objects.count() == 1
    order = ServiceRequest.objects.get()
    assert first["Location"] == second["Location"] == order.get_absolute_url()


def test_the_same_resident_form_posted_twice_is_one_resident(client, operator):
    client.force_login(operator)
    key = str(uuid.uuid4())
    for _i in range(2):
        client.post(
            reverse("requests:resident_create"),
            {"name": "张三", "phone": "13800001111", "address": "x", "intake_key": key},
        )
    assert Resident.objects.count() == 1


def _parallel(n, target):
    barrier = threading.Barrier(n)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [2, 5, 10])
def test_parallel_submissions_of_one_form_create_one_order(n, station, community, item):
    from django.test import Client

    operator = UserFactory(role=Role.OPERATOR)
    resident = ResidentFactory(community=community)
    url = reverse("requests:order_create", args=[resident.pk])
    data = _order_post(item, uuid.uuid4(), confirm_new="True")

    def submit():
        client = Client()
        client.force_login(operator)
        return client.post(url, data).status_code

    statuses = _parallel(n, submit)
    assert ServiceRequest.objects.count() == 1
    assert statuses == [302] * n


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_repeat_calls_without_a_key_create_one_order(station, community, item):
    """Two operators taking the same repeat call: the resident's row serialises the merge check."""
    operator = UserFactory(role=Role.OPERATOR)
    resident = ResidentFactory(community=community)

    def create():
        try:
            services.order_create(
                actor=operator,
                resident=resident,
                item=item,
                channel="hotline",
                allow_duplicate=False,
            )
            return "created"
        except services.MergeableOrder:
            return "merge"

    results = _parallel(6, create)
    assert sorted(results) == ["created"] + ["merge"] * 5
    assert ServiceRequest.objects.count() == 1


# --- One-key devices ------------------------------------------------------------------


def test_a_repeated_device_call_returns_the_open_order(client, device):
    _d, secret = device
    first = _call(client, {"device_id": "YJT-0001", "secret": secret})
    again = _call(client, {"device_id": "YJT-0001", "secret": secret})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["order"] == again.json()["order"] and again.json()["repeat"] is True
    assert ServiceRequest.objects.count() == 1
    assert ServiceRequest.objects.get().repeat_calls == 1


def test_device_calls_are_rate_limited_and_bad_secrets_write_a_bounded_log(
    client, device, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "DEVICE_CALLS_PER_MINUTE": 3}
    codes = [
        _call(client, {"device_id": "YJT-0001", "secret": "wrong"}).status_code for _ in range(20)
    ]
    assert codes[:3] == [401] * 3 and set(codes[3:]) == {429}
    assert DeviceCall.objects.count() == 3


def test_device_calls_are_limited_per_source_address(client, device, settings):
    settings.LIANXIN = {**settings.LIANXIN, "DEVICE_ADDRESS_CALLS_PER_MINUTE": 5}
    codes = [
        _call(client, {"device_id": f"X-{i}", "secret": "s"}, REMOTE_ADDR="10.0.0.9").status_code
        for i in range(12)
    ]
    assert codes[:5] == [404] * 5 and set(codes[5:]) == {429}
    assert DeviceCall.objects.count() == 5


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("[" * 100000 + "]" * 100000, 413, "body_too_large"),
        ("[" * 1500 + "]" * 1500, 400, "malformed_json"),
        ('{"device_id": ["x"], "secret": "s"}', 400, "malformed_json"),
        ('{"device_id": "' + "x" * 60 + '", "secret": "s"}', 400, "bad_device_id"),
        ('{"device_id": "YJT-0001", "secret": 12}', 400, "malformed_json"),
        (b"\xff\xfe", 400, "malformed_json"),
    ],
)
def test_malformed_device_calls_get_json_errors(client, device, settings, body, status, error):
    settings.LIANXIN = {**settings.LIANXIN, "DEVICE_MAX_BODY_BYTES": 8192}
    response = _call(client, body)
    assert response.status_code == status and response.json() == {"error": error}
    assert not ServiceRequest.objects.exists()


# --- A broker outage ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_broker_down_never_fails_the_request_and_the_sweep_catches_up(
    client, operator, station, community, item, settings, monkeypatch
):
    """Publishing to an unreachable broker after commit: the device still gets
    its 201, the order is saved and offered, and the per-minute sweep widens it
    once the ring's time is up, exactly once."""
    import datetime

    from django.utils import timezone

    from center.celery import app
    from requests.tasks import widen_stale_offers

    settings.LIANXIN = {**settings.LIANXIN, "DEVICE_ITEM_CODE": item.code}
    resident = ResidentFactory(community=community)
    _d, secret = services.device_register(actor=None, resident=resident, device_id="YJT-9")
    # Observe our own logger directly: a Celery worker started by an earlier test
    # reconfigures logging, so neither caplog nor a handler is reliable here.
    from center import broker

    records = []
    monkeypatch.setattr(broker.log, "warning", lambda msg, *args: records.append(msg % args))
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app._pool = app.amqp._producer_pool = None  # no connection cached from an earlier test
    try:
        response = _call(client, {"device_id": "YJT-9", "secret": secret})
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous
        app._pool = app.amqp._producer_pool = None
    assert response.status_code == 201
    # It was tried after commit, and failed, and the request did not.
    assert any("broker unavailable" in r for r in records)
    order = ServiceRequest.objects.get()
    assert order.status == "dispatched" and order.offer_ring == 1
    # Broker back (eager here); the ring's time passes; the sweep widens it once.
    ServiceRequest.objects.filter(pk=order.pk).update(
        ring_started_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert widen_stale_offers() == 1
    assert widen_stale_offers() == 0
    order.refresh_from_db()
    assert order.offer_ring == 2
    assert order.events.filter(action="requests.order.received").count() == 1
