"""events URLs: photos of stalls and activities (included by events/urls.py
under app_name "events")."""

from django.urls import path

from . import views_photos

urlpatterns = [
    path("event-photos/<int:pk>/", views_photos.photo, name="photo"),
    path("event-photos/<int:pk>/publish/", views_photos.photo_publish, name="photo_publish"),
    path("event-photos/<int:pk>/delete/", views_photos.photo_delete, name="photo_delete"),
    path("stalls/<int:pk>/photos/", views_photos.stall_photo_add, name="stall_photo_add"),
    path("activities/<int:pk>/photos/", views_photos.activity_photo_add, name="activity_photo_add"),
]
