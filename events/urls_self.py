"""events URLs: self (included by events/urls.py under app_name "events")."""

from django.urls import path

from . import views_self

urlpatterns = [
    # Staff: the stall's poster with today's check-in code (QR).
    path("service-days/stalls/<int:pk>/code/", views_self.stall_code, name="stall_code"),
    # Volunteers: the page the stall's QR code opens.
    path("v/check-in/<int:pk>/<str:code>/", views_self.self_check_in, name="self_check_in"),
    # Volunteers: calendars.
    path("v/shifts/<int:pk>/calendar.ics", views_self.shift_ics, name="shift_ics"),
    path("v/calendar/", views_self.calendar_page, name="calendar"),
    path("v/calendar/reset/", views_self.calendar_reset, name="calendar_reset"),
    # Public: calendar apps fetch the feed by its secret token, without a login.
    path("calendar/<str:token>.ics", views_self.calendar_feed, name="calendar_feed"),
]
