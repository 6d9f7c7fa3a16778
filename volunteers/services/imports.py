"""Imports of volunteers and merchants, all or nothing: a file is previewed
(parsed and checked by ``volunteers.imports``, which writes nothing), then
applied by the person who uploaded it. Raw rows are deleted once applied or
after the retention period.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from center import accounts
from center.audit import audit
from center.models import User

from .. import imports as parsing
from ..models import ImportBatch, Merchant, Volunteer, providers_sync
from ._common import create_logins, volunteer_number


@transaction.atomic
def import_preview(*, actor: User, kind: str, filename: str, content: bytes) -> ImportBatch:
    """Parse and check a file; nothing but the batch is written. A file with
    any bad row is stored as rejected, with its row-level errors."""
    rows = parsing.parse(kind, filename, content)
    check = (
        parsing.check_volunteers if kind == ImportBatch.Kind.VOLUNTEERS else parsing.check_merchants
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
def import_apply(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """Write every row of a previewed batch or none. The rows are checked again:
    a mobile registered since the preview rejects the whole file. Every row
    gets its login in the same transaction; their first activation codes are
    ``batch.activations`` (shown once by the page, never stored in plain)."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.PREVIEWED:
        raise ValidationError(_("This import is not waiting to be applied."))
    if batch.created_by_id != actor.pk:
        raise ValidationError(_("Only the person who uploaded a file can apply it."))
    if batch.kind == ImportBatch.Kind.VOLUNTEERS:
        clean, errors = parsing.check_volunteers(batch.rows, actor)
    else:
        clean, errors = parsing.check_merchants(batch.rows, actor)
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
    issued = create_logins(actor, created)
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
    issued = create_logins(actor, created)
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
