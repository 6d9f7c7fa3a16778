"""Photos of a service-day stall or of an activity: added and removed by the
managers of the stall's (or activity's) station, or a center manager.

The picture is checked and re-encoded by ``center.photos`` (type by content,
size capped, EXIF/GPS dropped) and streamed by ``events:photo``, never from
/media. A photo may show faces: it is public (the record) only once staff
said so (``publishable``)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from center import photos
from center.audit import audit
from center.models import User
from center.roles import is_manager, station_ids_for

from ..models import Activity, EventPhoto, Stall

# Enough for a stall's or an activity's story; more is an album, not a record.
MAX_PHOTOS = 12


def _station_of(*, stall: Stall | None, activity: Activity | None):
    if (stall is None) == (activity is None):
        raise ValueError("a photo belongs to a stall or to an activity")
    return stall.venue.station if stall is not None else activity.station


def may_manage_photos(user, station) -> bool:
    """Managers of ``station`` (its subtree's managers too) and center managers."""
    if not is_manager(user):
        return False
    ids = station_ids_for(user)
    return ids is None or station.pk in ids


@transaction.atomic
def photo_add(
    *,
    actor: User,
    upload,
    caption: str = "",
    publishable: bool = False,
    stall: Stall | None = None,
    activity: Activity | None = None,
) -> EventPhoto:
    """Add a checked copy of ``upload`` to a stall or an activity. Inverse:
    ``photo_delete``."""
    station = _station_of(stall=stall, activity=activity)
    if not may_manage_photos(actor, station):
        raise PermissionDenied
    # Lock the subject so two uploads at once respect the cap.
    if stall is not None:
        Stall.objects.select_for_update().get(pk=stall.pk)
        existing = EventPhoto.objects.filter(stall=stall)
    else:
        Activity.objects.select_for_update().get(pk=activity.pk)
        existing = EventPhoto.objects.filter(activity=activity)
    if existing.count() >= MAX_PHOTOS:
        raise ValidationError(
            _("At most %(count)s photos: remove one before adding another.") % {"count": MAX_PHOTOS}
        )
    photo = EventPhoto.objects.create(
        stall=stall,
        activity=activity,
        image=photos.clean_photo(upload),
        caption=caption.strip()[:200],
        publishable=publishable,
        uploaded_by=actor,
    )
    audit(
        actor=actor,
        action="events.photo.added",
        target=photo,
        data={
            "stall": getattr(stall, "pk", None),
            "activity": getattr(activity, "pk", None),
            "publishable": publishable,
        },
    )
    return photo


@transaction.atomic
def photo_set_publishable(*, actor: User, photo: EventPhoto, publishable: bool) -> EventPhoto:
    """Say whether the photo may be shown publicly (the record). Inverse:
    call again with the other value."""
    photo = (
        EventPhoto.objects.select_for_update(of=("self",))
        .select_related("stall__venue__station", "activity__station")
        .get(pk=photo.pk)
    )
    if not may_manage_photos(actor, _station_of(stall=photo.stall, activity=photo.activity)):
        raise PermissionDenied
    if photo.publishable != publishable:
        photo.publishable = publishable
        photo.save(update_fields=["publishable"])
        audit(
            actor=actor,
            action="events.photo.publishable",
            target=photo,
            data={"publishable": publishable},
        )
    return photo


@transaction.atomic
def photo_delete(*, actor: User, photo: EventPhoto) -> None:
    """Remove a photo and its file (after commit: a rolled-back delete keeps
    the file). Inverse: none, upload it again."""
    photo = (
        EventPhoto.objects.select_for_update(of=("self",))
        .select_related("stall__venue__station", "activity__station")
        .get(pk=photo.pk)
    )
    if not may_manage_photos(actor, _station_of(stall=photo.stall, activity=photo.activity)):
        raise PermissionDenied
    name, storage = photo.image.name, photo.image.storage
    audit(
        actor=actor,
        action="events.photo.deleted",
        target=photo,
        data={"stall": photo.stall_id, "activity": photo.activity_id, "file": name},
    )
    photo.delete()
    transaction.on_commit(lambda: storage.delete(name))
