from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_base import LianxinAdmin, ReadOnlyAdmin
from .masking import mask_mobile
from .models import (
    ActivationCode,
    Area,
    AuditEntry,
    Delivery,
    Notification,
    Role,
    ServiceCategory,
    ServiceItem,
    Specialty,
    Station,
    User,
)


@admin.register(Area)
class AreaAdmin(LianxinAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    list_select_related = ["parent"]
    search_fields = ["^code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(Station)
class StationAdmin(LianxinAdmin):
    list_display = ["code", "name", "kind", "district", "parent", "is_active"]
    list_filter = ["kind", "is_active", "district"]
    list_select_related = ["district", "parent"]
    search_fields = ["^code", "name"]
    autocomplete_fields = ["parent", "district", "communities"]

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.STATION_FIELDS if f in form.cleaned_data}
        # The form has validated the model (Station.clean holds the rules);
        # communities are saved by save_related through the form.
        if change:
            services.station_update(actor=request.user, station=obj, data=data)
        else:
            obj.pk = services.station_create(actor=request.user, data=data).pk


@admin.register(Specialty)
class SpecialtyAdmin(LianxinAdmin):
    list_display = ["code", "name"]
    search_fields = ["^code", "name"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(LianxinAdmin):
    list_display = ["code", "name", "sort_order", "is_active"]
    search_fields = ["^code", "name"]


@admin.register(ServiceItem)
class ServiceItemAdmin(LianxinAdmin):
    list_display = [
        "code",
        "name",
        "category",
        "specialty",
        "market_price",
        "center_price",
        "free_for_special_groups",
        "is_active",
    ]
    list_filter = ["category", "specialty", "free_for_special_groups", "is_active"]
    list_select_related = ["category", "specialty"]
    search_fields = ["^code", "name"]
    autocomplete_fields = ["category", "specialty"]

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.ITEM_FIELDS if f in form.cleaned_data}
        if change:
            services.service_item_update(actor=request.user, item=obj, data=data)
        else:
            obj.pk = services.service_item_create(actor=request.user, data=data).pk


class UserRoleFormMixin:
    """The role rule (user_set_role's) checked on the form, so the back office
    shows it next to the field instead of failing on save."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.STATION_MANAGER and not cleaned.get("stations"):
            self.add_error("stations", _("A station manager must be given at least one station."))
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin, LianxinAdmin):
    list_display = ["username", "full_name", "masked_mobile", "role", "is_active", "is_staff"]
    pii_fields = ("mobile",)
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["^username", "=mobile", "full_name"]
    autocomplete_fields = ["stations"]
    readonly_fields = ["last_login", "date_joined"]  # the login's history, not editable
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Lianxin"), {"fields": ("mobile", "full_name", "role", "stations")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Lianxin"), {"fields": ("mobile", "full_name")}),
    )

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:  # the change form: a station manager needs a station
            form = type("UserRoleForm", (UserRoleFormMixin, form), {})
        return form

    def save_model(self, request, obj, form, change):
        # The add form built the login (username, password hash); the change
        # form's details go through user_update; role and stations only
        # through user_set_role (save_related), which also sets is_staff.
        if change:
            data = {f: form.cleaned_data[f] for f in services.USER_FIELDS if f in form.cleaned_data}
            services.user_update(actor=request.user, user=obj, data=data)
        else:
            services.reference_save(actor=request.user, obj=obj, fields=form.changed_data)

    def save_related(self, request, form, formsets, change):
        # Stations are the role's business: the form must not write them itself.
        stations = form.cleaned_data.pop("stations", None)
        super().save_related(request, form, formsets, change)
        if change and {"role", "stations"} & set(form.changed_data):
            services.user_set_role(
                actor=request.user,
                user=form.instance,
                role=form.cleaned_data.get("role", ""),
                stations=stations or [],
            )


class AccessLogFilter(admin.SimpleListFilter):
    """The PIPL access log (docs/privacy.md): reveals and exports of personal
    data. Fixed choices, no query; ``?action=`` (exact) also works."""

    title = _("access log")
    parameter_name = "pii"

    def lookups(self, request, model_admin):
        return [
            ("revealed", _("Shown (center.pii.revealed)")),
            ("exported", _("Exported (center.pii.exported)")),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("revealed", "exported"):
            return queryset.filter(action=f"center.pii.{self.value()}")  # index on action
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor", "target_type", "target_id"]
    # A date filter that runs no query; date_hierarchy would scan for distinct dates.
    list_filter = [AccessLogFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["actor"]
    search_fields = ["=target_id", "^action"]


@admin.register(ActivationCode)
class ActivationCodeAdmin(ReadOnlyAdmin):
    """Who has a code waiting, until when; never the code (only its hash is
    stored, and even that is not shown). Codes are issued from the provider's page."""

    list_display = ["user", "issued_at", "issued_by", "expires_at", "used_at", "failures"]
    list_select_related = ["user", "issued_by"]
    search_fields = ["^user__username", "=user__mobile"]
    exclude = ["code_hash"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "read_at"]
    list_select_related = ["recipient"]
    search_fields = ["=key", "^recipient__username"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The outbox (center.delivery), read-only; a failed message is sent
    again with the action (``delivery_resend``: audited)."""

    list_display = [
        "created_at",
        "channel",
        "masked_address",
        "message",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["recipient"]
    search_fields = ["=key", "=address"]
    exclude = ["address"]
    readonly_fields = ["masked_address"]
    raw_id_fields = ["notification", "recipient"]
    actions = ["resend"]

    @admin.display(description=_("sent to"))
    def masked_address(self, obj):
        if obj.channel == Delivery.Channel.SMS:
            return mask_mobile(obj.address)
        name, _at, domain = obj.address.partition("@")
        return f"{name[:1]}***@{domain}" if domain else "***"

    @admin.action(description=_("Send the failed messages again"))
    def resend(self, request, queryset):
        from django.contrib import messages as admin_messages

        from .delivery import delivery_resend

        done = 0
        for delivery in queryset.filter(
            status__in=[Delivery.Status.FAILED, Delivery.Status.CANCELLED]
        )[:500]:
            delivery_resend(actor=request.user, delivery=delivery)
            done += 1
        self.message_user(
            request,
            _("%(count)s message(s) queued again.") % {"count": done},
            admin_messages.SUCCESS,
        )

    def has_change_permission(self, request, obj=None):
        return False
