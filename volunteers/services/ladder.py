"""Complaints and the sanction ladder: a valid complaint climbs the ladder
(settings SANCTION_LADDER over SANCTION_WINDOW_DAYS), an upheld appeal
revokes the step, and sanctions end by themselves on their date.

Each function: one transaction, the provider locked, the rule checked
(a ValidationError a user can read), the write, an audit entry, and the
provider's notification.
"""

import calendar
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import audit
from center.models import User
from center.notifications import notify

from ..models import Complaint, Merchant, ProviderStatus, Sanction, Volunteer
from ..selectors import provider_for
from ._common import lock_provider


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@transaction.atomic
def complaint_record(
    *,
    actor: User | None,
    provider: Volunteer | Merchant,
    description: str,
    station_id: int | None = None,
) -> Complaint:
    """Record a complaint about ``provider``. It is counted at ``station_id``
    (the order's station, when a follow-up call raised it) or else at the
    provider's home station, so complaints can be counted per station."""
    if not description.strip():
        raise ValidationError({"description": _("Say what happened.")})
    row = provider_for(provider)
    complaint = Complaint(
        provider=row,
        station_id=station_id or row.station_id,
        description=description.strip(),
        recorded_by=actor,
    )
    complaint.full_clean()
    complaint.save()
    audit(
        actor=actor,
        action="volunteers.complaint.recorded",
        target=complaint,
        data={"provider": str(provider)},
    )
    return complaint


def _refresh_provider_status(
    provider: Volunteer | Merchant, today: datetime.date, *, row_id: int
) -> None:
    """Derive the status of ``provider`` (locked; ``row_id`` its Provider row)
    from the sanctions in force (red → removed; else the latest end date of
    warnings and yellow cards → suspended; else active)."""
    in_force = Sanction.objects.filter(provider_id=row_id, status=Sanction.Status.ACTIVE)
    if in_force.filter(level=Sanction.Level.RED).exists():
        status, until = ProviderStatus.REMOVED, None
    else:
        until = in_force.filter(ends_on__gt=today).aggregate(m=Max("ends_on"))["m"]
        status = ProviderStatus.SUSPENDED if until else ProviderStatus.ACTIVE
    fields = ["status", "suspended_until"]
    provider.status, provider.suspended_until = status, until
    if status != ProviderStatus.ACTIVE and isinstance(provider, Volunteer):
        provider.on_duty = False
        fields.append("on_duty")
    provider.save(update_fields=fields)


@transaction.atomic
def complaint_rule(*, actor: User, complaint: Complaint, valid: bool, reason: str) -> Complaint:
    """Rule a complaint. A valid one climbs the ladder at once: the nth valid
    complaint within settings SANCTION_WINDOW_DAYS gives the nth step of
    settings SANCTION_LADDER (warning, yellow card: that many months without
    orders; red card: removal). Inverse of the sanction: ``sanction_revoke``."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.status != Complaint.Status.PENDING:
        raise ValidationError(_("This complaint has already been ruled."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the ruling.")})
    provider = lock_provider(complaint.provider)
    now = timezone.now()
    complaint.status = Complaint.Status.VALID if valid else Complaint.Status.INVALID
    complaint.ruled_by, complaint.ruled_at, complaint.ruling_reason = actor, now, reason.strip()
    complaint.save(update_fields=["status", "ruled_by", "ruled_at", "ruling_reason"])
    audit(
        actor=actor,
        action="volunteers.complaint.ruled",
        target=complaint,
        data={"valid": valid, "reason": reason.strip()},
    )
    if valid:
        _apply_ladder(actor=actor, complaint=complaint, provider=provider, now=now)
    return complaint


def _apply_ladder(
    *, actor: User, complaint: Complaint, provider: Volunteer | Merchant, now: datetime.datetime
) -> Sanction:
    conf = settings.LIANXIN
    window_start = now - datetime.timedelta(days=conf["SANCTION_WINDOW_DAYS"])
    # Valid complaints in the window, this one included; a complaint whose
    # sanction was revoked on appeal no longer counts.
    count = (
        Complaint.objects.filter(
            provider_id=complaint.provider_id,
            status=Complaint.Status.VALID,
            ruled_at__gte=window_start,
        )
        .exclude(sanction__status=Sanction.Status.REVOKED)
        .count()
    )
    ladder = conf["SANCTION_LADDER"]
    level, months = ladder[min(count, len(ladder)) - 1]
    today = timezone.localdate(now)
    sanction = Sanction.objects.create(
        provider_id=complaint.provider_id,
        complaint=complaint,
        level=level,
        starts_on=today,
        ends_on=add_months(today, months) if months else None,
    )
    _refresh_provider_status(provider, today, row_id=complaint.provider_id)
    audit(
        actor=actor,
        action="volunteers.sanction.applied",
        target=sanction,
        data={"level": level, "ends_on": str(sanction.ends_on or ""), "valid_complaints": count},
    )
    notify(
        recipient=provider.user,
        key=f"sanction:{sanction.pk}",
        kind="volunteers.sanction",
        message="volunteers.sanction.suspended"
        if sanction.ends_on
        else "volunteers.sanction.removed",
        params={"level": sanction.level, "date": str(sanction.ends_on or "")},
        phone=provider.mobile,  # by SMS when they have no login yet
    )
    return sanction


@transaction.atomic
def sanction_revoke(*, actor: User, sanction: Sanction, reason: str) -> Sanction:
    """Inverse of the ladder step applied in ``complaint_rule`` (an appeal
    upheld by a center manager). The provider's status is derived again from
    the sanctions still in force."""
    sanction = Sanction.objects.select_for_update().get(pk=sanction.pk)
    if sanction.status == Sanction.Status.REVOKED:
        raise ValidationError(_("This sanction was already revoked."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for revoking.")})
    provider = lock_provider(sanction.provider)
    sanction.status = Sanction.Status.REVOKED
    sanction.revoked_by, sanction.revoked_at, sanction.revoke_reason = (
        actor,
        timezone.now(),
        reason.strip(),
    )
    sanction.save(update_fields=["status", "revoked_by", "revoked_at", "revoke_reason"])
    _refresh_provider_status(provider, timezone.localdate(), row_id=sanction.provider_id)
    audit(
        actor=actor,
        action="volunteers.sanction.revoked",
        target=sanction,
        data={"reason": reason.strip()},
    )
    notify(
        recipient=provider.user,
        key=f"sanction-revoked:{sanction.pk}",
        kind="volunteers.sanction",
        message="volunteers.sanction.revoked",
        params={"level": sanction.level, "reason": reason.strip()},
        phone=provider.mobile,
    )
    return sanction


def sanctions_expire(*, today: datetime.date | None = None) -> int:
    """Periodic: end the warnings and yellow cards whose date has come, and let
    their providers take orders again. Safe to run twice.

    A provider active again is told so, once (``volunteers.sanction.ended``,
    keyed by the sanction): not while another sanction still holds them."""
    today = today or timezone.localdate()
    done = 0
    due = Sanction.objects.filter(status=Sanction.Status.ACTIVE, ends_on__lte=today).values_list(
        "pk", flat=True
    )
    for pk in list(due[:5000]):
        with transaction.atomic():
            sanction = (
                Sanction.objects.select_for_update()
                .filter(pk=pk, status=Sanction.Status.ACTIVE)
                .first()
            )
            if sanction is None:
                continue
            provider = lock_provider(sanction.provider)
            sanction.status = Sanction.Status.EXPIRED
            sanction.save(update_fields=["status"])
            _refresh_provider_status(provider, today, row_id=sanction.provider_id)
            audit(actor=None, action="volunteers.sanction.expired", target=sanction)
            if provider.status == ProviderStatus.ACTIVE:
                notify(
                    recipient=provider.user,
                    key=f"sanction-ended:{sanction.pk}",
                    kind="volunteers.sanction",
                    message="volunteers.sanction.ended",
                    params={"level": sanction.level},
                    phone=provider.mobile,
                )
            done += 1
    return done
