from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from center.accounts import activation_codes_shown
from center.admin_base import LianxinAdmin, ReadOnlyAdmin

from . import services
from .models import (
    AvailabilitySlot,
    Certificate,
    Complaint,
    HoursEntry,
    ImportBatch,
    Merchant,
    MerchantOffer,
    Organization,
    Post,
    PostClaim,
    Provider,
    ProviderItem,
    Sanction,
    ServiceTeam,
    Volunteer,
)


def _show_code(model_admin, request, issued) -> None:
    """The new provider's first activation code, shown once to whoever saved it."""
    from django.urls import reverse
    from django.utils import timezone

    model_admin.message_user(
        request,
        _(
            "Login created. Activation code for %(name)s: %(code)s (valid until %(until)s). "
            "Hand it over: they set their password at %(url)s."
        )
        % {
            "name": issued.user,
            "code": issued.code,
            "until": timezone.localtime(issued.expires_at).strftime("%Y-%m-%d %H:%M"),
            "url": request.build_absolute_uri(reverse("account_activate")),
        },
        messages.WARNING,
    )
    activation_codes_shown(actor=request.user, issued=[issued], purpose="admin")


def _fields(form, names) -> dict:
    """The cleaned values of the service's fields that this admin form has."""
    return {f: form.cleaned_data[f] for f in names if f in form.cleaned_data}


class ServiceAdmin(LianxinAdmin):
    """Saves and deletes go through the app's services (validated, locked,
    audited): the admin never writes a row itself. Each admin's ``save_model``
    calls its create/update service and hands it the many-to-many fields, so
    ``save_related`` saves inlines only. Deleting is off unless the admin
    sets ``deletes`` and calls its delete service in ``delete_model``; the
    bulk action deletes one object at a time through it."""

    deletes = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request, obj=None):
        return self.deletes and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        raise PermissionDenied

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Organization)
class OrganizationAdmin(ServiceAdmin):
    list_display = ["name", "kind", "contact_name"]
    list_filter = ["kind"]
    search_fields = ["^name"]
    deletes = True

    def save_model(self, request, obj, form, change):
        data = _fields(form, services.ORGANIZATION_FIELDS)
        if change:
            services.organization_update(actor=request.user, organization=obj, data=data)
        else:
            obj.pk = services.organization_create(actor=request.user, data=data).pk

    def delete_model(self, request, obj):
        services.organization_delete(actor=request.user, organization=obj)


@admin.register(Volunteer)
class VolunteerAdmin(ServiceAdmin):
    list_display = [
        "volunteer_no",
        "name",
        "masked_mobile",
        "kind",
        "station",
        "organization",
        "status",
        "on_duty",
        "verified_hours",
    ]
    list_filter = ["status", "kind", "is_party_member", "on_duty"]
    list_select_related = ["station", "organization"]
    # Exact number or mobile, name prefix: each served by an index.
    search_fields = ["=volunteer_no", "=mobile", "^name"]
    autocomplete_fields = [
        "station",
        "community",
        "organization",
        "specialties",
        "service_items",
    ]
    # The ID number is never shown here: reveals go through the portal and are logged.
    pii_fields = ("mobile",)
    # No delete (``deletes`` stays off): a provider leaves through the ladder's
    # red card, and a deleted row would leave its login able to sign in.
    exclude = ["id_number", "verified_hours", "status", "suspended_until"]
    # The login is made by volunteer_create (center.accounts) and never edited
    # here: a picker sent back a value the service ignored, so a login chosen
    # here was silently dropped.
    readonly_fields = [
        "user",
        "volunteer_no",
        "masked_id_number",
        "verified_hours",
        "status",
        "suspended_until",
    ]

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return obj.masked_mobile

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj):
        return obj.masked_id_number

    def save_model(self, request, obj, form, change):
        data = _fields(form, services.VOLUNTEER_FIELDS)
        m2m = _fields(form, ("specialties", "service_items"))
        if change:
            services.volunteer_update(actor=request.user, volunteer=obj, data=data, **m2m)
        else:
            created = services.volunteer_create(actor=request.user, data=data, **m2m)
            obj.pk, obj.volunteer_no, obj.user = created.pk, created.volunteer_no, created.user
            _show_code(self, request, created.activation)


class MerchantOfferInline(admin.TabularInline):
    model = MerchantOffer
    autocomplete_fields = ["item"]
    extra = 0
    # Prices go through services.merchant_offer_set (the center-price rule).
    readonly_fields = ["item", "price"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Merchant)
class MerchantAdmin(ServiceAdmin):
    list_display = ["name", "kind", "licence_no", "contact_name", "masked_mobile", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["=licence_no", "=mobile", "^name"]
    pii_fields = ("mobile",)
    autocomplete_fields = ["stations"]
    # The login is made by merchant_create (center.accounts), as for volunteers;
    # no delete, as for volunteers.
    readonly_fields = ["user", "status", "suspended_until"]
    inlines = [MerchantOfferInline]

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return obj.masked_mobile

    def save_model(self, request, obj, form, change):
        data = _fields(form, services.MERCHANT_FIELDS)
        stations = form.cleaned_data.get("stations")
        if change:
            services.merchant_update(actor=request.user, merchant=obj, data=data, stations=stations)
        else:
            created = services.merchant_create(actor=request.user, data=data, stations=stations)
            obj.pk, obj.user = created.pk, created.user
            _show_code(self, request, created.activation)


@admin.register(ServiceTeam)
class ServiceTeamAdmin(ServiceAdmin):
    list_display = ["name", "kind", "specialty", "station", "leader", "is_active"]
    list_filter = ["kind", "is_active", "specialty"]
    list_select_related = ["specialty", "station", "leader"]
    search_fields = ["^name"]
    autocomplete_fields = ["specialty", "station", "leader", "members"]
    deletes = True

    def save_model(self, request, obj, form, change):
        data = _fields(form, services.TEAM_FIELDS)
        members = form.cleaned_data.get("members")
        if change:
            services.team_update(actor=request.user, team=obj, data=data, members=members)
        else:
            obj.pk = services.team_create(
                actor=request.user, data=data, members=() if members is None else members
            ).pk

    def delete_model(self, request, obj):
        services.team_delete(actor=request.user, team=obj)


@admin.register(Post)
class PostAdmin(ServiceAdmin):
    list_display = ["title", "kind", "station", "capacity", "is_open"]
    list_filter = ["kind", "is_open"]
    list_select_related = ["station"]
    search_fields = ["^title"]
    autocomplete_fields = ["station"]
    deletes = True

    def save_model(self, request, obj, form, change):
        data = _fields(form, services.POST_FIELDS)
        if change:
            services.post_update(actor=request.user, post=obj, data=data)
        else:
            obj.pk = services.post_create(actor=request.user, data=data).pk

    def delete_model(self, request, obj):
        services.post_delete(actor=request.user, post=obj)


@admin.register(PostClaim)
class PostClaimAdmin(ReadOnlyAdmin):
    list_display = ["post", "volunteer", "status", "claimed_at", "reported_at"]
    list_filter = ["status"]
    list_select_related = ["post", "volunteer"]
    search_fields = ["=volunteer__volunteer_no"]


@admin.register(HoursEntry)
class HoursEntryAdmin(ReadOnlyAdmin):
    list_display = ["date", "volunteer", "hours", "source", "station", "verified_at"]
    list_filter = ["source", ("date", admin.DateFieldListFilter)]
    list_select_related = ["volunteer", "station"]
    search_fields = ["=volunteer__volunteer_no", "=source_ref"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "volunteer", "station", "total_hours", "issued_at", "issued_by"]
    list_select_related = ["volunteer", "station", "issued_by"]
    search_fields = ["=number", "=volunteer__volunteer_no"]
    exclude = ["snapshot"]  # it holds the full ID number


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ["pk", "recorded_at", "provider", "status", "ruled_by"]
    list_filter = ["status"]
    list_select_related = ["provider", "ruled_by"]
    search_fields = ["=provider__volunteer__volunteer_no", "^provider__name"]
    actions = ["rule_invalid"]

    @admin.action(description=_("Rule selected pending complaints invalid (bulk clean-up)"))
    def rule_invalid(self, request, queryset):
        done = 0
        for complaint in queryset.filter(status=Complaint.Status.PENDING):
            try:
                services.complaint_rule(
                    actor=request.user,
                    complaint=complaint,
                    valid=False,
                    reason=str(_("Ruled invalid in bulk from the back office")),
                )
                done += 1
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
        self.message_user(request, _("%(n)s complaints ruled invalid.") % {"n": done})


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "level",
        "provider",
        "starts_on",
        "ends_on",
        "status",
    ]
    list_filter = ["level", "status"]
    list_select_related = ["provider"]
    search_fields = ["=provider__volunteer__volunteer_no", "^provider__name"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "filename", "created_by", "status", "created_count"]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]
    exclude = ["rows"]


class AvailabilitySlotInline(admin.TabularInline):
    model = AvailabilitySlot
    extra = 0
    can_delete = False
    readonly_fields = ["weekday", "start_minute", "end_minute"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Provider)
class ProviderAdmin(ReadOnlyAdmin):
    """The dispatch copy of every volunteer, merchant and team: read-only here,
    kept by their saves and by the order services."""

    list_display = ["name", "kind", "station", "on_duty", "status", "open_orders", "last_taken_at"]
    list_filter = ["kind", "status", "on_duty"]
    list_select_related = ["station"]
    search_fields = ["^name", "=volunteer__volunteer_no"]
    inlines = [AvailabilitySlotInline]


@admin.register(AvailabilitySlot)
class AvailabilitySlotAdmin(ReadOnlyAdmin):
    list_display = ["provider", "weekday", "start_minute", "end_minute"]
    list_select_related = ["provider"]
    search_fields = ["^provider__name"]


@admin.register(ProviderItem)
class ProviderItemAdmin(ReadOnlyAdmin):
    list_display = ["provider", "item", "station"]
    list_select_related = ["provider", "item", "station"]
    search_fields = ["^provider__name"]
