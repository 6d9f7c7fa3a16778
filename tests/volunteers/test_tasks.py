"""The periodic tasks run their services (the import purge: test_hardening)."""

import pytest

from tests.factories import VolunteerFactory
from volunteers import services
from volunteers.tasks import expire_sanctions

pytestmark = pytest.mark.django_db


def test_expire_sanctions_task_runs_the_service(center_manager):
    volunteer = VolunteerFactory()
    complaint = services.complaint_record(actor=None, provider=volunteer, description="x")
    services.complaint_rule(actor=center_manager, complaint=complaint, valid=True, reason="属实")
    assert expire_sanctions.delay().get() == 0  # not due yet
    volunteer.refresh_from_db()
    assert volunteer.status == "suspended"
