"""The portal's URLs plus a private admin site (the anchors of ``bench``).

Each model a list page shows is registered here on a throwaway, plain
``admin.ModelAdmin``: Django's own changelist of the same rows, timed in the
same run so a page's figure reads as a ratio to it. Used only as
``ROOT_URLCONF`` while ``bench`` times (``override_settings``).
"""

from django.contrib import admin
from django.urls import path

from center.models import ServiceItem, Station
from center.urls import handler403
from center.urls import urlpatterns as portal
from requests.models import Resident, ServiceRequest
from volunteers.models import (
    Complaint,
    HoursEntry,
    Merchant,
    Organization,
    Post,
    ServiceTeam,
    Volunteer,
)

ANCHOR_MODELS = [
    ServiceRequest,
    Resident,
    Volunteer,
    Merchant,
    ServiceTeam,
    Complaint,
    Post,
    Organization,
    HoursEntry,
    Station,
    ServiceItem,
]

site = admin.AdminSite(name="bench_anchor")
for _model in ANCHOR_MODELS:
    site.register(_model, type(f"Plain{_model.__name__}Admin", (admin.ModelAdmin,), {}))

PREFIX = "bench-anchor/"
urlpatterns = [*portal, path(PREFIX, site.urls)]

__all__ = ["ANCHOR_MODELS", "PREFIX", "handler403", "site", "urlpatterns"]
