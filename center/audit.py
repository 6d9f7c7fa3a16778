"""The audit trail: one call per service-level state change."""

from typing import Any

from django.db import models

from .models import AuditEntry


def apply_changes(obj: models.Model, data: dict[str, Any], fields) -> dict[str, Any]:
    """Set on ``obj`` the values of ``data`` (only ``fields``) that differ from
    what it holds; return them, for ``save(update_fields=[*changed])`` and for
    the audit entry (``jsonable(changed)``). An update service's first step."""
    changed = {}
    for name in fields:
        if name in data and getattr(obj, name) != data[name]:
            setattr(obj, name, data[name])
            changed[name] = data[name]
    return changed


def jsonable(changed: dict[str, Any]) -> dict[str, str]:
    """A change dict as an audit entry stores it: model instances by primary key."""
    return {k: str(getattr(v, "pk", v)) for k, v in changed.items()}


def audit(
    *, actor, action: str, target: models.Model | None = None, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Record that ``actor`` did ``action`` (dotted name) to ``target``.

    Call inside the service's transaction so that the entry and the change
    commit or roll back together.
    """
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )


def audit_many(
    *, actor, action: str, targets, data: dict[str, Any] | None = None
) -> list[AuditEntry]:
    """``audit`` for a bulk write (an import, the demo data): one entry per
    target, written in batches. Same rule: inside the service's transaction."""
    actor = actor if getattr(actor, "pk", None) else None
    return AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor,
                action=action,
                target_type=target._meta.label_lower,
                target_id=str(target.pk),
                data=data or {},
            )
            for target in targets
        ],
        batch_size=1000,
    )


def pii_shown(*, actor, target: models.Model, fields, purpose: str) -> AuditEntry:
    """The PIPL access log: ``actor`` was shown ``fields`` of ``target`` in full
    (a tap-to-reveal, a certificate, an admin form). One row per showing; a
    center manager reads them in the back office (audit entries,
    ``center.pii.revealed``). Rules per page: docs/privacy.md."""
    return audit(
        actor=actor,
        action="center.pii.revealed",
        target=target,
        data={"fields": list(fields), "purpose": purpose},
    )
