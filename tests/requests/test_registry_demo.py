"""The demo part "registry": about one resident in ten special, through the services."""

import random

import pytest

from center.registry import demo_parts
from requests.demo import registry as registry_demo
from requests.models import Resident, ResidentConsent, ResidentGroup, ResidentSensitive
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def test_registry_demo_marks_about_one_in_ten_and_is_idempotent(community):
    ResidentFactory.create_batch(80, community=community)
    registry_demo.seed(random.Random(7))
    special = Resident.objects.filter(is_special=True).count()
    assert special == 8
    assert ResidentConsent.objects.exists() and ResidentSensitive.objects.exists()
    assert ResidentGroup.objects.values("group").distinct().count() >= 2
    # Sensitive data only where a consent in force covers it.
    for row in ResidentSensitive.objects.exclude(health_notes=""):
        assert ResidentConsent.objects.filter(
            resident=row.resident_id, withdrawn_at__isnull=True
        ).exists()
    memberships = ResidentGroup.objects.count()
    registry_demo.seed(random.Random(7))
    assert ResidentGroup.objects.count() == memberships


def test_registry_demo_runs_after_the_hotline_part():
    names = [p.app for p in demo_parts()]
    assert names.index("registry") > names.index("requests")


def test_demo_notes_hold_no_health_facts_the_registry_demo_holds_them(community):
    from center.models import AuditEntry
    from requests.demo.seed import NOTES

    health_words = ("听力", "行动不便", "轮椅", "高血压", "糖尿病", "残疾", "病")
    assert not [n for n in NOTES if any(w in n for w in health_words)]
    # The facts the hotline demo used to write into notes live in the registry
    # demo's sensitive rows, under consent, written by the services.
    assert any("听力" in h for h in registry_demo.HEALTH)
    assert any("行动不便" in h for h in registry_demo.HEALTH)
    ResidentFactory.create_batch(40, community=community)
    registry_demo.seed(random.Random(7))
    assert AuditEntry.objects.filter(action="requests.resident.sensitive_updated").exists()
    assert AuditEntry.objects.filter(action="requests.resident.contact_added").exists()
