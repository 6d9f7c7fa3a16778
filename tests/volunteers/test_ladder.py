"""The complaint sanction ladder: warning → yellow card → red card."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from center.models import AuditEntry, Notification
from tests.factories import MerchantFactory, UserFactory, VolunteerFactory
from volunteers import services
from volunteers.models import Complaint, ProviderStatus, Sanction, Volunteer
from volunteers.selectors import eligible_q, provider_can_serve

pytestmark = pytest.mark.django_db


def valid_complaint(provider, ruler, text="上门迟到"):
    complaint = services.complaint_record(actor=ruler, provider=provider, description=text)
    return services.complaint_rule(actor=ruler, complaint=complaint, valid=True, reason="属实")


def test_ladder_steps_warning_yellow_red(center_manager):
    user = UserFactory(role="volunteer")
    volunteer = VolunteerFactory(user=user, on_duty=True)
    today = timezone.localdate()

    valid_complaint(volunteer, center_manager)
    volunteer.refresh_from_db()
    first = Sanction.objects.get(provider__volunteer=volunteer)
    assert first.level == Sanction.Level.WARNING
    assert first.ends_on == services.add_months(today, 1)
    assert (volunteer.status, volunteer.suspended_until, volunteer.on_duty) == (
        ProviderStatus.SUSPENDED,
        first.ends_on,
        False,
    )

    valid_complaint(volunteer, center_manager)
    volunteer.refresh_from_db()
    second = Sanction.objects.filter(provider__volunteer=volunteer).order_by("-id").first()
    assert second.level == Sanction.Level.YELLOW
    assert volunteer.suspended_until == services.add_months(today, 3)

    valid_complaint(volunteer, center_manager)
    volunteer.refresh_from_db()
    third = Sanction.objects.filter(provider__volunteer=volunteer).order_by("-id").first()
    assert third.level == Sanction.Level.RED and third.ends_on is None
    assert volunteer.status == ProviderStatus.REMOVED
    assert not provider_can_serve(volunteer, on=today + datetime.timedelta(days=400))
    # The provider was told each time, once.
    assert Notification.objects.filter(recipient=user, kind="volunteers.sanction").count() == 3


def test_invalid_complaint_applies_nothing(center_manager):
    volunteer = VolunteerFactory()
    complaint = services.complaint_record(
        actor=center_manager, provider=volunteer, description="不满意"
    )
    services.complaint_rule(
        actor=center_manager, complaint=complaint, valid=False, reason="经核实与事实不符"
    )
    volunteer.refresh_from_db()
    assert volunteer.status == ProviderStatus.ACTIVE
    assert not Sanction.objects.exists()


def test_ruling_needs_a_reason_and_happens_once(center_manager):
    complaint = services.complaint_record(
        actor=center_manager, provider=VolunteerFactory(), description="x"
    )
    with pytest.raises(ValidationError):
        services.complaint_rule(actor=center_manager, complaint=complaint, valid=True, reason="  ")
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.PENDING
    services.complaint_rule(actor=center_manager, complaint=complaint, valid=True, reason="属实")
    with pytest.raises(ValidationError):
        services.complaint_rule(
            actor=center_manager, complaint=complaint, valid=True, reason="again"
        )
    assert Sanction.objects.count() == 1


def test_complaints_outside_the_window_do_not_count(center_manager, settings):
    volunteer = VolunteerFactory()
    old = valid_complaint(volunteer, center_manager)
    Complaint.objects.filter(pk=old.pk).update(
        ruled_at=timezone.now() - datetime.timedelta(days=400)
    )
    Sanction.objects.filter(complaint=old).update(status=Sanction.Status.EXPIRED)
    valid_complaint(volunteer, center_manager)
    assert (
        Sanction.objects.filter(provider__volunteer=volunteer).order_by("-id").first().level
        == Sanction.Level.WARNING
    )
    settings.LIANXIN = {**settings.LIANXIN, "SANCTION_WINDOW_DAYS": 500}
    valid_complaint(volunteer, center_manager)
    # Now the old one counts: three valid complaints in 500 days.
    assert (
        Sanction.objects.filter(provider__volunteer=volunteer).order_by("-id").first().level
        == Sanction.Level.RED
    )


def test_suspension_ends_by_itself(center_manager):
    volunteer = VolunteerFactory()
    valid_complaint(volunteer, center_manager)
    volunteer.refresh_from_db()
    end = volunteer.suspended_until
    assert not provider_can_serve(volunteer, on=end - datetime.timedelta(days=1))
    # Eligible on the end date even before the expiry job has run...
    assert provider_can_serve(volunteer, on=end)
    assert Volunteer.objects.filter(eligible_q(end), pk=volunteer.pk).exists()
    assert not Volunteer.objects.filter(
        eligible_q(end - datetime.timedelta(days=1)), pk=volunteer.pk
    ).exists()
    # ...and the job then clears the status; running it twice is harmless.
    assert services.sanctions_expire(today=end) == 1
    assert services.sanctions_expire(today=end) == 0
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.suspended_until) == (ProviderStatus.ACTIVE, None)
    assert Sanction.objects.get(provider__volunteer=volunteer).status == Sanction.Status.EXPIRED


def test_revoke_restores_the_provider_and_the_complaint_stops_counting(center_manager):
    merchant = MerchantFactory()
    valid_complaint(merchant, center_manager)
    sanction = Sanction.objects.get(provider__merchant=merchant)
    with pytest.raises(ValidationError):
        services.sanction_revoke(actor=center_manager, sanction=sanction, reason="")
    services.sanction_revoke(
        actor=center_manager, sanction=sanction, reason="申诉成立：居民撤回投诉"
    )
    merchant.refresh_from_db()
    assert merchant.status == ProviderStatus.ACTIVE and merchant.suspended_until is None
    assert AuditEntry.objects.filter(
        action="volunteers.sanction.revoked", target_id=str(sanction.pk)
    ).exists()
    # The next valid complaint is again the first step.
    valid_complaint(merchant, center_manager)
    assert (
        Sanction.objects.filter(provider__merchant=merchant).order_by("-id").first().level
        == Sanction.Level.WARNING
    )
    with pytest.raises(ValidationError):
        services.sanction_revoke(actor=center_manager, sanction=sanction, reason="again")


def test_revoking_one_of_two_keeps_the_other_in_force(center_manager):
    volunteer = VolunteerFactory()
    valid_complaint(volunteer, center_manager)
    valid_complaint(volunteer, center_manager)
    warning, yellow = Sanction.objects.filter(provider__volunteer=volunteer).order_by("id")
    services.sanction_revoke(actor=center_manager, sanction=yellow, reason="申诉成立")
    volunteer.refresh_from_db()
    assert volunteer.status == ProviderStatus.SUSPENDED
    assert volunteer.suspended_until == warning.ends_on


def test_suspended_volunteer_cannot_go_on_duty(center_manager):
    volunteer = VolunteerFactory()
    valid_complaint(volunteer, center_manager)
    with pytest.raises(ValidationError):
        services.volunteer_set_on_duty(actor=None, volunteer=volunteer, on_duty=True)
    volunteer.refresh_from_db()
    assert volunteer.on_duty is False
