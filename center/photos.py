"""Uploaded photos (wish photos, fulfilment photos, service-day and activity
photos): the one place that checks
them. The type is read from the content (Pillow opens and verifies the file;
the name and the browser's content type are not trusted), only JPEG (MPO too), PNG
and WebP pass, the size is limited (``LIANXIN["WISH_PHOTO_MAX_BYTES"]``), and the
picture is re-encoded, which drops its EXIF block, GPS position included.
The result gets a random name and is stored by the model's ``ImageField``
through the default storage (``MEDIA_ROOT`` in development, any Django
storage in production)."""

import io
import mimetypes
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

# Pillow's format name → extension of the stored copy. MPO is the
# "multi-picture" JPEG many phone cameras write (a main picture plus a depth
# map or a preview): its first frame is kept, stored as an ordinary JPEG.
ALLOWED = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}
JPEG_KINDS = ("JPEG", "MPO")
# Larger pictures are scaled down: a phone photo needs no more on a wall.
MAX_SIDE = 2048
# A small compressed file can still decode to a huge bitmap (a "decompression
# bomb"), so the pixel count is capped by what the decoder really holds.
# JPEG is decoded at a reduced scale (``Image.draft``: 1/2, 1/4 or 1/8, just
# above MAX_SIDE): a 50-megapixel phone photo costs about 85 MB and 0.3 s.
# PNG and WebP have no such mode and are decoded in full (before this cap a
# 64-Mpx PNG of 200 kB cost 570 MB and 3.5 s, a 110 kB WebP over 1 GB), so
# they are held to what a screenshot or a 12-Mpx photo needs: at the cap a
# PNG costs about 85 MB, a WebP about 195 MB (its decoder copies the bitmap).
MAX_PIXELS = 50_000_000
MAX_PIXELS_FULL_DECODE = 12_600_000  # 4096 × 3072


def clean_photo(upload) -> ContentFile:
    """A checked, re-encoded copy of ``upload`` (any file-like object with a
    ``size``), or a ValidationError a user can read. Nothing of the original
    is kept: no metadata, no file name."""
    limit = settings.LIANXIN["WISH_PHOTO_MAX_BYTES"]
    size = getattr(upload, "size", None)
    if size is None or size > limit:
        raise ValidationError(
            _("The photo is too large: at most %(mb)s MB.") % {"mb": round(limit / 1048576, 1)}
        )
    not_an_image = ValidationError(_("This file is not a JPEG, PNG or WebP picture."))
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            kind, (width, height) = probe.format, probe.size
            probe.verify()  # a truncated or forged file fails here
        cap = MAX_PIXELS if kind in JPEG_KINDS else MAX_PIXELS_FULL_DECODE
        if kind not in ALLOWED or width * height > cap:
            raise not_an_image
        upload.seek(0)
        with Image.open(upload) as image:
            if kind in JPEG_KINDS:
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode at a reduced scale
            image.load()  # an MPO loads its first frame only
            # Scale down first, then turn upright: the big bitmap is dropped
            # before any copy is made. The box is square, so the orientation
            # does not change the scale.
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            # Turn the picture upright by its EXIF orientation before the EXIF goes.
            picture = ImageOps.exif_transpose(image)
    except ValidationError:
        raise
    except Exception:  # UnidentifiedImageError, DecompressionBombError, OSError, SyntaxError…
        # Whatever a forged file makes the decoder raise, it is not a picture we keep.
        raise not_an_image from None
    picture.info.clear()  # EXIF, XMP, text chunks, MPO frames: none is carried into the copy
    out = io.BytesIO()
    if kind in JPEG_KINDS:
        if picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        # No exif= argument: Pillow writes no EXIF (nor GPS) block; one frame only.
        picture.save(out, format="JPEG", quality=85, optimize=True)
    elif kind == "WEBP":
        picture.save(out, format="WEBP", quality=85)
    else:
        # No pnginfo=: text chunks are not copied either.
        picture.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{ALLOWED[kind]}")


def photo_response(photo, cache_control: str) -> FileResponse:
    """Stream a stored photo (uploads are never served from MEDIA_URL: each
    is reached through a view that checks who may see it)."""
    try:
        handle = photo.storage.open(photo.name, "rb")
    except OSError as exc:  # the row names a file the storage no longer has
        raise Http404 from exc
    content_type = mimetypes.guess_type(photo.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = cache_control
    return response
