"""One-key devices: the call endpoint, registration and the back office."""

import json
import re

import pytest
from django.urls import reverse

from center.models import AuditEntry
from requests import services
from requests.models import Device, DeviceCall, ServiceRequest
from requests.selectors import hash_secret
from tests.factories import ResidentFactory
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


def test_device_register_is_audited_without_the_secret_or_personal_data(operator, resident):
    device, secret = services.device_register(
        actor=operator, resident=resident, device_id=" YJT-0002 "
    )
    entry = AuditEntry.objects.get(action="requests.device.registered")
    assert (entry.actor, entry.target_type, entry.target_id) == (
        operator,
        "requests.device",
        str(device.pk),
    )
    assert entry.data == {"device_id": "YJT-0002", "resident": str(resident.pk)}
    logged = json.dumps(entry.data, ensure_ascii=False)
    for secret_or_personal in (secret, device.secret_hash, resident.name, "13812345678"):
        assert secret_or_personal not in logged


def test_device_admin_saves_and_deletes_go_through_the_services(
    client, center_manager, resident, other_station
):
    client.force_login(center_manager)
    response = client.post(
        "/admin/requests/device/add/",
        {"device_id": "YJT-0100", "resident": resident.pk, "is_active": "on"},
        follow=True,
    )
    device = Device.objects.get(device_id="YJT-0100")
    shown = " ".join(str(m) for m in response.context["messages"])
    # The secret is shown once (only its hash is stored).
    assert device.secret_hash in {hash_secret(t) for t in re.findall(r"[A-Za-z0-9_-]{20,}", shown)}
    assert AuditEntry.objects.filter(
        action="requests.device.registered", target_id=str(device.pk), actor=center_manager
    ).exists()

    other = ResidentFactory(phone="13600001111")
    response = client.post(
        f"/admin/requests/device/{device.pk}/change/",
        {"device_id": "YJT-0100", "resident": other.pk},  # unticked: deactivated
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert (device.resident, device.is_active) == (other, False)
    entry = AuditEntry.objects.get(action="requests.device.updated")
    assert (entry.actor, entry.data) == (
        center_manager,
        {"resident": str(other.pk), "is_active": "False"},
    )

    response = client.post(f"/admin/requests/device/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Device.objects.exists()
    assert AuditEntry.objects.get(action="requests.device.deleted").data == {
        "device_id": "YJT-0100"
    }


def test_an_inactive_device_is_refused_as_unknown(client, device, operator):
    registered, secret = device
    services.device_update(actor=operator, device=registered, data={"is_active": False})
    response = post(client, {"device_id": "YJT-0001", "secret": secret})
    assert response.status_code == 404 and not ServiceRequest.objects.exists()


@pytest.mark.parametrize("device_id", ["", "-starts-with-dash", "有中文", "a" * 41, "a b"])
def test_a_device_id_the_endpoint_would_refuse_cannot_be_registered(operator, resident, device_id):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.device_register(actor=operator, resident=resident, device_id=device_id)
    assert not Device.objects.exists()
    assert not AuditEntry.objects.filter(action="requests.device.registered").exists()
