"""The back office for service days: read-mostly. Sign-ups, places taken and
attendance change only through ``events.services`` (locked, audited); the
admin shows them. Venue and stall details (names, address, people served,
notes) are plain data, saved through ``reference_save`` (audited).
Activities, participations (hours credited once), photos (checked and
re-encoded), highlights and calendar tokens change only on the portal's
pages, through their services; the back office reads them."""

from django.contrib import admin

from center.admin_base import LianxinAdmin, ReadOnlyAdmin

from .models import (
    Activity,
    CalendarFeed,
    EventPhoto,
    Highlight,
    Participation,
    ServiceDay,
    Shift,
    SignUp,
    Stall,
    Venue,
)


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


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "status", "date", "station", "people_served"]
    list_filter = ["kind", "status"]
    list_select_related = ["station"]
    search_fields = ["title", "organizer"]
    raw_id_fields = ["station", "area", "specialty", "created_by"]


@admin.register(Participation)
class ParticipationAdmin(ReadOnlyAdmin):
    list_display = ["activity", "volunteer", "status", "hours", "created_at"]
    list_filter = ["status"]
    list_select_related = ["activity", "volunteer"]
    search_fields = ["=volunteer__volunteer_no"]
    raw_id_fields = ["activity", "volunteer", "recorded_by"]


@admin.register(EventPhoto)
class EventPhotoAdmin(ReadOnlyAdmin):
    # The file is shown on the portal (events:photo), where who may see it is checked.
    list_display = ["pk", "caption", "stall", "activity", "publishable", "created_at"]
    list_filter = ["publishable"]
    list_select_related = ["stall", "activity"]
    exclude = ["image"]
    raw_id_fields = ["stall", "activity", "uploaded_by"]


@admin.register(Highlight)
class HighlightAdmin(ReadOnlyAdmin):
    list_display = ["title", "period", "period_start", "position", "chosen_by"]
    list_filter = ["period"]
    list_select_related = ["chosen_by"]
    raw_id_fields = ["service_day", "stall", "activity", "chosen_by"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    # The token is a secret (it opens the volunteer's feed): never shown.
    list_display = ["volunteer", "created_at"]
    list_select_related = ["volunteer"]
    exclude = ["token"]
    raw_id_fields = ["volunteer"]

    def lookup_allowed(self, lookup, value, request=None):
        # ?token__startswith=… would read the secret back one character at a time.
        if lookup.split("__")[0] == "token":
            return False
        return super().lookup_allowed(lookup, value, request)
