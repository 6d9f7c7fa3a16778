"""Photos of stalls and activities: added, published and removed by the
station's managers only; streamed by a view that shows a photo to the public
only once staff marked it publishable; another station's photo is 404."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from center.models import AuditEntry, Role
from events.models import EventPhoto
from events.services import photos as photo_services
from tests.factories import ActivityFactory, StallFactory, UserFactory

pytestmark = pytest.mark.django_db


def jpeg(name="stall.jpg", size=(40, 30)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, "blue").save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def stall(station):
    return StallFactory(venue__station=station, service="磨刀")


@pytest.fixture
def other_manager(other_station):
    return UserFactory(role=Role.STATION_MANAGER, stations=[other_station])


def test_manager_adds_a_checked_copy_to_a_stall(stall, station_manager):
    upload = jpeg()
    original = upload.read()
    photo = photo_services.photo_add(
        actor=station_manager, upload=upload, caption=" 现场 ", stall=stall
    )
    assert photo.stall == stall and photo.activity is None
    assert photo.caption == "现场" and photo.publishable is False
    stored = photo.image.read()
    assert stored != original  # re-encoded, a random name
    assert Image.open(io.BytesIO(stored)).format == "JPEG"
    assert "stall" not in photo.image.name
    assert AuditEntry.objects.filter(action="events.photo.added", target_id=str(photo.pk)).exists()


def test_another_station_manager_and_an_operator_may_not_add(stall, other_manager, operator):
    for user in (other_manager, operator):
        with pytest.raises(PermissionDenied):
            photo_services.photo_add(actor=user, upload=jpeg(), stall=stall)
    assert not EventPhoto.objects.exists()


def test_not_a_picture_is_refused_and_nothing_is_kept(stall, station_manager):
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        photo_services.photo_add(actor=station_manager, upload=fake, stall=stall)
    assert not EventPhoto.objects.exists()


def test_at_most_twelve_photos(stall, station_manager, monkeypatch):
    monkeypatch.setattr(photo_services, "MAX_PHOTOS", 2)
    photo_services.photo_add(actor=station_manager, upload=jpeg(), stall=stall)
    photo_services.photo_add(actor=station_manager, upload=jpeg(), stall=stall)
    with pytest.raises(ValidationError):
        photo_services.photo_add(actor=station_manager, upload=jpeg(), stall=stall)
    assert EventPhoto.objects.count() == 2


def test_upload_through_the_page_then_publish_then_delete(
    client, stall, station_manager, django_capture_on_commit_callbacks
):
    client.force_login(station_manager)
    back = "/somewhere/"
    response = client.post(
        reverse("events:stall_photo_add", args=[stall.pk]),
        {"photo": jpeg(), "caption": "磨刀现场", "next": back},
    )
    assert response.status_code == 302 and response.url == back
    photo = EventPhoto.objects.get()
    # Not publishable yet: the public gets 404, staff get it uncached.
    client.logout()
    assert client.get(reverse("events:photo", args=[photo.pk])).status_code == 404
    client.force_login(station_manager)
    staff_view = client.get(reverse("events:photo", args=[photo.pk]))
    assert staff_view.status_code == 200 and staff_view["Cache-Control"] == "private, no-store"
    client.post(reverse("events:photo_publish", args=[photo.pk]), {"publishable": "1"})
    client.logout()
    public = client.get(reverse("events:photo", args=[photo.pk]))
    assert public.status_code == 200 and public["Content-Type"] == "image/jpeg"
    assert public["Cache-Control"] == "public, max-age=300"
    client.force_login(station_manager)
    name, storage = photo.image.name, photo.image.storage
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("events:photo_delete", args=[photo.pk]), {"next": "//evil.example/"})
    assert not EventPhoto.objects.exists()
    assert not storage.exists(name)


def test_bad_upload_through_the_page_says_why(client, stall, station_manager):
    client.force_login(station_manager)
    response = client.post(
        reverse("events:stall_photo_add", args=[stall.pk]),
        {"photo": SimpleUploadedFile("a.png", b"GIF89a", content_type="image/png")},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "not a JPEG, PNG or WebP picture" in response.content.decode()
    assert not EventPhoto.objects.exists()


def test_outsiders_are_refused(client, stall, other_manager, volunteer_user, station_manager):
    photo = photo_services.photo_add(actor=station_manager, upload=jpeg(), stall=stall)
    add = reverse("events:stall_photo_add", args=[stall.pk])
    # Another station's manager: the stall and the photo do not exist for them.
    client.force_login(other_manager)
    assert client.post(add, {"photo": jpeg()}).status_code == 404
    assert client.get(reverse("events:photo", args=[photo.pk])).status_code == 404
    assert client.post(reverse("events:photo_delete", args=[photo.pk])).status_code == 404
    # A volunteer: no manager pages at all.
    client.force_login(volunteer_user)
    assert client.post(add, {"photo": jpeg()}).status_code == 403
    assert client.get(reverse("events:photo", args=[photo.pk])).status_code == 404
    # Anonymous: to the login page.
    client.logout()
    response = client.post(add, {"photo": jpeg()})
    assert response.status_code == 302 and reverse("login") in response.url
    assert EventPhoto.objects.count() == 1


def test_activity_photos_follow_the_activity_station(
    client, station, other_station, station_manager
):
    mine = ActivityFactory(station=station)
    theirs = ActivityFactory(station=other_station)
    client.force_login(station_manager)
    client.post(reverse("events:activity_photo_add", args=[mine.pk]), {"photo": jpeg()})
    assert EventPhoto.objects.get().activity == mine
    response = client.post(
        reverse("events:activity_photo_add", args=[theirs.pk]), {"photo": jpeg()}
    )
    assert response.status_code == 404
    assert EventPhoto.objects.count() == 1
