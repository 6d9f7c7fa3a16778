"""URLs of the care pages (issue 11), included by requests/urls.py under the app namespace."""

from django.urls import path

from .views import care

urlpatterns: list = [
    path("care/", care.CareOverviewView.as_view(), name="care_overview"),
    path("care/residents/<int:pk>/", care.CareResidentView.as_view(), name="care_resident"),
    path("care/residents/<int:pk>/visit/", care.VisitCreateView.as_view(), name="visit_create"),
    path(
        "care/residents/<int:pk>/phones/<int:phone_pk>/reveal/",
        care.care_phone_reveal,
        name="care_phone_reveal",
    ),
    path(
        "care/residents/<int:pk>/contacts/<int:contact_pk>/reveal/",
        care.care_contact_reveal,
        name="care_contact_reveal",
    ),
    path("care/residents/<int:pk>/rota/", care.RotaScheduleView.as_view(), name="rota_schedule"),
    path("care/pairings/new/", care.PairingCreateView.as_view(), name="pairing_create"),
    path("care/pairings/<int:pk>/edit/", care.PairingUpdateView.as_view(), name="pairing_update"),
    path("care/pairings/<int:pk>/end/", care.PairingEndView.as_view(), name="pairing_end"),
    path("care/visits/<int:pk>/", care.visit_detail, name="visit_detail"),
    path("care/visits/<int:pk>/order/", care.visit_order, name="visit_order"),
    path("care/visits/<int:pk>/wish/", care.visit_wish, name="visit_wish"),
    path("care/slots/<int:pk>/take/", care.slot_take, name="slot_take"),
    path("care/slots/<int:pk>/release/", care.slot_release, name="slot_release"),
    path("v/care/", care.my_care, name="my_care"),
]
