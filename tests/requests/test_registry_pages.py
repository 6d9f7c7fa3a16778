"""The registry's pages: who sees what (masking per role), the logged reveal
and export, the list's filters and its constant query count, the edit pages
going through the services, the back office's access-log filter."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry, Role
from center.validators import id_check_character
from requests.models import ResidentGroup, ResidentSensitive
from requests.services import residents as registry
from tests.factories import (
    CommunityFactory,
    ConsentFactory,
    PairingFactory,
    ResidentFactory,
    UserFactory,
    special_group,
)

pytestmark = pytest.mark.django_db

ID17 = "33040219400101123"
ID_NUMBER = ID17 + id_check_character(ID17)
HEALTH = "心脏病，随身带药"


@pytest.fixture
def special(resident):
    """A resident of station A: living alone, disabled (sensitive), with health notes and an ID."""
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
    resident.refresh_from_db()
    return resident


@pytest.fixture
def manager_b(other_station):
    return UserFactory(username="smb", role=Role.STATION_MANAGER, stations=[other_station])


def _detail(client, user, resident):
    client.force_login(user)
    return client.get(reverse("requests:resident_detail", args=[resident.pk]))


def test_operator_sees_the_mark_and_plain_groups_never_the_sensitive_data(
    client, operator, special
):
    response = _detail(client, operator, special)
    body = response.content.decode()
    assert response.status_code == 200
    assert "独居老人" in body  # a plain group by name
    assert "残疾人" not in body  # a sensitive group: the generic badge only
    assert HEALTH not in body and ID_NUMBER not in body and ID_NUMBER[:6] + "*" not in body
    assert 'data-testid="sensitive-hidden"' in body
    assert 'data-testid="sensitive-reveal"' not in body
    # Operators may not reveal, even by posting.
    url = reverse("requests:resident_sensitive_reveal", args=[special.pk])
    assert client.post(url).status_code == 403
    assert not AuditEntry.objects.filter(action="center.pii.revealed").exists()


def test_station_manager_reveals_by_tap_and_it_is_logged(client, station_manager, special):
    body = _detail(client, station_manager, special).content.decode()
    assert HEALTH not in body and ID_NUMBER not in body  # masked until the tap
    assert 'data-testid="sensitive-reveal"' in body
    response = client.post(
        reverse("requests:resident_sensitive_reveal", args=[special.pk]), HTTP_HX_REQUEST="true"
    )
    revealed = response.content.decode()
    assert HEALTH in revealed and ID_NUMBER in revealed and "残疾人" in revealed
    entry = AuditEntry.objects.get(action="center.pii.revealed")
    assert entry.actor == station_manager and entry.target_id == str(special.pk)


def test_another_stations_manager_and_an_outsider_are_refused(client, manager_b, outsider, special):
    assert _detail(client, manager_b, special).status_code == 404
    reveal = reverse("requests:resident_sensitive_reveal", args=[special.pk])
    assert client.post(reveal).status_code == 404
    assert _detail(client, outsider, special).status_code == 403
    assert client.post(reveal).status_code == 403
    client.force_login(manager_b)
    assert client.get(reverse("requests:resident_export")).status_code == 200
    assert (
        AuditEntry.objects.filter(target_id=str(special.pk), action="center.pii.exported").count()
        == 0
    )
    client.force_login(outsider)
    assert client.get(reverse("requests:resident_list")).status_code == 403
    assert client.get(reverse("requests:resident_export")).status_code == 403
    assert not AuditEntry.objects.filter(action__startswith="center.pii.").exists()


def test_center_manager_export_is_logged_per_resident(client, center_manager, special):
    other = ResidentFactory()
    client.force_login(center_manager)
    response = client.get(reverse("requests:resident_export"), {"special": "true"})
    content = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert ID_NUMBER in content and HEALTH in content and other.name not in content
    assert "13812345678" not in content  # phones masked even in the export
    entries = AuditEntry.objects.filter(action="center.pii.exported")
    assert [e.target_id for e in entries] == [str(special.pk)]
    assert entries[0].data["purpose"] == "export"


def test_operator_cannot_export(client, operator, special):
    client.force_login(operator)
    assert client.get(reverse("requests:resident_export")).status_code == 403


def test_list_masks_phones_and_shows_badges(client, operator, special):
    client.force_login(operator)
    body = client.get(reverse("requests:resident_list")).content.decode()
    assert special.name in body and "138****5678" in body and "13812345678" not in body
    assert "独居老人" in body and "残疾人" not in body


def test_list_filters(client, center_manager, station, community, other_station, special):
    paired = ResidentFactory(community=community, name="结对居民")
    PairingFactory(resident=paired)
    registry.group_add(actor=None, resident=paired, group=special_group("empty-nest"))
    far_community = CommunityFactory()
    other_station.communities.add(far_community)
    far = ResidentFactory(community=far_community, name="远处居民")
    old = timezone.now() - datetime.timedelta(days=90)
    type(special).objects.filter(pk=special.pk).update(last_contact_at=old)
    client.force_login(center_manager)
    url = reverse("requests:resident_list")

    def names(**params):
        body = client.get(url, params).content.decode()
        return {r.name for r in (special, paired, far) if r.name in body}

    assert names() == {special.name, paired.name, far.name}
    assert names(station=station.pk) == {special.name, paired.name}
    assert names(community=far_community.pk) == {far.name}
    assert names(group=special_group("empty-nest").pk) == {paired.name}
    assert names(group=special_group("disabled").pk) == {special.name}
    assert names(paired="true") == {paired.name}
    assert names(paired="false") == {special.name, far.name}
    assert names(special="true") == {special.name, paired.name}
    before = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    assert names(contact_before=before) == {special.name}
    assert names(contact_after=before) == set()
    assert names(q="结对") == {paired.name}
    assert names(q="13812345678") == {special.name}


def test_operator_is_not_offered_sensitive_groups_to_filter(client, operator, special):
    client.force_login(operator)
    body = client.get(reverse("requests:resident_list")).content.decode()
    assert "独居老人" in body
    response = client.get(
        reverse("requests:resident_list"), {"group": special_group("disabled").pk}
    )
    # Not a choice for them: the filter is refused (no rows), membership not disclosed.
    assert special.name not in response.content.decode()


def test_station_manager_list_is_scoped(client, station_manager, other_station, special):
    far_community = CommunityFactory()
    other_station.communities.add(far_community)
    far = ResidentFactory(community=far_community, name="乙站居民")
    client.force_login(station_manager)
    body = client.get(reverse("requests:resident_list")).content.decode()
    assert special.name in body and far.name not in body


def test_list_query_count_is_constant(client, center_manager, community, django_assert_num_queries):
    client.force_login(center_manager)
    url = reverse("requests:resident_list")
    client.get(url)

    def grow(n):
        for _i in range(n):
            r = ResidentFactory(community=community)
            registry.group_add(actor=None, resident=r, group=special_group("living-alone"))
            PairingFactory(resident=r)

    grow(2)
    # session, user, count (capped), the page's rows (+community, paired flag),
    # their phones, their memberships (+group), the filter's groups, its communities, its stations
    with django_assert_num_queries(9):
        client.get(url, {"special": "true"})
    grow(8)
    with django_assert_num_queries(9):
        client.get(url, {"special": "true"})


def test_detail_lists_groups_contacts_in_order_and_read_only_care(client, center_manager, special):
    registry.contact_add(
        actor=None,
        resident=special,
        data={
            "name": "二号",
            "relation": "儿子",
            "phone": "13900000002",
            "kind": "family",
            "priority": 2,
        },
    )
    registry.contact_add(
        actor=None,
        resident=special,
        data={
            "name": "一号",
            "relation": "网格员",
            "phone": "13900000001",
            "kind": "community",
            "priority": 1,
        },
    )
    PairingFactory(resident=special)
    body = _detail(client, center_manager, special).content.decode()
    assert body.index("一号") < body.index("二号")
    assert "13900000001" not in body and "139****0001" in body
    assert reverse("requests:order_create", args=[special.pk]) in body
    assert 'data-testid="pairings"' in body


def test_edit_pages_go_through_the_services(client, station_manager, resident):
    client.force_login(station_manager)
    url = reverse("requests:resident_group_add", args=[resident.pk])
    response = client.post(url, {"group": special_group("disabled").pk})
    # "Record the resident's separate consent …" (zh-hans).
    assert response.status_code == 200 and "单独同意" in response.content.decode()
    assert not ResidentGroup.objects.exists()
    client.post(
        reverse("requests:resident_consent_record", args=[resident.pk]),
        {
            "scope": ["health", "disability"],
            "method": "signed",
            "given_on": timezone.localdate().isoformat(),
        },
    )
    assert client.post(url, {"group": special_group("disabled").pk}).status_code == 302
    resident.refresh_from_db()
    assert resident.is_special
    sens = reverse("requests:resident_sensitive_edit", args=[resident.pk])
    response = client.post(sens, {"health_notes": "需轮椅", "id_number": ID_NUMBER})
    assert "单独同意" in response.content.decode()  # ID number not covered: nothing saved
    assert not ResidentSensitive.objects.exists()
    assert client.post(sens, {"health_notes": "需轮椅"}).status_code == 302
    assert ResidentSensitive.objects.get().health_notes == "需轮椅"
    # Opening the form shows the notes: logged.
    client.get(sens)
    assert AuditEntry.objects.filter(action="center.pii.revealed", data__purpose="edit").exists()
    edit = reverse("requests:resident_edit", args=[resident.pk])
    assert (
        client.post(edit, {"name": "新名字", "address": "某路1号", "is_free": "on"}).status_code
        == 302
    )
    resident.refresh_from_db()
    assert resident.name == "新名字" and resident.is_free


def test_operator_cannot_edit_registry_data(client, operator, resident):
    client.force_login(operator)
    for name in ("resident_group_add", "resident_consent_record", "resident_sensitive_edit"):
        assert client.get(reverse(f"requests:{name}", args=[resident.pk])).status_code == 403
    # Contacts and the resident's details are everyday work.
    assert (
        client.get(reverse("requests:resident_contact_add", args=[resident.pk])).status_code == 200
    )
    assert client.get(reverse("requests:resident_edit", args=[resident.pk])).status_code == 200


def test_contact_edit_never_sends_the_stored_number(client, operator, resident):
    c = registry.contact_add(
        actor=None,
        resident=resident,
        data={"name": "王", "relation": "女儿", "phone": "13900001234"},
    )
    client.force_login(operator)
    url = reverse("requests:resident_contact_edit", args=[resident.pk, c.pk])
    body = client.get(url).content.decode()
    assert "13900001234" not in body and "139****1234" in body
    client.post(
        url, {"name": "王", "relation": "女儿", "phone": "", "kind": "family", "priority": "2"}
    )
    c.refresh_from_db()
    assert c.phone == "13900001234" and c.priority == 2


def test_consent_withdraw_page(client, station_manager, special):
    consent = special.consents.get()
    client.force_login(station_manager)
    client.post(reverse("requests:resident_consent_withdraw", args=[special.pk, consent.pk]))
    assert ResidentSensitive.objects.get().health_notes == ""
    assert not ResidentGroup.objects.filter(group__is_sensitive=True).exists()


def test_admin_filters_the_access_log(client, center_manager, special):
    registry.sensitive_reveal(actor=center_manager, resident=special)
    AuditEntry.objects.create(
        action="center.pii.exported", target_type="requests.resident", target_id="999"
    )
    client.force_login(center_manager)
    url = reverse("admin:center_auditentry_changelist")
    for params, action in (
        ({"pii": "revealed"}, "center.pii.revealed"),
        ({"pii": "exported"}, "center.pii.exported"),
        ({"action": "center.pii.exported"}, "center.pii.exported"),
    ):
        response = client.get(url, params)
        actions = {e.action for e in response.context["cl"].result_list}
        assert actions == {action}, params


def test_admin_sensitive_list_masks_and_the_form_is_logged(client, center_manager, special):
    client.force_login(center_manager)
    body = client.get(reverse("admin:requests_residentsensitive_changelist")).content.decode()
    assert ID_NUMBER not in body and "330402********" in body and HEALTH not in body
    row = ResidentSensitive.objects.get()
    client.get(reverse("admin:requests_residentsensitive_change", args=[row.pk]))
    entry = AuditEntry.objects.get(action="center.pii.revealed")
    assert entry.data["purpose"] == "admin"
    groups = client.get(reverse("admin:requests_residentgroup_changelist")).content.decode()
    assert "残疾人" not in groups


def test_admin_refuses_sensitive_data_without_consent(client, center_manager, resident):
    client.force_login(center_manager)
    response = client.post(
        reverse("admin:requests_residentsensitive_add"),
        {"resident": resident.pk, "id_number": "", "health_notes": "高血压"},
    )
    assert response.status_code == 200 and not ResidentSensitive.objects.exists()


def test_group_edit_page_logs_the_disability_facts_it_shows(client, station_manager, special):
    m = special.groups.get(group__code="disabled")
    client.force_login(station_manager)
    url = reverse("requests:resident_group_edit", args=[special.pk, m.pk])
    assert client.get(url).status_code == 200
    entry = AuditEntry.objects.get(action="center.pii.revealed")
    assert entry.data == {"fields": ["disability"], "purpose": "edit"}
    response = client.post(url, {"disability_category": "hearing", "disability_level": "3"})
    assert response.status_code == 302
    m.refresh_from_db()
    assert (m.disability_category, m.disability_level) == ("hearing", 3)
    log = AuditEntry.objects.get(action="requests.resident.group_updated")
    assert log.data["fields"] == ["disability_category", "disability_level"]
    assert "hearing" not in str(log.data)


def test_group_pages_of_another_station_are_404(client, manager_b, special):
    m = special.groups.first()
    client.force_login(manager_b)
    for name, args in (
        ("resident_group_edit", [special.pk, m.pk]),
        ("resident_group_remove", [special.pk, m.pk]),
        ("resident_consent_record", [special.pk]),
        ("resident_sensitive_edit", [special.pk]),
        ("resident_edit", [special.pk]),
    ):
        assert client.post(reverse(f"requests:{name}", args=args)).status_code == 404, name
    assert ResidentGroup.objects.filter(resident=special).count() == 2
