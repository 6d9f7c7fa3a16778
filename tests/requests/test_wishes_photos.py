"""Wish photos (center/photos.py): the type is read from the content, the
size is limited, the EXIF block (GPS included) is dropped by re-encoding; the
wall shows a photo only when staff marked it publishable."""

import datetime
import importlib
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches, reverse
from django.utils import timezone, translation
from PIL import Image

import center.urls as center_urls
from center import photos
from requests.models import MicroWish
from requests.services import wishes as services
from tests.factories import MicroWishFactory, UserFactory, VolunteerFactory

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
    with translation.override("en"), pytest.raises(ValidationError, match="large"):
        photos.clean_photo(upload(out.getvalue()))


@pytest.mark.django_db
def test_wish_create_stores_the_stripped_copy(operator, resident, media_root):
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


def _with_photo(wish, field="photo"):
    setattr(wish, field, photos.clean_photo(upload(jpeg_with_gps())))
    wish.save(update_fields=[field])
    return wish


@pytest.mark.django_db
def test_the_wall_shows_a_photo_only_when_marked_publishable(
    client, operator, station, resident, media_root
):
    wish = _with_photo(MicroWishFactory(resident=resident, station=station))
    photo_url = reverse("requests:wish_public_photo", args=[wish.pk])
    body = client.get(reverse("requests:wish_wall")).content.decode()
    assert photo_url not in body and wish.photo.name not in body
    page = client.get(reverse("requests:wish_public", args=[wish.pk])).content.decode()
    assert photo_url not in page
    services.wish_photo_publishable(actor=operator, wish=wish, publishable=True)
    body = client.get(reverse("requests:wish_wall")).content.decode()
    # The view's URL, never the storage's (/media is not served).
    assert photo_url in body and wish.photo.name not in body


@pytest.mark.django_db
def test_public_photo_only_of_a_wish_on_the_wall_marked_publishable(
    client, operator, station, resident, media_root
):
    wish = _with_photo(MicroWishFactory(resident=resident, station=station, status="draft"))
    url = reverse("requests:wish_public_photo", args=[wish.pk])
    assert client.get(url).status_code == 404  # a draft, not publishable
    services.wish_photo_publishable(actor=operator, wish=wish, publishable=True)
    assert client.get(url).status_code == 404  # publishable, but a draft
    MicroWish.objects.filter(pk=wish.pk).update(status=MicroWish.Status.PUBLISHED)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=300"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.format == "JPEG" and not image.getexif().get_ifd(GPS_IFD)
    services.wish_photo_publishable(actor=operator, wish=wish, publishable=False)
    assert client.get(url).status_code == 404
    services.wish_photo_publishable(actor=operator, wish=wish, publishable=True)
    services.wish_withdraw(actor=operator, wish=wish, reason="已由社区解决")
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 405


@pytest.mark.django_db
def test_a_photo_whose_file_is_gone_is_a_404_not_a_500(client, station, resident, media_root):
    wish = _with_photo(MicroWishFactory(resident=resident, station=station))
    MicroWish.objects.filter(pk=wish.pk).update(photo_publishable=True)
    (media_root / wish.photo.name).unlink()
    assert client.get(reverse("requests:wish_public_photo", args=[wish.pk])).status_code == 404


def test_media_is_not_served_even_in_development(settings, client):
    """/media/ served the whole upload folder (photos not cleared for the
    wall included) when DEBUG was on, and nothing at all in production."""
    settings.DEBUG = True
    try:
        module = importlib.reload(center_urls)
        assert not [p for p in module.urlpatterns if "media" in str(p.pattern)]
    finally:
        settings.DEBUG = False
        importlib.reload(center_urls)
        clear_url_caches()


@pytest.mark.django_db
def test_staff_photos_are_scoped_like_the_wish_page(
    client, station, other_station, resident, station_manager, operator, outsider, media_root
):
    wish = _with_photo(MicroWishFactory(resident=resident, station=station))
    wish = _with_photo(wish, "fulfilment_photo")
    url = reverse("requests:wish_photo", args=[wish.pk, "wish"])
    fulfilment = reverse("requests:wish_photo", args=[wish.pk, "fulfilment"])

    assert client.get(url).status_code == 302  # anonymous: sign in first
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(role="volunteer"))
    assert client.get(url).status_code == 403
    # Another station's manager: not their wish.
    client.force_login(UserFactory(role="station_manager", stations=[other_station]))
    assert client.get(url).status_code == 404
    assert client.get(fulfilment).status_code == 404

    for user in (station_manager, operator):
        client.force_login(user)
        for photo_url in (url, fulfilment):
            response = client.get(photo_url)
            assert response.status_code == 200, (user, photo_url)
            assert response["Cache-Control"] == "private, no-store"
            assert response["Content-Type"] == "image/jpeg"
    assert client.get(reverse("requests:wish_photo", args=[wish.pk, "x"])).status_code == 404
    page = client.get(wish.get_absolute_url()).content.decode()
    assert url in page and fulfilment in page and wish.photo.name not in page

    # No photo yet: nothing to show.
    bare = MicroWishFactory(resident=resident, station=station)
    assert client.get(reverse("requests:wish_photo", args=[bare.pk, "wish"])).status_code == 404


@pytest.mark.django_db
def test_replacing_a_draft_photo_needs_a_new_consent(
    client, operator, station, resident, media_root, django_capture_on_commit_callbacks
):
    wish = services.wish_create(
        actor=operator,
        resident=resident,
        title="轮椅",
        kind="goods",
        deadline=timezone.localdate() + datetime.timedelta(days=10),
        source="visit",
        photo=upload(jpeg_with_gps()),
    )
    services.wish_photo_publishable(actor=operator, wish=wish, publishable=True)
    old = wish.photo.name
    # The edit form starts with "may be shown" ticked, as the wish is now.
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("requests:wish_update", args=[wish.pk]),
            {
                "title": "轮椅",
                "kind": "goods",
                "estimated_cost": "0",
                "shares": "1",
                "deadline": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
                "photo_publishable": "on",
                "photo": upload(jpeg_with_gps((80, 60)), name="new.jpg"),
            },
        )
    assert response.status_code == 302
    wish.refresh_from_db()
    assert wish.photo.name != old
    assert not wish.photo_publishable
    assert not (media_root / old).exists()  # the old picture is gone with its consent
    # Editing without a new photo keeps what staff said.
    services.wish_photo_publishable(actor=operator, wish=wish, publishable=True)
    services.wish_update(actor=operator, wish=wish, data={"title": "一辆轮椅"})
    wish.refresh_from_db()
    assert wish.photo_publishable and wish.title == "一辆轮椅"


@pytest.mark.django_db
def test_volunteer_fulfils_with_a_photo_from_the_phone(client, station, resident, media_root):
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


def test_a_multi_picture_jpeg_from_a_phone_passes_as_its_first_frame():
    """MPO: the "multi-picture" JPEG of many phone cameras (a picture plus a
    depth map or a preview) was refused as not a JPEG."""
    out = io.BytesIO()
    main = Image.new("RGB", (64, 48), (200, 30, 30))
    main.save(
        out, format="MPO", save_all=True, append_images=[Image.new("RGB", (32, 24), (0, 0, 200))]
    )
    with Image.open(io.BytesIO(out.getvalue())) as mpo:
        assert mpo.format == "MPO" and mpo.n_frames == 2
    cleaned = photos.clean_photo(upload(out.getvalue()))
    assert cleaned.name.endswith(".jpg")
    with Image.open(io.BytesIO(cleaned.read())) as image:
        assert image.format == "JPEG" and getattr(image, "n_frames", 1) == 1
        assert image.size == (64, 48)
        red, _green, blue = image.getpixel((10, 10))
        assert red > 150 and blue < 80  # the main picture, not the second frame


def test_a_png_too_big_to_decode_cheaply_is_refused():
    """PNG and WebP are decoded in full: a 25-Mpx PNG of a few kB (which
    the old 64-Mpx cap let through, at ~200 MB of memory) is refused."""
    out = io.BytesIO()
    Image.new("L", (5000, 5000)).save(out, format="PNG")
    assert len(out.getvalue()) < 100 * 1024
    with pytest.raises(ValidationError, match="JPEG"):
        photos.clean_photo(upload(out.getvalue(), name="big.png", content_type="image/png"))


def test_a_screen_sized_png_passes():
    out = io.BytesIO()
    Image.new("RGB", (1170, 2532), (250, 250, 250)).save(out, format="PNG")  # a phone screenshot
    cleaned = photos.clean_photo(upload(out.getvalue(), name="shot.png"))
    with Image.open(io.BytesIO(cleaned.read())) as image:
        assert image.format == "PNG" and max(image.size) <= photos.MAX_SIDE


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


@pytest.mark.django_db
def test_the_admin_links_the_staff_photo_view_not_the_storage(
    client, center_manager, station, resident, media_root
):
    wish = _with_photo(MicroWishFactory(resident=resident, station=station))
    client.force_login(center_manager)
    page = client.get(reverse("admin:requests_microwish_change", args=[wish.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert reverse("requests:wish_photo", args=[wish.pk, "wish"]) in body
    assert wish.photo.name not in body
