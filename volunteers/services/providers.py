"""Providers: volunteers, merchants and service teams, their logins, duty,
availability and ratings, merchants' prices, and the logged reveal of a
volunteer's personal numbers.

Each function: one transaction, the changed rows locked, the rule checked
(a ValidationError a user can read), the write, an audit entry.
"""

import hashlib
import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from center import accounts
from center.audit import apply_changes, audit, jsonable
from center.models import Delivery, Notification, ServiceItem, User
from center.notifications import notify
from center.roles import ALL, is_manager, station_ids_for
from center.validators import normalize_id_number, normalize_mobile

from ..models import Merchant, MerchantOffer, Provider, ProviderStatus, ServiceTeam, Volunteer
from ..selectors import provider_can_serve
from ._common import create_logins, lock_provider, volunteer_number

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


# --- Provider logins (center.accounts) ---------------------------------------------


@transaction.atomic
def provider_activation_issue(*, actor: User, provider: Volunteer | Merchant) -> accounts.Issued:
    """Staff give a provider a new activation code (lost, expired, or the
    password forgotten); a provider registered before logins existed gets its
    login now. The caller got ``provider`` from the scoped selector
    (get_volunteer_for_user / get_merchant_for_user): staff who cannot see
    the provider cannot reach this."""
    provider = lock_provider(provider)
    if provider.user_id is None:
        (issued,) = create_logins(actor, [provider])
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
    (volunteer.activation,) = create_logins(actor, [volunteer])
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


# --- Merchants -------------------------------------------------------------


@transaction.atomic
def merchant_create(*, actor: User | None, data: dict[str, Any], stations) -> Merchant:
    merchant = Merchant(**{k: v for k, v in data.items() if k in MERCHANT_FIELDS})
    merchant.mobile = normalize_mobile(merchant.mobile)
    merchant.full_clean()
    stations = list(stations)
    if not stations:
        raise ValidationError({"stations": _("A merchant serves at least one station.")})
    merchant.save()
    # The login and its first code (``merchant.activation``, shown once), as for volunteers.
    (merchant.activation,) = create_logins(actor, [merchant])
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


@transaction.atomic
def merchant_offers_cap(*, actor: User | None, item: ServiceItem, old_price: Decimal) -> list[int]:
    """The center lowered ``item``'s price (center.signals.center_price_lowered,
    sent inside center's service_item_update transaction): offers above the
    new price come down to it, so the rule of ``merchant_offer_set`` still
    holds. Returns the merchants whose price changed. No inverse: raising the
    center's price later leaves the merchants' prices where they are."""
    above = (
        MerchantOffer.objects.select_for_update()
        .filter(item=item, price__gt=item.center_price)
        .order_by("merchant_id")
    )
    rows = list(above.values_list("pk", "merchant_id"))
    if not rows:
        return []
    MerchantOffer.objects.filter(pk__in=[pk for pk, _m in rows]).update(price=item.center_price)
    merchants = [merchant for _pk, merchant in rows]
    audit(
        actor=actor,
        action="volunteers.merchant.offers_capped",
        target=item,
        data={"merchants": merchants, "price": str(item.center_price), "was": str(old_price)},
    )
    return merchants


# --- Teams -----------------------------------------------------------------------


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
def team_delete(*, actor: User | None, team: ServiceTeam) -> None:
    """Delete a team from the back office (which first refuses when rows that
    must outlive it, such as orders, protect it). Its dispatch copy goes with it."""
    team = ServiceTeam.objects.select_for_update().get(pk=team.pk)
    audit(actor=actor, action="volunteers.team.deleted", target=team, data={"name": team.name})
    team.delete()


# A message to everyone in a team (issue 13, part C). A team has tens, at most
# a few hundred members: read in batches all the same, as the outbox is large.
MAX_TEAM_MESSAGE = 300
TEAM_MESSAGE_BATCH = 500


def team_message_members(team: ServiceTeam):
    """Who a team message reaches: every member not removed from the roster
    (suspended members are still in the team and may read it)."""
    return team.members.exclude(status=ProviderStatus.REMOVED)


@transaction.atomic
def team_message_send(*, actor: User | None, team: ServiceTeam, text: str) -> int:
    """Tell every member of ``team`` ``text`` (``volunteers.team.message``):
    in the inbox of those with a login and by SMS or email as each chose;
    by SMS on their mobile for those without one. The team's station
    managers (their subtree) and center managers send it.

    Idempotent: the key carries the team and a hash of the sender and the
    text, so the same message posted twice (a double click, a retried POST)
    tells nobody twice; returns how many were told this time (0 for a
    repeat). The SMS go out through the sms queue at its rate limit
    (LIANXIN_SMS_RATE_LIMIT), never all at once. Inverse: none (a message
    once sent is sent)."""
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError({"text": _("Write the message.")})
    if len(text) > MAX_TEAM_MESSAGE:
        raise ValidationError(
            {"text": _("Keep the message under %(n)s characters.") % {"n": MAX_TEAM_MESSAGE}}
        )
    if actor is not None:
        ids = station_ids_for(actor)
        if not is_manager(actor) or (ids is not ALL and team.station_id not in ids):
            raise ValidationError(_("Only the team's managers may message its members."))
    # Locked: two posts of the same message wait for each other, and the
    # second finds everyone told.
    team = ServiceTeam.objects.select_for_update().get(pk=team.pk)
    sender = getattr(actor, "pk", None) or 0
    digest = hashlib.sha256(f"{team.pk}|{sender}|{text}".encode()).hexdigest()[:16]
    prefix = f"volunteers.team.message.{team.pk}.{digest}.v"
    params = {"team": team.name, "text": text}
    members = list(team_message_members(team).order_by("pk").values_list("pk", "user_id", "mobile"))
    told = 0
    for start in range(0, len(members), TEAM_MESSAGE_BATCH):
        batch = members[start : start + TEAM_MESSAGE_BATCH]
        # Who was told already, by exact keys (both tables are large): the
        # inbox row of those with a login, the SMS of those without.
        done = set(
            Notification.objects.filter(
                key__in=[f"{prefix}{pk}" for pk, user_id, _m in batch if user_id]
            ).values_list("key", flat=True)
        )
        done |= {
            key.rpartition(":")[0]
            for key in Delivery.objects.filter(
                key__in=[
                    f"{prefix}{pk}:{Delivery.Channel.SMS}"
                    for pk, user_id, _m in batch
                    if not user_id
                ]
            ).values_list("key", flat=True)
        }
        users = User.objects.in_bulk([user_id for _pk, user_id, _m in batch if user_id])
        for pk, user_id, mobile in batch:
            key = f"{prefix}{pk}"
            if key in done:
                continue
            notify(
                recipient=users.get(user_id),
                phone=mobile,
                key=key,
                kind="volunteers.team_message",
                message="volunteers.team.message",
                params=params,
            )
            told += 1
    audit(
        actor=actor,
        action="volunteers.team.messaged",
        target=team,
        data={"message": digest, "told": told, "text": text},
    )
    return told


def volunteer_notify(
    volunteer: Volunteer, *, key: str, kind: str, message: str, params: dict
) -> None:
    """One message to one volunteer, the one way every app tells a volunteer:
    their login's inbox and channels, or an SMS to their mobile when they
    have no login yet (``center.notifications.notify``)."""
    notify(
        recipient=volunteer.user,
        phone=volunteer.mobile,
        key=key,
        kind=kind,
        message=message,
        params=params,
    )
