from django.urls import path

from . import urls_activities, urls_photos, urls_record, urls_self, urls_staff, views

app_name = "events"

# The volunteer's service-day pages here; the rest by part, one module each.
urlpatterns = [
    path("v/service-days/", views.upcoming, name="upcoming"),
    path("v/service-days/shifts/<int:pk>/sign-up/", views.signup_create, name="signup_create"),
    path("v/shifts/", views.my_shifts, name="my_shifts"),
    path("v/shifts/<int:pk>/cancel/", views.signup_cancel, name="signup_cancel"),
    *urls_staff.urlpatterns,  # staff: service days, venues, stalls, rosters, check-in
    *urls_self.urlpatterns,  # volunteers: code check-in, calendar (.ics, feed)
    *urls_activities.urlpatterns,  # other activities, call-ups, participants
    *urls_record.urlpatterns,  # the record by month, quarter, year; highlights
    *urls_photos.urlpatterns,  # stall and activity photos (streamed, never /media)
]
