"""Service hours and certificates: the one way hours are credited and
verified (every app calls ``hours_record``), and the certificates that
attest them.

Each function: one transaction, the changed rows locked, the rule checked
(a ValidationError a user can read), the write, an audit entry, and
notifications that must not outlive a rollback.
"""

import datetime
from decimal import ROUND_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import audit, pii_shown
from center.models import Station, User
from center.notifications import notify

from ..models import Certificate, HoursEntry, Volunteer

# --- Service hours -------------------------------------------------------------


@transaction.atomic
def hours_between(start: datetime.datetime, end: datetime.datetime) -> Decimal:
    """The hours credited for time served from ``start`` to ``end``: rounded
    up to quarter hours, at least one quarter, at most 24 hours. One rule for
    orders and service-day shifts."""
    seconds = max((end - start).total_seconds(), 0)
    quarters = (Decimal(seconds) / Decimal(900)).to_integral_value(rounding=ROUND_UP)
    return min(max(quarters, Decimal(1)) / 4, Decimal(24))


def hours_record(
    *,
    actor: User | None,
    volunteer: Volunteer,
    date: datetime.date,
    hours: Decimal,
    source: str,
    description: str,
    station: Station,
    source_ref: str = "",
    reason: str = "",
    verified: bool = True,
) -> HoursEntry:
    """Credit service hours: the one entry point for every app (orders, service
    days, care visits, post duty) and for manual entries.

    Idempotent per (volunteer, source, source_ref): crediting the same order
    twice returns the first entry. Inverse: none; a wrong entry is corrected
    by a manual entry with a reason.
    """
    if source_ref:
        existing = HoursEntry.objects.filter(
            volunteer=volunteer, source=source, source_ref=source_ref
        ).first()
        if existing:
            return existing
    if date > timezone.localdate():
        raise ValidationError({"date": _("Service hours cannot be recorded for a future date.")})
    entry = HoursEntry(
        volunteer=volunteer,
        date=date,
        hours=hours,
        source=source,
        source_ref=source_ref,
        description=description,
        reason=reason,
        station=station,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    entry.full_clean()
    entry.save()
    audit(
        actor=actor,
        action="volunteers.hours.recorded",
        target=volunteer,
        data={"entry": entry.pk, "hours": str(hours), "source": source},
    )
    if verified:
        hours_verify(actor=actor, entry=entry)
        entry.refresh_from_db()
    return entry


@transaction.atomic
def hours_verify(*, actor: User | None, entry: HoursEntry) -> HoursEntry:
    """Verify an entry: only verified hours count towards stars and certificates."""
    entry = HoursEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.verified_at:
        raise ValidationError(_("These hours are already verified."))
    entry.verified_at = timezone.now()
    entry.verified_by = actor if getattr(actor, "pk", None) else None
    entry.save(update_fields=["verified_at", "verified_by"])
    volunteer = Volunteer.objects.select_for_update().get(pk=entry.volunteer_id)
    before = volunteer.star_level
    volunteer.verified_hours = volunteer.verified_hours + entry.hours
    volunteer.save(update_fields=["verified_hours"])
    audit(
        actor=actor, action="volunteers.hours.verified", target=volunteer, data={"entry": entry.pk}
    )
    if volunteer.star_level > before:
        notify(
            recipient=volunteer.user,
            key=f"star:{volunteer.pk}:{volunteer.star_level}",
            kind="volunteers.star",
            message="volunteers.star.reached",
            params={"n": volunteer.star_level, "hours": str(volunteer.verified_hours)},
        )
    return entry


# --- Certificates ----------------------------------------------------------------


@transaction.atomic
def certificate_issue(
    *,
    actor: User,
    volunteer: Volunteer,
    station: Station,
    period_start: datetime.date,
    period_end: datetime.date,
) -> Certificate:
    """Issue a service certificate for the verified hours this station recorded
    in the period (谁记录谁证明). Its content is frozen at issue. The
    certificate must show the volunteer's ID number: without one on file it is
    refused."""
    if not volunteer.id_number:
        raise ValidationError(
            _(
                "A certificate shows the volunteer's ID number, and none is on file: "
                "add it on the volunteer's page (Edit), then issue the certificate."
            )
        )
    if period_end < period_start:
        raise ValidationError(_("The period ends before it starts."))
    entries = HoursEntry.objects.filter(
        volunteer=volunteer,
        station=station,
        verified_at__isnull=False,
        date__range=(period_start, period_end),
    )
    total = (entries.aggregate(total=Sum("hours"))["total"] or Decimal("0")).quantize(
        Decimal("0.01")
    )
    if total <= 0:
        raise ValidationError(
            _("This station recorded no verified hours for this volunteer in that period.")
        )
    services_done = list(entries.order_by("date").values_list("date", "hours", "description")[:200])
    year = timezone.localdate().year
    # The number is sequential per year; the row lock on Certificate max avoids duplicates
    # (the unique constraint is the final guard).
    last = (
        Certificate.objects.select_for_update()
        .filter(number__startswith=f"JXZM{year}")
        .aggregate(m=Max("number"))["m"]
    )
    seq = int(last[-6:]) + 1 if last else 1
    issuer = settings.LIANXIN
    certificate = Certificate.objects.create(
        number=f"JXZM{year}{seq:06d}",
        volunteer=volunteer,
        station=station,
        issued_by=actor,
        period_start=period_start,
        period_end=period_end,
        total_hours=total,
        snapshot={
            "name": volunteer.name,
            "id_type": "居民身份证",
            "id_number": volunteer.id_number or "",
            "volunteer_no": volunteer.volunteer_no,
            "total_hours": str(total),
            "services": [[str(d), str(h), text] for d, h, text in services_done],
            "issuer": issuer["CERTIFICATE_ISSUER"],
            "recording_station": station.name,
            "person_in_charge": issuer["CERTIFICATE_SIGNATORY"],
            "handler": str(actor),
            "contact": station.phone.as_national if station.phone else "",
        },
    )
    audit(
        actor=actor,
        action="volunteers.certificate.issued",
        target=volunteer,
        data={"number": certificate.number},
    )
    # The certificate prints the full ID number: that is a reveal.
    audit(
        actor=actor,
        action="center.pii.revealed",
        target=volunteer,
        data={"field": "id_number", "purpose": "certificate"},
    )
    return certificate


def certificate_shown(*, actor: User, certificate: Certificate) -> None:
    """A certificate page was shown (it holds the full ID number): access log."""
    pii_shown(actor=actor, target=certificate, fields=["id_number"], purpose="certificate")
