"""The special-group registry's services: memberships keep ``is_special``,
the consent gate, withdrawal clears what it covered, contacts, the access-log purge."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from center.models import AuditEntry
from center.validators import id_check_character
from requests.models import (
    ResidentConsent,
    ResidentContact,
    ResidentGroup,
    ResidentSensitive,
)
from requests.services import residents as registry
from tests.factories import CareVisitFactory, ConsentFactory, special_group

pytestmark = pytest.mark.django_db

ID17 = "33040219400101123"
ID_NUMBER = ID17 + id_check_character(ID17)


def _consent(resident, *scope, actor=None):
    return registry.consent_record(
        actor=actor,
        resident=resident,
        scope=list(scope),
        method=ResidentConsent.Method.SIGNED,
        given_on=timezone.localdate(),
    )


def test_group_add_marks_special_and_takes_last_contact_from_the_latest_order(
    resident, make_order, station_manager
):
    order = make_order()
    assert not resident.is_special and resident.last_contact_at is None
    m = registry.group_add(
        actor=station_manager,
        resident=resident,
        group=special_group("living-alone"),
        verified_on=timezone.localdate(),
    )
    resident.refresh_from_db()
    assert resident.is_special
    assert resident.last_contact_at == order.received_at
    assert m.verified_by == station_manager
    entry = AuditEntry.objects.get(action="requests.resident.group_added")
    assert entry.target_id == str(resident.pk) and entry.data["group"] == m.group_id


def test_group_add_takes_last_contact_from_a_visit_when_no_order(resident):
    visit = CareVisitFactory(
        resident=resident, visited_on=timezone.localdate() - datetime.timedelta(days=3)
    )
    registry.group_add(actor=None, resident=resident, group=special_group("empty-nest"))
    resident.refresh_from_db()
    assert timezone.localtime(resident.last_contact_at).date() == visit.visited_on


def test_group_remove_of_the_last_group_clears_special(resident):
    a = registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    b = registry.group_add(actor=None, resident=resident, group=special_group("empty-nest"))
    registry.group_remove(actor=None, membership=a)
    resident.refresh_from_db()
    assert resident.is_special
    registry.group_remove(actor=None, membership=b)
    resident.refresh_from_db()
    assert not resident.is_special
    assert AuditEntry.objects.filter(action="requests.resident.group_removed").count() == 2


def test_group_add_twice_is_refused(resident):
    registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    with pytest.raises(ValidationError):
        registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    assert ResidentGroup.objects.count() == 1


def test_sensitive_group_needs_a_disability_consent(resident):
    with override("en"), pytest.raises(ValidationError) as exc:
        registry.group_add(actor=None, resident=resident, group=special_group("disabled"))
    assert "consent" in " ".join(exc.value.messages)
    resident.refresh_from_db()
    assert not resident.is_special and not ResidentGroup.objects.exists()
    assert not AuditEntry.objects.filter(action="requests.resident.group_added").exists()
    _consent(resident, "disability")
    registry.group_add(
        actor=None,
        resident=resident,
        group=special_group("disabled"),
        disability_category="physical",
        disability_level=2,
    )
    assert ResidentGroup.objects.get().disability_level == 2


def test_disability_facts_on_a_plain_group_are_refused(resident):
    _consent(resident, "disability")
    with pytest.raises(ValidationError):
        registry.group_add(
            actor=None,
            resident=resident,
            group=special_group("living-alone"),
            disability_category="physical",
        )


def test_sensitive_update_refuses_each_field_without_its_consent(resident):
    with override("en"), pytest.raises(ValidationError) as exc:
        registry.sensitive_update(actor=None, resident=resident, data={"health_notes": "高血压"})
    assert "consent" in exc.value.messages[0]
    assert not ResidentSensitive.objects.exists()
    _consent(resident, "health")
    registry.sensitive_update(actor=None, resident=resident, data={"health_notes": "高血压"})
    # Health is covered, the ID number is not: refused, nothing changes.
    with pytest.raises(ValidationError):
        registry.sensitive_update(
            actor=None, resident=resident, data={"health_notes": "高血压", "id_number": ID_NUMBER}
        )
    row = ResidentSensitive.objects.get()
    assert row.health_notes == "高血压" and row.id_number == ""
    entry = AuditEntry.objects.get(action="requests.resident.sensitive_updated")
    assert entry.data == {"fields": ["health_notes"]}  # the field, never the fact


def test_a_withdrawn_consent_covers_nothing(resident):
    consent = _consent(resident, "health", "id_number")
    registry.consent_withdraw(actor=None, consent=consent)
    with pytest.raises(ValidationError):
        registry.sensitive_update(actor=None, resident=resident, data={"health_notes": "x"})
    with pytest.raises(ValidationError):
        registry.consent_withdraw(actor=None, consent=consent)


def test_consent_withdraw_clears_what_it_alone_covered_and_is_audited(resident, center_manager):
    both = _consent(resident, "health", "id_number", "disability")
    registry.sensitive_update(
        actor=None, resident=resident, data={"health_notes": "糖尿病", "id_number": ID_NUMBER}
    )
    registry.group_add(
        actor=None, resident=resident, group=special_group("disabled"), disability_category="vision"
    )
    registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    _consent(resident, "id_number")  # a second consent still covers the ID number
    registry.consent_withdraw(actor=center_manager, consent=both)
    row = ResidentSensitive.objects.get()
    assert row.health_notes == "" and row.id_number == ID_NUMBER
    assert list(ResidentGroup.objects.values_list("group__code", flat=True)) == ["living-alone"]
    resident.refresh_from_db()
    assert resident.is_special
    entry = AuditEntry.objects.get(action="requests.resident.consent_withdrawn")
    assert entry.actor == center_manager
    assert sorted(entry.data["scope"]) == ["disability", "health"]
    assert sorted(entry.data["cleared"]) == ["disability", "health_notes"]
    assert ID_NUMBER not in str(entry.data) and "糖尿病" not in str(entry.data)


def test_withdrawing_disability_consent_of_the_only_group_clears_special(resident):
    consent = _consent(resident, "disability")
    registry.group_add(actor=None, resident=resident, group=special_group("disabled"))
    registry.consent_withdraw(actor=None, consent=consent)
    resident.refresh_from_db()
    assert not resident.is_special and not ResidentGroup.objects.exists()


def test_consent_record_refuses_bad_input(resident):
    for kwargs in (
        {"scope": []},
        {"scope": ["everything"]},
        {"method": "telepathy"},
        {"given_on": timezone.localdate() + datetime.timedelta(days=1)},
    ):
        args = {
            "scope": ["health"],
            "method": "signed",
            "given_on": timezone.localdate(),
            **kwargs,
        }
        with pytest.raises(ValidationError):
            registry.consent_record(actor=None, resident=resident, **args)
    assert not ResidentConsent.objects.exists()


def test_contacts_keep_kind_and_priority_and_log_no_number(resident):
    c = registry.contact_add(
        actor=None,
        resident=resident,
        data={
            "name": "王小红",
            "relation": "女儿",
            "phone": "139 0000 9999",
            "kind": "family",
            "priority": 2,
        },
    )
    registry.contact_add(
        actor=None,
        resident=resident,
        data={
            "name": "李网格",
            "relation": "网格员",
            "phone": "13900008888",
            "kind": "community",
            "priority": 1,
        },
    )
    assert [x.name for x in resident.contacts.all()] == ["李网格", "王小红"]
    assert c.phone == "13900009999"
    registry.contact_update(actor=None, contact=c, data={"priority": 1, "kind": "neighbour"})
    c.refresh_from_db()
    assert (c.priority, c.kind) == (1, "neighbour")
    with pytest.raises(ValidationError):
        registry.contact_add(
            actor=None, resident=resident, data={"name": "x", "relation": "y", "phone": "123"}
        )
    registry.contact_remove(actor=None, contact=c)
    assert ResidentContact.objects.count() == 1
    logs = AuditEntry.objects.filter(action__startswith="requests.resident.contact_")
    assert logs.count() == 4
    assert not any("1390000" in str(e.data) for e in logs)


def test_resident_update_contacts_carry_kind_and_priority(resident):
    from requests import services

    services.resident_update(
        actor=None,
        resident=resident,
        data={},
        contacts=[
            {
                "name": "王",
                "relation": "邻居",
                "phone": "13900007777",
                "kind": "neighbour",
                "priority": 3,
            }
        ],
    )
    c = resident.contacts.get()
    assert (c.kind, c.priority) == ("neighbour", 3)
    services.resident_update(
        actor=None,
        resident=resident,
        data={},
        contacts=[
            {
                "name": "王",
                "relation": "邻居",
                "phone": "13900007777",
                "kind": "neighbour",
                "priority": 1,
            }
        ],
    )
    c.refresh_from_db()
    assert c.priority == 1 and resident.contacts.count() == 1


def test_sensitive_reveal_logs_the_showing(resident, center_manager):
    ConsentFactory(resident=resident)
    registry.sensitive_update(actor=None, resident=resident, data={"id_number": ID_NUMBER})
    shown = registry.sensitive_reveal(actor=center_manager, resident=resident)
    assert shown["id_number"] == ID_NUMBER
    entry = AuditEntry.objects.get(action="center.pii.revealed")
    assert entry.actor == center_manager and entry.target_id == str(resident.pk)
    assert entry.data["purpose"] == "tap" and "id_number" in entry.data["fields"]


def test_pii_log_purge_deletes_only_old_access_log_rows(settings, resident):
    from center import tasks
    from center.services import pii_log_purge

    days = settings.LIANXIN["PII_LOG_RETENTION_DAYS"]
    assert days >= 183
    old = timezone.now() - datetime.timedelta(days=days + 1)
    for action in ("center.pii.revealed", "center.pii.exported", "requests.resident.created"):
        e = AuditEntry.objects.create(action=action, target_type="requests.resident", target_id="1")
        AuditEntry.objects.filter(pk=e.pk).update(created_at=old)
    recent = AuditEntry.objects.create(action="center.pii.revealed")
    assert pii_log_purge() == 2
    assert AuditEntry.objects.filter(pk=recent.pk).exists()
    assert AuditEntry.objects.filter(action="requests.resident.created").exists()
    assert AuditEntry.objects.get(action="center.pii_log.purged").data["deleted"] == 2
    assert tasks.purge_pii_log.delay().get() == 0  # safe to run twice


def test_the_purge_is_scheduled_daily():
    from center.celery import BEAT_SCHEDULE

    assert any(e["task"] == "center.tasks.purge_pii_log" for e in BEAT_SCHEDULE.values())
