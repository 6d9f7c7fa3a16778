"""Logins of the people who serve: every volunteer and merchant has one.

- ``provider_logins_create`` is the one way a provider's login is made: the
  volunteers services call it in the same transaction as the volunteer or
  merchant itself (the form, the import, the back office), so a provider is
  never saved without a login, and a failing import creates none.
- The first password is set by the provider with a one-time activation code
  (``account_activate``): eight digits, shown once to the staff member who
  registered them, to hand over, and texted to their mobile through the
  outbox (``center.delivery``, message ``center.account.activation``; by the
  callable of settings ``ACTIVATION_SMS_SENDER`` instead when one is set).
  Only a keyed hash of the code is stored as the code; the outbox row holds
  the text to send until the code is used or replaced, then it is blanked;
  it expires, works once, and dies after too many wrong tries. Staff issue a
  new one (``activation_code_issue``) when it was lost or expired, or the
  password forgotten. Every issue and every showing is audited.
- They log in with their mobile number (``center.auth``).

The center app does not import the volunteers app: a login that already acts
for a provider is recognised through the reverse links below.
"""

import datetime
import logging
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .audit import audit, audit_many
from .masking import mask_mobile
from .models import PROVIDER_ROLES, ActivationCode, Delivery, User
from .notifications import notify
from .validators import normalize_mobile

log = logging.getLogger(__name__)

CODE_DIGITS = 8

BLANKED = {"code": "********", "time": ""}


def _activation_key(code_id: int) -> str:
    return f"center.account.activation.{code_id}"


def _blank_texts(code_ids: Iterable[int]) -> None:
    """The codes of ``code_ids`` are used or replaced: their texts in the
    outbox are blanked (nothing live stays in the database in clear) and an
    unsent one is not sent (a dead code would only confuse)."""
    keys = [f"{_activation_key(pk)}:{Delivery.Channel.SMS}" for pk in code_ids]
    if keys:
        rows = Delivery.objects.filter(key__in=keys)
        rows.filter(status=Delivery.Status.PENDING).update(status=Delivery.Status.CANCELLED)
        rows.update(params=BLANKED)


# Reverse one-to-one names of the provider records that point at a login
# (volunteers.Volunteer.user, volunteers.Merchant.user).
PROVIDER_LINKS = ("volunteer", "merchant")


@dataclass(frozen=True)
class NewLogin:
    username: str
    mobile: str
    full_name: str


@dataclass(frozen=True)
class Issued:
    """A login and the code just issued to it. ``code`` is the only plaintext
    copy: shown once to staff (or texted), never stored. Empty when a known
    password was set instead (demo data)."""

    user: User
    code: str = ""
    expires_at: datetime.datetime | None = None


def _code_hash(user_id: int, code: str) -> str:
    # Keyed with SECRET_KEY: the database alone does not give the codes away.
    return salted_hmac(
        "center.accounts.activation", f"{user_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _unavailable(role: str) -> Q:
    """Users who cannot become a ``role`` login: staff (or the other provider
    role), back-office users and superusers even without a role (linking one
    would hand its password to whoever registered the provider), or already
    acting for a provider."""
    linked = Q()
    for name in PROVIDER_LINKS:
        linked |= Q(**{f"{name}__isnull": False})
    return ~Q(role__in=["", role]) | Q(is_superuser=True) | Q(is_staff=True) | linked


def mobiles_taken(mobiles: Iterable[str], *, role: str) -> set[str]:
    """Which of ``mobiles`` belong to a login that cannot be a ``role`` login
    (imports check this per row before anything is written)."""
    return set(
        User.objects.filter(mobile__in=set(mobiles))
        .filter(_unavailable(role))
        .values_list("mobile", flat=True)
    )


@transaction.atomic
def provider_logins_create(
    *, actor: User | None, role: str, logins: Sequence[NewLogin], password_hash: str | None = None
) -> list[Issued]:
    """Give each provider in ``logins`` a ``role`` login, in order, and issue
    each an activation code (one INSERT per table, whatever the count).

    A login that already exists with that mobile number, without a role or
    with this one and acting for nobody, is linked rather than duplicated.
    A number held by staff or by another provider refuses the whole call.
    ``password_hash`` (demo data only) sets a known password instead of a code.
    """
    if role not in PROVIDER_ROLES:
        raise ValueError(f"not a provider role: {role!r}")
    logins = list(logins)
    mobiles = [normalize_mobile(login.mobile) for login in logins]
    if len(set(mobiles)) != len(mobiles):
        raise ValidationError({"mobile": _("A mobile number can have only one login.")})
    # Locked: two registrations of the same number cannot both link this login.
    existing = {u.mobile: u for u in User.objects.select_for_update().filter(mobile__in=mobiles)}
    taken = mobiles_taken(existing, role=role)
    if taken:
        raise ValidationError(
            {
                "mobile": _(
                    "Mobile number %(mobiles)s already belongs to another login (staff or another provider)."
                )
                % {"mobiles": "、".join(sorted(mask_mobile(m) for m in taken))}
            }
        )
    new = [
        User(
            username=login.username,
            mobile=mobile,
            full_name=login.full_name[:64],
            role=role,
            password=password_hash or make_password(None),
        )
        for login, mobile in zip(logins, mobiles, strict=True)
        if mobile not in existing
    ]
    clash = User.objects.filter(username__in=[u.username for u in new]).values_list(
        "username", flat=True
    )
    if clash:
        raise ValidationError(
            _("The login name %(names)s is already used.") % {"names": "、".join(sorted(clash))}
        )
    User.objects.bulk_create(new, batch_size=1000)
    linked = list(existing.values())
    if linked:
        changes = {"role": role, **({"password": password_hash} if password_hash else {})}
        User.objects.filter(pk__in=[u.pk for u in linked]).update(**changes)
        for user in linked:
            user.role = role
    by_mobile = {**existing, **{u.mobile: u for u in new}}
    users = [by_mobile[m] for m in mobiles]
    audit_many(actor=actor, action="center.account.created", targets=new, data={"role": role})
    audit_many(actor=actor, action="center.account.linked", targets=linked, data={"role": role})
    if password_hash:
        return [Issued(user=u) for u in users]
    return _issue(actor=actor, users=users)


def provider_login_create(*, actor: User | None, role: str, login: NewLogin) -> Issued:
    """One provider's login (the form, the back office): ``provider_logins_create`` of one."""
    return provider_logins_create(actor=actor, role=role, logins=[login])[0]


def _issue(*, actor: User | None, users: list[User]) -> list[Issued]:
    conf = settings.LIANXIN
    now = timezone.now()
    expires_at = now + datetime.timedelta(hours=conf["ACTIVATION_CODE_HOURS"])
    codes = [_new_code() for _user in users]
    # One live code per login: a new one replaces the last, used or not.
    replaced = ActivationCode.objects.filter(user__in=users)
    _blank_texts(list(replaced.values_list("pk", flat=True)))
    replaced.delete()
    rows = ActivationCode.objects.bulk_create(
        [
            ActivationCode(
                user=user,
                code_hash=_code_hash(user.pk, code),
                issued_at=now,
                issued_by=actor if getattr(actor, "pk", None) else None,
                expires_at=expires_at,
            )
            for user, code in zip(users, codes, strict=True)
        ],
        batch_size=1000,
    )
    audit_many(
        actor=actor,
        action="center.account.code_issued",
        targets=users,
        data={"expires_at": expires_at.isoformat()},
    )
    if conf["ACTIVATION_SMS_SENDER"]:
        texts = [(u.mobile, code, expires_at) for u, code in zip(users, codes, strict=True)]
        transaction.on_commit(lambda: _send_codes(conf["ACTIVATION_SMS_SENDER"], texts))
    else:
        # By SMS, to the mobile the login is for (the provider has no session
        # yet: no inbox row). One code issued at the desk goes at once, even
        # in the quiet hours: the provider is standing there waiting for it.
        # An import's many codes wait for the morning like any message.
        for row, user, code in zip(rows, users, codes, strict=True):
            notify(
                recipient=None,
                key=_activation_key(row.pk),
                kind="center.account",
                message="center.account.activation",
                params={
                    "code": code,
                    "time": timezone.localtime(expires_at).strftime("%m-%d %H:%M"),
                },
                phone=user.mobile or "",
                urgent=len(users) == 1,
            )
    return [
        Issued(user=u, code=c, expires_at=expires_at) for u, c in zip(users, codes, strict=True)
    ]


def _send_codes(sender_path: str, texts) -> None:
    """The SMS hook, after commit: a gateway failure never undoes a registration
    (staff still have the code on screen, and can issue another)."""
    sender = import_string(sender_path)
    for mobile, code, expires_at in texts:
        try:
            sender(mobile, code, expires_at)
        except Exception:  # the gateway's own errors: logged, never raised
            log.exception("activation code SMS to %s failed", mask_mobile(mobile))


@transaction.atomic
def activation_code_issue(*, actor: User | None, user: User) -> Issued:
    """A new activation code for a provider's login (lost, expired, or the
    password forgotten): replaces the last one; the current password keeps
    working until the code is used. The caller checks the actor may see the
    provider (volunteers.services.provider_activation_issue)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role not in PROVIDER_ROLES:
        raise ValidationError(_("Activation codes are for volunteers' and merchants' logins."))
    if not user.is_active:
        raise ValidationError(_("This login is disabled."))
    return _issue(actor=actor, users=[user])[0]


def activation_codes_shown(*, actor: User, issued: Iterable[Issued], purpose: str) -> None:
    """The page that shows codes was rendered for ``actor``: one access-log row per code."""
    audit_many(
        actor=actor,
        action="center.account.code_shown",
        targets=[i.user for i in issued if i.code],
        data={"purpose": purpose},
    )


def account_activate(*, mobile: str, code: str, password: str) -> User:
    """The provider sets their password with the code they were given.

    One message for every way it can fail (unknown number, wrong, expired or
    used code), so the page does not tell who is registered. A wrong code
    counts against it even though the request fails. The password goes
    through Django's validators; a refused password does not use the code.
    """
    # NFKC first: phone keyboards often type full-width digits (１２３).
    code = unicodedata.normalize("NFKC", code or "")
    mobile, code = normalize_mobile(mobile or ""), "".join(ch for ch in code if ch in "0123456789")
    refused = True
    with transaction.atomic():
        row = (
            ActivationCode.objects.select_for_update()
            .select_related("user")
            .filter(user__mobile=mobile)
            .first()
            if mobile
            else None
        )
        now = timezone.now()
        if (
            row is None
            or not row.is_usable(now)
            or not row.user.is_active
            # A code is for a provider's login only: never one that became staff.
            or row.user.role not in PROVIDER_ROLES
            or row.user.is_staff
            or row.user.is_superuser
        ):
            pass
        elif not constant_time_compare(row.code_hash, _code_hash(row.user_id, code)):
            row.failures += 1
            row.save(update_fields=["failures"])
            audit(
                actor=None,
                action="center.account.activation_failed",
                target=row.user,
                data={"failures": row.failures},
            )
        else:
            user = row.user
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from exc
            user.set_password(password)
            user.save(update_fields=["password"])
            row.used_at = now
            row.save(update_fields=["used_at"])
            _blank_texts([row.pk])
            audit(actor=user, action="center.account.activated", target=user)
            refused = False
    if refused:
        raise ValidationError(
            _(
                "This mobile number and code do not match, or the code has expired or was already used. Ask your station for a new code."
            )
        )
    # The code proves who they are: a lockout from earlier wrong passwords ends.
    from axes.utils import reset

    reset(username=user.username)
    return user


@transaction.atomic
def provider_login_update(*, actor: User | None, user: User, mobile: str, full_name: str) -> User:
    """Keep a provider's login in step with their record: they log in with
    the mobile number on file (called by volunteer_update / merchant_update)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    mobile, changed = normalize_mobile(mobile), []
    if user.mobile != mobile:
        if User.objects.filter(mobile=mobile).exclude(pk=user.pk).exists():
            raise ValidationError(
                {"mobile": _("This mobile number already belongs to another login.")}
            )
        user.mobile = mobile
        changed.append("mobile")
    if full_name and user.full_name != full_name[:64]:
        user.full_name = full_name[:64]
        changed.append("full_name")
    if changed:
        user.save(update_fields=changed)
        audit(
            actor=actor,
            action="center.account.contact_synced",
            target=user,
            data={"fields": changed},
        )
    return user
