"""The back office for service days: read-mostly. Sign-ups, places taken and
attendance change only through ``events.services`` (locked, audited); the
admin shows them. Venue and stall details (names, address, people served,
notes) are plain data, saved through ``reference_save`` (audited)."""

from django.contrib import admin

from center.admin_base import LianxinAdmin, ReadOnlyAdmin

from .models import ServiceDay, Shift, SignUp, Stall, Venue


@admin.register(ServiceDay)
class ServiceDayAdmin(ReadOnlyAdmin):
    # Generated, moved and added by events.services.days.
    list_display = ["date", "theme", "month", "is_extra", "moved_from"]
    list_filter = ["is_extra"]


@admin.register(Venue)
class VenueAdmin(LianxinAdmin):
    list_display = ["name", "day", "station", "kind", "address"]
    list_filter = ["kind"]
    list_select_related = ["day", "station"]
    search_fields = ["name", "address"]
    readonly_fields = ["day", "station"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Stall)
class StallAdmin(LianxinAdmin):
    list_display = ["service", "venue", "item", "people_served"]
    list_select_related = ["venue", "item"]
    search_fields = ["service"]
    fields = [
        "venue",
        "service",
        "item",
        "team",
        "organization",
        "merchant",
        "people_served",
        "notes",
    ]
    readonly_fields = ["venue", "item", "team", "organization", "merchant"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    # ``taken`` is kept by the sign-up services under the shift's row lock.
    list_display = ["stall", "starts_at", "ends_at", "capacity", "taken"]
    list_select_related = ["stall"]
    raw_id_fields = ["stall"]


@admin.register(SignUp)
class SignUpAdmin(ReadOnlyAdmin):
    list_display = ["shift", "volunteer", "status", "created_at", "checked_in_at", "checked_out_at"]
    list_filter = ["status"]
    list_select_related = ["shift", "volunteer"]
    search_fields = ["=volunteer__volunteer_no"]
    raw_id_fields = ["shift", "volunteer", "checked_in_by"]
