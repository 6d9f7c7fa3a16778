"""events URLs: staff (included by events/urls.py under app_name "events"):
the service days, a day's venues, stalls and shifts, a venue's roster with
check-in and check-out, a stall's report, a message to everyone on a day."""

from django.urls import path

from . import views_staff as views

urlpatterns = [
    path("service-days/", views.DayListView.as_view(), name="day_list"),
    path("service-days/add/", views.day_add, name="day_add"),
    path("service-days/<int:pk>/", views.DayDetailView.as_view(), name="day_detail"),
    path("service-days/<int:pk>/move/", views.day_move, name="day_move"),
    path("service-days/<int:pk>/message/", views.DayMessageView.as_view(), name="day_message"),
    path("service-days/<int:pk>/venues/new/", views.VenueCreateView.as_view(), name="venue_create"),
    path(
        "service-days/venues/<int:pk>/edit/", views.VenueUpdateView.as_view(), name="venue_update"
    ),
    path(
        "service-days/venues/<int:pk>/delete/",
        views.VenueDeleteView.as_view(),
        name="venue_delete",
    ),
    path("service-days/venues/<int:pk>/roster/", views.venue_roster, name="venue_roster"),
    path(
        "service-days/venues/<int:pk>/roster/live/",
        views.venue_roster_fragment,
        name="venue_roster_fragment",
    ),
    path(
        "service-days/venues/<int:pk>/stalls/new/",
        views.StallCreateView.as_view(),
        name="stall_create",
    ),
    path(
        "service-days/stalls/<int:pk>/edit/", views.StallUpdateView.as_view(), name="stall_update"
    ),
    path(
        "service-days/stalls/<int:pk>/delete/",
        views.StallDeleteView.as_view(),
        name="stall_delete",
    ),
    path(
        "service-days/stalls/<int:pk>/report/",
        views.StallReportView.as_view(),
        name="stall_report",
    ),
    path(
        "service-days/stalls/<int:pk>/shifts/new/",
        views.ShiftCreateView.as_view(),
        name="shift_create",
    ),
    path(
        "service-days/shifts/<int:pk>/edit/", views.ShiftUpdateView.as_view(), name="shift_update"
    ),
    path(
        "service-days/shifts/<int:pk>/delete/",
        views.ShiftDeleteView.as_view(),
        name="shift_delete",
    ),
    path(
        "service-days/sign-ups/<int:pk>/check-in/",
        views.signup_check_in,
        name="signup_check_in",
    ),
    path(
        "service-days/sign-ups/<int:pk>/check-out/",
        views.signup_check_out,
        name="signup_check_out",
    ),
    path(
        "service-days/sign-ups/<int:pk>/cancel/",
        views.signup_staff_cancel,
        name="signup_staff_cancel",
    ),
]
