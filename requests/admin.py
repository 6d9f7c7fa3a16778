import re

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from center.admin_base import LianxinAdmin, ReadOnlyAdmin
from center.validators import nfkc, normalize_phone

from . import services
from .models import (
    Device,
    DeviceCall,
    FollowUp,
    OrderEvent,
    OrderOffer,
    Resident,
    ResidentContact,
    ResidentPhone,
    ServiceRequest,
)


class PhoneInline(admin.TabularInline):
    model = ResidentPhone
    extra = 0


class ContactInline(admin.TabularInline):
    model = ResidentContact
    extra = 0


@admin.register(Resident)
class ResidentAdmin(LianxinAdmin):
    list_display = ["name", "community", "is_free", "created_at"]
    list_filter = ["is_free"]
    list_select_related = ["community"]
    # Exact phone (an index serves it) or name prefix.
    search_fields = ["=phones__number", "^name"]
    pii_fields = ("phones", "contacts")
    autocomplete_fields = ["community"]
    inlines = [PhoneInline, ContactInline]


PHONE_AS_TYPED = re.compile(r"^\+?[0-9][0-9 \-()]{5,}$", re.ASCII)


class EventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    readonly_fields = ["at", "actor", "action", "note", "data"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    """Orders change only through the portal's services: the admin reads."""

    list_display = [
        "number",
        "received_at",
        "item",
        "resident",
        "station",
        "provider",
        "urgency",
        "status",
    ]
    list_filter = ["status", "urgency", "channel", ("received_at", admin.DateFieldListFilter)]
    list_select_related = ["item", "resident", "station", "provider"]
    # The order number, the number that called, or any of the resident's numbers
    # (exact: the residentphone_number_prefix index serves it).
    search_fields = ["=number", "=caller_phone", "=resident__phones__number"]
    pii_fields = ("caller_phone",)
    inlines = [EventInline]

    def get_search_results(self, request, queryset, search_term):
        # A number as people type it ("138 1234 5678", "+86…", "8234 5678") is
        # searched in its stored form, as one term.
        if PHONE_AS_TYPED.match(nfkc(search_term)):
            search_term = normalize_phone(search_term)
        return super().get_search_results(request, queryset, search_term)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["order", "at", "satisfaction", "score", "operator", "reopened"]
    list_filter = ["satisfaction", "reopened"]
    list_select_related = ["order", "operator"]
    search_fields = ["=order__number"]


@admin.register(Device)
class DeviceAdmin(LianxinAdmin):
    list_display = ["device_id", "resident", "is_active", "last_call_at"]
    list_filter = ["is_active"]
    list_select_related = ["resident"]
    search_fields = ["=device_id"]
    autocomplete_fields = ["resident"]
    readonly_fields = ["secret_hash", "last_call_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        device, secret = services.device_register(
            actor=request.user, resident=obj.resident, device_id=obj.device_id
        )
        obj.pk = device.pk
        # Shown once: only its hash is stored.
        self.message_user(
            request,
            _("Device secret (write it into the device now; it is not shown again): %(s)s")
            % {"s": secret},
        )


@admin.register(DeviceCall)
class DeviceCallAdmin(ReadOnlyAdmin):
    list_display = ["at", "device_id", "ok", "error", "remote_addr", "order"]
    list_filter = ["ok"]
    list_select_related = ["order"]
    search_fields = ["=device_id"]


@admin.register(OrderOffer)
class OrderOfferAdmin(ReadOnlyAdmin):
    list_display = ["offered_at", "order", "provider", "round", "ring", "minutes", "status"]
    list_filter = ["status"]
    list_select_related = ["order", "provider"]
    search_fields = ["=order__number", "=provider__volunteer__volunteer_no"]
