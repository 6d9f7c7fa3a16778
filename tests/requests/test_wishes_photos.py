"""Wish photos (requests/photos.py): the type is read from the content, the
size is limited, the EXIF block (GPS included) is dropped by re-encoding; the
wall shows a photo only when staff marked it publishable."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from requests import photos
from requests.models import MicroWish
from requests.services import wishes as services
from tests.factories import MicroWishFactory, VolunteerFactory

GPS_IFD = 0x8825


def jpeg_with_gps(size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:11:27 10:00:00"  # DateTime
    exif[GPS_IFD] = {
        1: "N",
        2: (30.0, 45.0, 12.5),
        3: "E",
        4: (120.0, 45.0, 30.0),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_test_photo_really_carries_gps():
    with Image.open(io.BytesIO(jpeg_with_gps())) as image:
        assert image.getexif().get_ifd(GPS_IFD)


def test_exif_and_gps_are_removed():
    cleaned = photos.clean_photo(upload(jpeg_with_gps()))
    assert cleaned.name.endswith(".jpg") and "photo" not in cleaned.name
    with Image.open(io.BytesIO(cleaned.read())) as image:
        assert image.format == "JPEG"
        assert image.size == (64, 48)
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD)
        assert not dict(exif)
        assert "exif" not in image.info


def test_png_and_webp_pass_and_keep_their_type():
    for fmt, ext in (("PNG", "png"), ("WEBP", "webp")):
        out = io.BytesIO()
        Image.new("RGBA", (20, 20), (0, 0, 255, 128)).save(out, format=fmt)
        cleaned = photos.clean_photo(upload(out.getvalue(), name=f"x.{ext}"))
        assert cleaned.name.endswith(f".{ext}")
        with Image.open(io.BytesIO(cleaned.read())) as image:
            assert image.format == fmt


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name():
    with pytest.raises(ValidationError, match="JPEG"):
        photos.clean_photo(upload(b"%PDF-1.4 not a picture", name="photo.jpg"))
    with pytest.raises(ValidationError):
        photos.clean_photo(upload(b"<svg xmlns='http://www.w3.org/2000/svg'/>", name="a.png"))
    truncated = jpeg_with_gps()[:200]
    with pytest.raises(ValidationError):
        photos.clean_photo(upload(truncated))


def test_other_image_types_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(ValidationError, match="JPEG"):
        photos.clean_photo(upload(out.getvalue(), name="a.gif", content_type="image/gif"))


def test_too_big_is_refused(settings):
    settings.LIANXIN = {**settings.LIANXIN, "WISH_PHOTO_MAX_BYTES": 2048}
    big = Image.effect_noise((300, 300), 100).convert("RGB")
    out = io.BytesIO()
    big.save(out, format="JPEG", quality=95)
    assert len(out.getvalue()) > 2048
    with pytest.raises(ValidationError, match="large"):
        photos.clean_photo(upload(out.getvalue()))


@pytest.mark.django_db
def test_wish_create_stores_the_stripped_copy(operator, resident, media_root):
    from django.utils import timezone

    wish = services.wish_create(
        actor=operator,
        resident=resident,
        title="轮椅",
        kind="goods",
        deadline=timezone.localdate(),
        source="visit",
        photo=upload(jpeg_with_gps()),
    )
    assert wish.photo.name.startswith("wishes/")
    stored = media_root / wish.photo.name
    with Image.open(stored) as image:
        assert not image.getexif().get_ifd(GPS_IFD)


@pytest.mark.django_db
def test_wish_create_refuses_a_non_image_with_a_field_error(operator, resident):
    from django.utils import timezone

    with pytest.raises(ValidationError) as exc:
        services.wish_create(
            actor=operator,
            resident=resident,
            title="轮椅",
            kind="goods",
            deadline=timezone.localdate(),
            source="visit",
            photo=upload(b"MZ\x90\x00 an exe", name="x.jpg"),
        )
    assert "photo" in exc.value.error_dict
    assert not MicroWish.objects.exists()


@pytest.mark.django_db
def test_the_wall_shows_a_photo_only_when_marked_publishable(
    client, operator, station, resident, media_root
):
    wish = MicroWishFactory(resident=resident, station=station, estimated_cost=Decimal("1"))
    wish.photo = photos.clean_photo(upload(jpeg_with_gps()))
    wish.save(update_fields=["photo"])
    body = client.get(reverse("requests:wish_wall")).content.decode()
    assert wish.photo.url not in body
    assert (
        wish.photo.url
        not in client.get(reverse("requests:wish_public", args=[wish.pk])).content.decode()
    )
    services.wish_photo_publishable(actor=operator, wish=wish, publishable=True)
    assert wish.photo.url in client.get(reverse("requests:wish_wall")).content.decode()


@pytest.mark.django_db
def test_volunteer_fulfils_with_a_photo_from_the_phone(client, station, resident, media_root):
    from tests.factories import UserFactory

    vol = VolunteerFactory(station=station, user=UserFactory(role="volunteer"))
    wish = MicroWishFactory(resident=resident, station=station)
    services.wish_adopt(actor=vol.user, wish=wish, volunteer=vol)
    services.wish_contact(actor=vol.user, wish=wish, volunteer=vol)
    client.force_login(vol.user)
    bad = client.post(
        reverse("requests:my_wish_step", args=[wish.pk, "fulfil"]),
        {"note": "送到了", "photo": upload(b"not an image")},
        follow=True,
    )
    assert "JPEG" in bad.content.decode() or "JPEG" in str(list(bad.context["messages"]))
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.CONTACTED and not wish.fulfilment_photo
    client.post(
        reverse("requests:my_wish_step", args=[wish.pk, "fulfil"]),
        {"note": "送到了", "spent": "199.5", "photo": upload(jpeg_with_gps())},
    )
    wish.refresh_from_db()
    assert wish.status == MicroWish.Status.FULFILLED and wish.spent_total == Decimal("199.5")
    with Image.open(media_root / wish.fulfilment_photo.name) as image:
        assert not image.getexif().get_ifd(GPS_IFD)


def test_a_huge_bitmap_in_a_small_file_is_refused():
    out = io.BytesIO()
    Image.new("L", (9000, 8000)).save(out, format="PNG", optimize=True)  # 72 Mpx, a few kB
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(ValidationError, match="JPEG"):
        photos.clean_photo(upload(out.getvalue(), name="bomb.png", content_type="image/png"))


def test_a_big_phone_photo_is_scaled_down():
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 120, 10)).save(out, format="JPEG")
    cleaned = photos.clean_photo(upload(out.getvalue()))
    with Image.open(io.BytesIO(cleaned.read())) as image:
        assert max(image.size) <= photos.MAX_SIDE
