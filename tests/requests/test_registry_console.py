"""The console shows a caller's special-group mark and contacts at once
(sensitive memberships as a generic badge, numbers masked); device alerts too."""

import pytest
from django.urls import reverse

from requests import selectors
from requests.services import residents as registry
from tests.factories import ConsentFactory, ResidentFactory, special_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(resident):
    ConsentFactory(resident=resident)
    registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    registry.group_add(actor=None, resident=resident, group=special_group("disabled"))
    registry.contact_add(
        actor=None,
        resident=resident,
        data={"name": "王小红", "relation": "女儿", "phone": "13900009999", "priority": 1},
    )
    return resident


def test_console_lookup_shows_badges_and_masked_contacts(client, operator, caller):
    client.force_login(operator)
    body = client.get(reverse("requests:console_lookup"), {"phone": "13812"}).content.decode()
    assert 'data-testid="special-mark"' in body
    assert "独居老人" in body and "残疾人" not in body
    assert 'data-testid="console-contacts"' in body
    assert "王小红" in body and "139****9999" in body and "13900009999" not in body


def test_console_lookup_badges_cost_no_query_per_row(
    operator, community, django_assert_num_queries
):
    for i in range(5):
        r = ResidentFactory(community=community, phone=f"1381000000{i}")
        registry.group_add(actor=None, resident=r, group=special_group("empty-nest"))
    # ranked ids, residents, phones, memberships (+group), contacts, recent orders
    with django_assert_num_queries(6):
        found = selectors.console_lookup(user=operator, phone="13810")
        assert all(r.badges for r in found)


def test_plain_residents_show_no_mark(client, operator, resident):
    client.force_login(operator)
    body = client.get(reverse("requests:console_lookup"), {"phone": "13812"}).content.decode()
    assert resident.name in body and 'data-testid="special-mark"' not in body


def test_device_alert_shows_the_groups(client, operator, device, resident):
    from requests import services

    registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    services.device_call(device_id="YJT-0001", secret=device[1])
    client.force_login(operator)
    body = client.get(reverse("requests:console_alerts")).content.decode()
    assert 'data-testid="device-alert"' in body and "独居老人" in body
