"""Writes for the center app: stations, the catalogue, users and roles.

Each function validates, locks what it changes, writes, and audits, inside
one transaction. Views, admin and commands call these; nothing else writes.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from .audit import apply_changes, audit, jsonable
from .models import Role, ServiceItem, Station, User
from .signals import center_price_lowered

STATION_FIELDS = (
    "code",
    "name",
    "kind",
    "parent",
    "district",
    "address",
    "latitude",
    "longitude",
    "phone",
    "opening_hours",
    "is_active",
)
ITEM_FIELDS = (
    "category",
    "code",
    "name",
    "description",
    "specialty",
    "market_price",
    "center_price",
    "free_for_special_groups",
    "typical_minutes",
    "is_active",
)


def _check_station(station: Station) -> None:
    # Station.clean holds the parent rules, so the admin form enforces them too.
    station.full_clean(exclude=["communities"])


@transaction.atomic
def station_create(*, actor: User | None, data: dict[str, Any], communities=None) -> Station:
    station = Station(**{k: v for k, v in data.items() if k in STATION_FIELDS})
    _check_station(station)
    station.save()
    if communities is not None:
        station.communities.set(communities)
    audit(actor=actor, action="center.station.created", target=station, data={"code": station.code})
    return station


@transaction.atomic
def station_update(
    *, actor: User | None, station: Station, data: dict[str, Any], communities=None
) -> Station:
    station = Station.objects.select_for_update().get(pk=station.pk)
    changed = apply_changes(station, data, STATION_FIELDS)
    _check_station(station)
    if changed:
        station.save(update_fields=[*changed, "updated_at"])
    if communities is not None:
        before = set(station.communities.values_list("pk", flat=True))
        after = {c.pk for c in communities}
        if before != after:
            station.communities.set(communities)
            changed["communities"] = sorted(after)
    if changed:
        audit(actor=actor, action="center.station.updated", target=station, data=jsonable(changed))
    return station


@transaction.atomic
def service_item_create(*, actor: User | None, data: dict[str, Any]) -> ServiceItem:
    item = ServiceItem(**{k: v for k, v in data.items() if k in ITEM_FIELDS})
    item.full_clean()  # includes the below-market price constraint
    item.save()
    audit(
        actor=actor,
        action="center.service_item.created",
        target=item,
        data={"code": item.code, "center_price": str(item.center_price)},
    )
    return item


@transaction.atomic
def service_item_update(
    *, actor: User | None, item: ServiceItem, data: dict[str, Any]
) -> ServiceItem:
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    old_price = item.center_price
    changed = apply_changes(item, data, ITEM_FIELDS)
    item.full_clean()
    if changed:
        item.save(update_fields=[*changed, "updated_at"])
        audit(
            actor=actor, action="center.service_item.updated", target=item, data=jsonable(changed)
        )
        if item.center_price < old_price:
            center_price_lowered.send(
                sender=ServiceItem, item=item, old_price=old_price, actor=actor
            )
    return item


@transaction.atomic
def user_set_role(*, actor: User | None, user: User, role: str, stations=()) -> User:
    """Give ``user`` a role; station managers must run at least one station."""
    if role not in Role.values and role != "":
        raise ValidationError(_("Unknown role."))
    stations = list(stations)
    if role == Role.STATION_MANAGER and not stations:
        raise ValidationError(_("A station manager must be given at least one station."))
    user = User.objects.select_for_update().get(pk=user.pk)
    user.role = role
    # Center managers do back-office work in the Django admin.
    user.is_staff = role == Role.CENTER_MANAGER or user.is_superuser
    user.save(update_fields=["role", "is_staff"])
    # Only a station manager runs stations: any other role keeps none, and
    # the trail records the stations the user has now, not those offered.
    kept = stations if role == Role.STATION_MANAGER else []
    user.stations.set(kept)
    audit(
        actor=actor,
        action="center.user.role_set",
        target=user,
        data={"role": role, "stations": [s.pk for s in kept]},
    )
    return user


# --- Reference data and logins edited in the back office ------------------------------


def _action(obj: models.Model, verb: str) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}.{verb}"


@transaction.atomic
def reference_save(*, actor: User | None, obj: models.Model, fields=()) -> models.Model:
    """Save a row of reference data that an admin form built and validated
    (an area, a specialty, a category, a new login): tables with no rule beyond
    the model's own. The one generic write, audited as ``<app>.<model>.created``
    or ``.updated`` with the names of the changed fields (not their values:
    a login's mobile or password never goes into the trail). Anything with
    business rules has its own service, and its admin calls that instead."""
    created = obj._state.adding
    obj.save()
    names = sorted({f.name for f in obj._meta.concrete_fields} & set(fields) - {"password"})
    audit(
        actor=actor,
        action=_action(obj, "created" if created else "updated"),
        target=obj,
        data={"fields": names},
    )
    return obj


@transaction.atomic
def reference_delete(*, actor: User | None, obj: models.Model) -> None:
    """Delete a row of reference data (the database's PROTECT rules still
    refuse one in use); audited with what it was."""
    audit(actor=actor, action=_action(obj, "deleted"), target=obj, data={"was": str(obj)})
    obj.delete()


USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "full_name",
    "is_active",
    "is_staff",
    "is_superuser",
)


@transaction.atomic
def user_update(*, actor: User | None, user: User, data: dict[str, Any]) -> User:
    """Change a login's details (not its role: ``user_set_role``; not its
    password: Django's own password form). Audited with the fields' names."""
    user = User.objects.select_for_update().get(pk=user.pk)
    changed = apply_changes(user, data, USER_FIELDS)
    if changed:
        user.save(update_fields=[*changed])
        audit(
            actor=actor, action="center.user.updated", target=user, data={"fields": sorted(changed)}
        )
    return user


def login_logs_purge() -> int:
    """Successful-login records (django-axes AccessLog) older than
    LOGIN_LOG_RETENTION_DAYS go; at least 6 months are kept (DOMAIN.md, PIPL).
    Lockouts (AccessAttempt) expire by their cool-off. Audited with the count,
    so the trail shows the purge ran. Safe to run twice."""
    import datetime

    from axes.models import AccessLog
    from django.conf import settings
    from django.utils import timezone

    days = settings.LIANXIN["LOGIN_LOG_RETENTION_DAYS"]
    cutoff = timezone.now() - datetime.timedelta(days=days)
    with transaction.atomic():
        deleted, _by_model = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()
        if deleted:
            audit(
                actor=None,
                action="center.login_logs.purged",
                data={"deleted": deleted, "before": cutoff.date().isoformat()},
            )
    return deleted


def pii_log_purge() -> int:
    """Access-log rows (``center.pii.*`` audit entries: reveals and exports)
    older than PII_LOG_RETENTION_DAYS go; at least 6 months are kept
    (DOMAIN.md, PIPL). Audited with the count, so the trail shows the purge
    ran. Safe to run twice (index on action, created_at)."""
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from .models import AuditEntry

    days = settings.LIANXIN["PII_LOG_RETENTION_DAYS"]
    cutoff = timezone.now() - datetime.timedelta(days=days)
    with transaction.atomic():
        deleted, _by_model = AuditEntry.objects.filter(
            action__startswith="center.pii.", created_at__lt=cutoff
        ).delete()
        if deleted:
            audit(
                actor=None,
                action="center.pii_log.purged",
                data={"deleted": deleted, "before": cutoff.date().isoformat()},
            )
    return deleted


# --- How messages reach a person (issue 13, part C) ---------------------------------

NOTIFICATION_FIELDS = ("language", "notify_sms", "email", "notify_email")


@transaction.atomic
def user_notification_settings_update(
    *, actor: User | None, user: User, data: dict[str, Any]
) -> User:
    """A person's choice of how messages reach them beyond the inbox: the
    language they are written in, SMS on or off, an email address and email
    on or off (``center.delivery.channels_for`` reads them when a message is
    written; emergencies go by SMS whatever is chosen). Everyone sets their
    own; a center manager may set anyone's (a phone call to the hotline).
    Audited with the fields' names, not the address."""
    from django.conf import settings
    from django.core.validators import validate_email

    if actor is not None and actor.pk != user.pk and not actor.is_center_manager:
        raise ValidationError(_("You may change only your own message settings."))
    user = User.objects.select_for_update().get(pk=user.pk)
    data = {k: v for k, v in data.items() if k in NOTIFICATION_FIELDS}
    if "email" in data:
        data["email"] = (data["email"] or "").strip()
        if data["email"]:
            try:
                validate_email(data["email"])
            except ValidationError as exc:
                raise ValidationError({"email": exc.messages}) from exc
    if "language" in data and data["language"] not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose a language of the list.")})
    # Everyone starts with email on and no address (it then reaches no one):
    # only someone turning it on must say where to.
    if data.get("notify_email") and not data.get("email", user.email):
        raise ValidationError({"email": _("Give an email address to get messages by email.")})
    changed = apply_changes(user, data, NOTIFICATION_FIELDS)
    if changed:
        user.save(update_fields=[*changed])
        audit(
            actor=actor,
            action="center.user.notifications_updated",
            target=user,
            data={"fields": sorted(changed)},
        )
    return user
