"""events URLs: record (included by events/urls.py under app_name "events").

The record pages are public (no login): the figures the center reports."""

from django.urls import path

from . import views_record

urlpatterns = [
    path("record/", views_record.record_index, name="record"),
    path("record/highlights/add/", views_record.highlight_add, name="highlight_add"),
    path(
        "record/highlights/<int:pk>/remove/",
        views_record.highlight_remove,
        name="highlight_remove",
    ),
    path("record/highlights/<int:pk>/move/", views_record.highlight_move, name="highlight_move"),
    # After the highlight paths: a period is any other segment (bad ones: 404).
    path("record/<str:period>/", views_record.record_period, name="record_period"),
    path("record/<str:period>/print/", views_record.record_print, name="record_print"),
]
