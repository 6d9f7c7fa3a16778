"""Every write of the volunteers app: providers, posts, hours, certificates,
complaints and the sanction ladder.

Each function: one transaction, the changed rows locked, the rule checked
(a ValidationError a user can read), the write, an audit entry, and follow-up
work (notifications) that must not outlive a rollback.
"""

import calendar
import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from center import accounts
from center.audit import apply_changes, audit, jsonable
from center.models import Role, ServiceItem, Station, User
from center.notifications import notify

from .models import (
    Certificate,
    Complaint,
    HoursEntry,
    ImportBatch,
    Merchant,
    MerchantOffer,
    Organization,
    Post,
    PostClaim,
    Provider,
    ProviderStatus,
    Sanction,
    ServiceTeam,
    Volunteer,
    providers_sync,
)
from .selectors import provider_can_serve

VOLUNTEER_FIELDS = (
    "name",
    "mobile",
    "id_number",
    "is_party_member",
    "party_join_date",
    "party_branch",
    "kind",
    "organization",
    "station",
    "community",
    "latitude",
    "longitude",
    "on_duty",
    "weekly_availability",
)
MERCHANT_FIELDS = ("name", "kind", "licence_no", "contact_name", "mobile", "address", "staff_count")
TEAM_FIELDS = ("name", "kind", "specialty", "station", "leader", "is_active")
POST_FIELDS = ("station", "title", "kind", "schedule", "description", "capacity", "is_open")


def volunteer_number(pk: int) -> str:
    return f"JX{pk:09d}"


def merchant_login_name(pk: int) -> str:
    return f"SH{pk:09d}"


# --- Provider logins (center.accounts) ---------------------------------------------


def _new_login(provider: "Volunteer | Merchant") -> tuple[str, accounts.NewLogin]:
    """The role and login a volunteer or merchant gets (they log in with their mobile)."""
    if isinstance(provider, Volunteer):
        return Role.VOLUNTEER, accounts.NewLogin(
            username=provider.volunteer_no, mobile=provider.mobile, full_name=provider.name
        )
    return Role.MERCHANT, accounts.NewLogin(
        username=merchant_login_name(provider.pk), mobile=provider.mobile, full_name=provider.name
    )


def _create_logins(actor: User | None, providers: list) -> list[accounts.Issued]:
    """Logins for saved providers of one kind, set on them in memory (the
    caller saves ``user``): same transaction, so no provider is left without one."""
    if not providers:
        return []
    role = _new_login(providers[0])[0]
    issued = accounts.provider_logins_create(
        actor=actor, role=role, logins=[_new_login(p)[1] for p in providers]
    )
    for provider, login in zip(providers, issued, strict=True):
        provider.user = login.user
    return issued


@transaction.atomic
def provider_activation_issue(*, actor: User, provider: "Volunteer | Merchant") -> accounts.Issued:
    """Staff give a provider a new activation code (lost, expired, or the
    password forgotten); a provider registered before logins existed gets its
    login now. The caller got ``provider`` from the scoped selector
    (get_volunteer_for_user / get_merchant_for_user): staff who cannot see
    the provider cannot reach this."""
    provider = _lock_provider(provider)
    if provider.user_id is None:
        (issued,) = _create_logins(actor, [provider])
        provider.save(update_fields=["user"])
        return issued
    return accounts.activation_code_issue(actor=actor, user=provider.user)


def _sync_login(actor: User | None, provider, changed: dict[str, Any]) -> None:
    if provider.user_id and ({"mobile", "name"} & set(changed)):
        accounts.provider_login_update(
            actor=actor, user=provider.user, mobile=provider.mobile, full_name=provider.name
        )


# --- Volunteers ------------------------------------------------------------


def _normalise_volunteer(volunteer: Volunteer) -> None:
    from center.validators import normalize_id_number, normalize_mobile

    volunteer.mobile = normalize_mobile(volunteer.mobile)
    volunteer.id_number = normalize_id_number(volunteer.id_number) or None
    if volunteer.kind == Volunteer.Kind.COMMUNITY:
        volunteer.organization = None


@transaction.atomic
def volunteer_create(
    *, actor: User | None, data: dict[str, Any], specialties=(), service_items=()
) -> Volunteer:
    volunteer = Volunteer(**{k: v for k, v in data.items() if k in VOLUNTEER_FIELDS})
    _normalise_volunteer(volunteer)
    # The number needs the id; a unique placeholder keeps the row valid until then.
    volunteer.volunteer_no = uuid.uuid4().hex[:16]
    volunteer.full_clean(exclude=["volunteer_no"])
    volunteer.save()
    volunteer.volunteer_no = volunteer_number(volunteer.pk)
    # The login, and its first activation code: ``volunteer.activation``, shown
    # once by the page that registered them (never stored in plain).
    (volunteer.activation,) = _create_logins(actor, [volunteer])
    volunteer.save(update_fields=["volunteer_no", "user"])
    volunteer.specialties.set(specialties)
    volunteer.service_items.set(service_items)
    audit(
        actor=actor,
        action="volunteers.volunteer.created",
        target=volunteer,
        data={"no": volunteer.volunteer_no},
    )
    return volunteer


@transaction.atomic
def volunteer_update(
    *,
    actor: User | None,
    volunteer: Volunteer,
    data: dict[str, Any],
    specialties=None,
    service_items=None,
) -> Volunteer:
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    changed = apply_changes(volunteer, data, VOLUNTEER_FIELDS)
    _normalise_volunteer(volunteer)
    volunteer.full_clean()
    if changed:
        volunteer.save(
            update_fields=[*{*changed, "mobile", "id_number", "organization"}, "updated_at"]
        )
    if specialties is not None:
        volunteer.specialties.set(specialties)
    if service_items is not None:
        volunteer.service_items.set(service_items)
    _sync_login(actor, volunteer, changed)
    # ID numbers are not copied into the audit trail.
    changed.pop("id_number", None)
    audit(
        actor=actor,
        action="volunteers.volunteer.updated",
        target=volunteer,
        data=jsonable(changed),
    )
    return volunteer


@transaction.atomic
def volunteer_set_on_duty(*, actor: User | None, volunteer: Volunteer, on_duty: bool) -> Volunteer:
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if on_duty and not provider_can_serve(volunteer):
        raise ValidationError(_("You cannot go on duty while suspended or removed."))
    if volunteer.on_duty != on_duty:
        volunteer.on_duty = on_duty
        volunteer.save(update_fields=["on_duty", "updated_at"])
        audit(
            actor=actor,
            action="volunteers.volunteer.duty_set",
            target=volunteer,
            data={"on_duty": on_duty},
        )
    return volunteer


@transaction.atomic
def volunteer_set_rating(*, volunteer: Volunteer, rating: Decimal) -> Volunteer:
    """Residents' follow-up scores, averaged by the hotline, rank the volunteer in dispatch."""
    rating = min(max(rating, Decimal("1")), Decimal("5")).quantize(Decimal("0.01"))
    Volunteer.objects.filter(pk=volunteer.pk).update(rating=rating)
    Provider.objects.filter(volunteer_id=volunteer.pk).update(rating=rating)
    volunteer.rating = rating
    return volunteer


def pii_reveal(*, actor: User, volunteer: Volunteer, field: str) -> str:
    """Return the unmasked ``field`` and log who saw it (PIPL access log)."""
    if field not in {"mobile", "id_number"}:
        raise ValidationError(_("This field cannot be revealed."))
    audit(actor=actor, action="center.pii.revealed", target=volunteer, data={"field": field})
    return getattr(volunteer, field) or ""


def certificate_shown(*, actor: User, certificate) -> None:
    """A certificate page was shown (it holds the full ID number): access log."""
    from center.audit import pii_shown

    pii_shown(actor=actor, target=certificate, fields=["id_number"], purpose="certificate")


# --- Merchants -------------------------------------------------------------


@transaction.atomic
def merchant_create(*, actor: User | None, data: dict[str, Any], stations) -> Merchant:
    from center.validators import normalize_mobile

    merchant = Merchant(**{k: v for k, v in data.items() if k in MERCHANT_FIELDS})
    merchant.mobile = normalize_mobile(merchant.mobile)
    merchant.full_clean()
    stations = list(stations)
    if not stations:
        raise ValidationError({"stations": _("A merchant serves at least one station.")})
    merchant.save()
    # The login and its first code (``merchant.activation``, shown once), as for volunteers.
    (merchant.activation,) = _create_logins(actor, [merchant])
    merchant.save(update_fields=["user"])
    merchant.stations.set(stations)
    audit(
        actor=actor,
        action="volunteers.merchant.created",
        target=merchant,
        data={"licence_no": merchant.licence_no},
    )
    return merchant


@transaction.atomic
def merchant_update(
    *, actor: User | None, merchant: Merchant, data: dict[str, Any], stations=None
) -> Merchant:
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    changed = apply_changes(merchant, data, MERCHANT_FIELDS)
    merchant.full_clean()
    if changed:
        merchant.save(update_fields=[*changed, "updated_at"])
    if stations is not None:
        stations = list(stations)
        if not stations:
            raise ValidationError({"stations": _("A merchant serves at least one station.")})
        merchant.stations.set(stations)
    _sync_login(actor, merchant, changed)
    audit(
        actor=actor, action="volunteers.merchant.updated", target=merchant, data=jsonable(changed)
    )
    return merchant


@transaction.atomic
def merchant_offer_set(
    *, actor: User | None, merchant: Merchant, item: ServiceItem, price: Decimal
) -> MerchantOffer:
    """Offer ``item`` at ``price``: never above the center's price."""
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if price > item.center_price:
        raise ValidationError(
            _(
                "A merchant's price (¥%(price)s) cannot be above the center's price (¥%(center)s) for %(item)s."
            )
            % {"price": price, "center": item.center_price, "item": item.name}
        )
    if price < 0:
        raise ValidationError(_("A price cannot be negative."))
    offer, _created = MerchantOffer.objects.update_or_create(
        merchant=merchant, item=item, defaults={"price": price}
    )
    audit(
        actor=actor,
        action="volunteers.merchant.offer_set",
        target=merchant,
        data={"item": item.pk, "price": str(price)},
    )
    return offer


# --- Teams and organizations ---------------------------------------------------


@transaction.atomic
def team_create(*, actor: User | None, data: dict[str, Any], members=()) -> ServiceTeam:
    team = ServiceTeam(**{k: v for k, v in data.items() if k in TEAM_FIELDS})
    team.full_clean()
    team.save()
    members = {*members, *([team.leader] if team.leader else [])}
    team.members.set(members)
    audit(actor=actor, action="volunteers.team.created", target=team, data={"name": team.name})
    return team


@transaction.atomic
def team_update(
    *, actor: User | None, team: ServiceTeam, data: dict[str, Any], members=None
) -> ServiceTeam:
    team = ServiceTeam.objects.select_for_update().get(pk=team.pk)
    changed = apply_changes(team, data, TEAM_FIELDS)
    team.full_clean()
    if changed:
        team.save(update_fields=list(changed))
    if members is not None:
        team.members.set({*members, *([team.leader] if team.leader else [])})
    audit(actor=actor, action="volunteers.team.updated", target=team, data=jsonable(changed))
    return team


@transaction.atomic
def organization_create(*, actor: User | None, data: dict[str, Any]) -> Organization:
    org = Organization(**data)
    org.full_clean()
    org.save()
    audit(
        actor=actor, action="volunteers.organization.created", target=org, data={"name": org.name}
    )
    return org


# --- Posts (双报到) ------------------------------------------------------------


@transaction.atomic
def post_create(*, actor: User | None, data: dict[str, Any]) -> Post:
    post = Post(**{k: v for k, v in data.items() if k in POST_FIELDS})
    post.full_clean()
    post.save()
    audit(actor=actor, action="volunteers.post.created", target=post, data={"title": post.title})
    return post


@transaction.atomic
def post_claim(
    *, actor: User | None, post: Post, volunteer: Volunteer, skills: str = ""
) -> PostClaim:
    """An in-service member claims a post. Inverse: ``post_withdraw``.

    The post row is locked so that two members racing for the last place
    cannot both get it.
    """
    post = Post.objects.select_for_update().get(pk=post.pk)
    if volunteer.kind != Volunteer.Kind.IN_SERVICE:
        raise ValidationError(_("Posts are claimed by in-service members."))
    if not post.is_open:
        raise ValidationError(_("This post is not open for claims."))
    live = post.claims.exclude(status=PostClaim.Status.WITHDRAWN)
    if live.filter(volunteer=volunteer).exists():
        raise ValidationError(_("You have already claimed this post."))
    if live.count() >= post.capacity:
        raise ValidationError(
            _("This post is full (%(capacity)s places).") % {"capacity": post.capacity}
        )
    claim = PostClaim.objects.create(post=post, volunteer=volunteer, skills=skills)
    audit(
        actor=actor, action="volunteers.post.claimed", target=post, data={"volunteer": volunteer.pk}
    )
    return claim


@transaction.atomic
def post_withdraw(*, actor: User | None, claim: PostClaim) -> PostClaim:
    """Inverse of ``post_claim``: frees the place."""
    claim = PostClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status == PostClaim.Status.WITHDRAWN:
        raise ValidationError(_("This claim was already withdrawn."))
    claim.status = PostClaim.Status.WITHDRAWN
    claim.save(update_fields=["status"])
    audit(
        actor=actor,
        action="volunteers.post.withdrawn",
        target=claim.post,
        data={"volunteer": claim.volunteer_id},
    )
    return claim


@transaction.atomic
def post_report(*, actor: User | None, claim: PostClaim) -> PostClaim:
    """The member reports in at the station (报到)."""
    claim = PostClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != PostClaim.Status.CLAIMED:
        raise ValidationError(_("Only a claimed post can be reported in."))
    claim.status = PostClaim.Status.REPORTED
    claim.reported_at = timezone.now()
    claim.save(update_fields=["status", "reported_at"])
    audit(
        actor=actor,
        action="volunteers.post.reported",
        target=claim.post,
        data={"volunteer": claim.volunteer_id},
    )
    return claim


# --- Service hours -------------------------------------------------------------


@transaction.atomic
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


# --- Complaints and the sanction ladder -------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _provider_filter(provider) -> dict[str, Any]:
    """Complaints and sanctions point at the provider row of a volunteer or merchant."""
    if isinstance(provider, Provider):
        return {"provider": provider}
    return {"provider": Provider.objects.get(**{provider._meta.model_name: provider})}


def _lock_provider(provider):
    """Lock the volunteer or merchant itself (its status is what the ladder changes)."""
    subject = provider.subject if isinstance(provider, Provider) else provider
    return type(subject).objects.select_for_update().get(pk=subject.pk)


@transaction.atomic
def complaint_record(
    *,
    actor: User | None,
    provider: Volunteer | Merchant,
    description: str,
) -> Complaint:
    if not description.strip():
        raise ValidationError({"description": _("Say what happened.")})
    complaint = Complaint(
        **_provider_filter(provider),
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


def _refresh_provider_status(provider, today: datetime.date) -> None:
    """Derive status from the sanctions in force (red → removed; else the
    latest end date of warnings and yellow cards → suspended; else active)."""
    in_force = Sanction.objects.filter(**_provider_filter(provider), status=Sanction.Status.ACTIVE)
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
    """Rule a complaint. A valid one climbs the ladder at once:
    1st → warning + 1 month without orders; 2nd → yellow card + 3 months;
    3rd → red card, removal (settings: SANCTION_LADDER, SANCTION_WINDOW_DAYS).
    Inverse of the sanction: ``sanction_revoke``."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.status != Complaint.Status.PENDING:
        raise ValidationError(_("This complaint has already been ruled."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the ruling.")})
    provider = _lock_provider(complaint.provider)
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


def _apply_ladder(*, actor: User, complaint: Complaint, provider, now) -> Sanction:
    conf = settings.LIANXIN
    window_start = now - datetime.timedelta(days=conf["SANCTION_WINDOW_DAYS"])
    # Valid complaints in the window, this one included; a complaint whose
    # sanction was revoked on appeal no longer counts.
    count = (
        Complaint.objects.filter(
            **_provider_filter(provider), status=Complaint.Status.VALID, ruled_at__gte=window_start
        )
        .exclude(sanction__status=Sanction.Status.REVOKED)
        .count()
    )
    ladder = conf["SANCTION_LADDER"]
    level, months = ladder[min(count, len(ladder)) - 1]
    today = timezone.localdate(now)
    sanction = Sanction.objects.create(
        **_provider_filter(provider),
        complaint=complaint,
        level=level,
        starts_on=today,
        ends_on=add_months(today, months) if months else None,
    )
    _refresh_provider_status(provider, today)
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
    provider = _lock_provider(sanction.provider)
    sanction.status = Sanction.Status.REVOKED
    sanction.revoked_by, sanction.revoked_at, sanction.revoke_reason = (
        actor,
        timezone.now(),
        reason.strip(),
    )
    sanction.save(update_fields=["status", "revoked_by", "revoked_at", "revoke_reason"])
    _refresh_provider_status(provider, timezone.localdate())
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
    )
    return sanction


def sanctions_expire(*, today: datetime.date | None = None) -> int:
    """Periodic: end the warnings and yellow cards whose date has come, and let
    their providers take orders again. Safe to run twice."""
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
            provider = _lock_provider(sanction.provider)
            sanction.status = Sanction.Status.EXPIRED
            sanction.save(update_fields=["status"])
            _refresh_provider_status(provider, today)
            audit(actor=None, action="volunteers.sanction.expired", target=sanction)
            done += 1
    return done


# --- Imports (all-or-nothing) -----------------------------------------------------


@transaction.atomic
def import_preview(*, actor: User, kind: str, filename: str, content: bytes) -> ImportBatch:
    """Parse and check a file; nothing but the batch is written. A file with
    any bad row is stored as rejected, with its row-level errors."""
    from . import imports

    rows = imports.parse(kind, filename, content)
    check = (
        imports.check_volunteers if kind == ImportBatch.Kind.VOLUNTEERS else imports.check_merchants
    )
    _clean, errors = check(rows, actor)
    batch = ImportBatch.objects.create(
        kind=kind,
        filename=filename[:200],
        created_by=actor,
        rows=rows,
        errors=errors,
        status=ImportBatch.Status.REJECTED if errors else ImportBatch.Status.PREVIEWED,
    )
    audit(
        actor=actor,
        action="volunteers.import.previewed",
        target=batch,
        data={"rows": len(rows), "errors": len(errors)},
    )
    return batch


@transaction.atomic
def importapply_changes(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """Write every row of a previewed batch or none. The rows are checked again:
    a mobile registered since the preview rejects the whole file. Every row
    gets its login in the same transaction; their first activation codes are
    ``batch.activations`` (shown once by the page, never stored in plain)."""
    from . import imports

    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.PREVIEWED:
        raise ValidationError(_("This import is not waiting to be applied."))
    if batch.created_by_id != actor.pk:
        raise ValidationError(_("Only the person who uploaded a file can apply it."))
    if batch.kind == ImportBatch.Kind.VOLUNTEERS:
        clean, errors = imports.check_volunteers(batch.rows, actor)
    else:
        clean, errors = imports.check_merchants(batch.rows, actor)
    if errors:
        batch.errors, batch.status = errors, ImportBatch.Status.REJECTED
        batch.save(update_fields=["errors", "status"])
        audit(
            actor=actor,
            action="volunteers.import.rejected",
            target=batch,
            data={"errors": len(errors)},
        )
        return batch
    if batch.kind == ImportBatch.Kind.VOLUNTEERS:
        batch.activations = _import_volunteers(clean, actor)
    else:
        batch.activations = _import_merchants(clean, actor)
    batch.status, batch.applied_at, batch.created_count = (
        ImportBatch.Status.APPLIED,
        timezone.now(),
        len(clean),
    )
    # The rows are written where they belong now: the raw copy goes (PIPL: keep no more than needed).
    batch.rows, batch.rows_purged_at = [], batch.applied_at
    batch.save(update_fields=["status", "applied_at", "created_count", "rows", "rows_purged_at"])
    audit(
        actor=actor, action="volunteers.import.applied", target=batch, data={"created": len(clean)}
    )
    return batch


def import_rows_purge(now: datetime.datetime | None = None) -> int:
    """Delete the raw rows of batches not applied within the retention period
    (settings IMPORT_RETENTION_DAYS); applied batches lost theirs on apply.
    The batch itself (file name, counts, masked errors) stays. Safe to run twice."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.LIANXIN["IMPORT_RETENTION_DAYS"])
    stale = ImportBatch.objects.filter(created_at__lt=cutoff, rows_purged_at__isnull=True)
    return stale.update(rows=[], rows_purged_at=now)


def _import_volunteers(clean: list[dict], actor: User) -> list[accounts.Issued]:
    objs = [
        Volunteer(
            volunteer_no=uuid.uuid4().hex[:16],
            **{k: v for k, v in row.items() if k != "specialty_ids"},
        )
        for row in clean
    ]
    created = Volunteer.objects.bulk_create(objs, batch_size=1000)
    for v in created:
        v.volunteer_no = volunteer_number(v.pk)
    issued = _create_logins(actor, created)
    Volunteer.objects.bulk_update(created, ["volunteer_no", "user"], batch_size=1000)
    through = Volunteer.specialties.through
    through.objects.bulk_create(
        [
            through(volunteer_id=v.pk, specialty_id=s)
            for v, row in zip(created, clean, strict=True)
            for s in row["specialty_ids"]
        ],
        batch_size=2000,
    )
    providers_sync(created)  # after the specialties: the dispatch copy includes their items
    return issued


def _import_merchants(clean: list[dict], actor: User) -> list[accounts.Issued]:
    objs = [Merchant(**{k: v for k, v in row.items() if k != "station_ids"}) for row in clean]
    created = Merchant.objects.bulk_create(objs, batch_size=1000)
    issued = _create_logins(actor, created)
    Merchant.objects.bulk_update(created, ["user"], batch_size=1000)
    providers_sync(created)
    through = Merchant.stations.through
    through.objects.bulk_create(
        [
            through(merchant_id=m.pk, station_id=s)
            for m, row in zip(created, clean, strict=True)
            for s in row["station_ids"]
        ],
        batch_size=2000,
    )
    return issued
