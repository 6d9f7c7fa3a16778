from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("v/service-days/", views.upcoming, name="upcoming"),
    path("v/service-days/shifts/<int:pk>/sign-up/", views.signup_create, name="signup_create"),
    path("v/shifts/", views.my_shifts, name="my_shifts"),
    path("v/shifts/<int:pk>/cancel/", views.signup_cancel, name="signup_cancel"),
]
