from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from center.admin_base import LianxinAdmin, ReadOnlyAdmin

from . import selectors, services
from .models import (
    Device,
    DeviceCall,
    FollowUp,
    OrderEvent,
    OrderMonthStat,
    OrderOffer,
    Resident,
    ResidentContact,
    ResidentPhone,
    ServiceRequest,
)


class PhoneInline(admin.TabularInline):
    model = ResidentPhone
    extra = 0
    # A resident needs a number (services.resident_create/resident_update):
    # the form says so (none left, or the last one deleted) before the service
    # would refuse.
    min_num = 1

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class ContactInline(admin.TabularInline):
    model = ResidentContact
    extra = 0


@admin.register(Resident)
class ResidentAdmin(LianxinAdmin):
    list_display = ["name", "community", "is_free", "created_at"]
    list_filter = ["is_free"]
    list_select_related = ["community"]
    # Exact phone or name prefix, through the search the staff pages use
    # (requests.selectors.resident_search: indexes serve both).
    search_fields = ["name"]
    pii_fields = ("phones", "contacts")
    autocomplete_fields = ["community"]
    inlines = [PhoneInline, ContactInline]

    def get_search_results(self, request, queryset, search_term):
        return selectors.resident_search(queryset, search_term), False

    # The resident, their phones and contacts are written by one service call
    # in save_related, once the inlines are known (resident_create needs a phone).
    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            # Only for the change message (new/changed/deleted rows); writes nothing.
            formset.save(commit=False)
        data = {f: form.cleaned_data[f] for f in services.RESIDENT_FIELDS if f in form.cleaned_data}
        phones = [(p.number, p.label) for p in _rows(formsets, ResidentPhone)]
        contacts = [
            {"name": c.name, "relation": c.relation, "phone": c.phone}
            for c in _rows(formsets, ResidentContact)
        ]
        resident = form.instance
        if not change:
            created = services.resident_create(
                actor=request.user, data=data, phones=[number for number, _label in phones]
            )
            resident.pk = created.pk
            if contacts or any(label for _number, label in phones):
                services.resident_update(
                    actor=request.user, resident=created, data={}, phones=phones, contacts=contacts
                )
            return
        services.resident_update(
            actor=request.user, resident=resident, data=data, phones=phones, contacts=contacts
        )

    def delete_model(self, request, obj):
        services.resident_delete(actor=request.user, resident=obj)

    def delete_queryset(self, request, queryset):
        for resident in queryset:
            services.resident_delete(actor=request.user, resident=resident)


def _rows(formsets, model) -> list:
    """The rows an inline leaves once saved: kept, changed and new ones (with
    the values typed), not the deleted or the empty extra forms."""
    rows = []
    for formset in formsets:
        if formset.model is not model:
            continue
        deleted = set(map(id, formset.deleted_forms))
        for i, f in enumerate(formset.forms):
            if id(f) in deleted or (i >= formset.initial_form_count() and not f.has_changed()):
                continue
            rows.append(f.instance)
    return rows


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
    # The order number, the number that called, or any of the resident's
    # numbers, exact, through requests.selectors.order_search (indexes serve
    # each; Django's "=field" would compare UPPER(col) = UPPER(q), which none does).
    search_fields = ["number"]
    pii_fields = ("caller_phone",)
    inlines = [EventInline]

    def get_search_results(self, request, queryset, search_term):
        return selectors.order_search(queryset, search_term), False

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
            data = {
                f: form.cleaned_data[f] for f in services.DEVICE_FIELDS if f in form.cleaned_data
            }
            services.device_update(actor=request.user, device=obj, data=data)
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

    def delete_model(self, request, obj):
        services.device_delete(actor=request.user, device=obj)

    def delete_queryset(self, request, queryset):
        for device in queryset:
            services.device_delete(actor=request.user, device=device)


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


@admin.register(OrderMonthStat)
class OrderMonthStatAdmin(ReadOnlyAdmin):
    """The report's summary table: rebuilt from the orders, never edited."""

    list_display = ["month", "station", "category", "received", "completed", "cancelled"]
    list_filter = [("month", admin.DateFieldListFilter)]
    list_select_related = ["station", "category"]


# --- Pairing and care visits (issue 11): the care helper adds its admin below ---


# --- Micro-wishes (issue 11): the wishes helper adds its admin below ---
