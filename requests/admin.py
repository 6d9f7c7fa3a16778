from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from center.admin_base import LianxinAdmin, ReadOnlyAdmin

from . import selectors, services
from .models import (
    ConsentScope,
    Device,
    DeviceCall,
    FollowUp,
    OrderEvent,
    OrderMonthStat,
    OrderOffer,
    Resident,
    ResidentConsent,
    ResidentContact,
    ResidentGroup,
    ResidentImport,
    ResidentPhone,
    ResidentSensitive,
    ServiceRequest,
    SpecialGroup,
)
from .services import residents as registry


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
            {
                "name": c.name,
                "relation": c.relation,
                "phone": c.phone,
                "kind": c.kind,
                "priority": c.priority,
            }
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


# --- The special-group registry (issue 11): writes go through requests.services.residents ---


@admin.register(SpecialGroup)
class SpecialGroupAdmin(LianxinAdmin):
    """Center managers add groups here (reference data: center.services.reference_save)."""

    list_display = ["name", "code", "kind", "is_sensitive", "order", "is_active"]
    list_filter = ["kind", "is_sensitive", "is_active"]
    search_fields = ["^code", "name"]
    prepopulated_fields = {}


class _SensitiveLookupsRefused:
    """A changelist is never filtered on a sensitive field: a URL such as
    ``?health_notes__contains=心脏`` would read the facts (through the rows it
    returns) without a log. Such lookups are refused (400); the facts are read
    on the change form, whose opening is logged."""

    sensitive_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split("__")[0] in self.sensitive_lookups:
            return False
        return super().lookup_allowed(lookup, value, request)


def _shown_group(membership) -> str:
    # A sensitive group's name is health data: masked in lists.
    return str(_("Special group")) if membership.group.is_sensitive else membership.group.name


class _ConsentGateForm(forms.ModelForm):
    """The service's consent gate asked in the form's clean, so the back
    office shows the refusal on the form (the service checks again)."""

    def _resident(self):
        return self.instance.resident if self.instance.pk else self.cleaned_data.get("resident")


class ResidentGroupAdminForm(_ConsentGateForm):
    def clean(self):
        data = super().clean()
        resident = self._resident()
        group = self.instance.group if self.instance.pk else data.get("group")
        if resident is not None and group is not None:
            if (
                group.is_sensitive
                or data.get("disability_category")
                or data.get("disability_level")
            ):
                registry.require_consent(resident, ConsentScope.DISABILITY)
        return data


class ResidentSensitiveAdminForm(_ConsentGateForm):
    def clean(self):
        data = super().clean()
        resident = self._resident()
        if resident is not None:
            needed = [registry.CONSENT_FOR[f] for f in registry.SENSITIVE_FIELDS if data.get(f)]
            registry.require_consent(resident, *needed)
        return data


@admin.register(ResidentGroup)
class ResidentGroupAdmin(_SensitiveLookupsRefused, LianxinAdmin):
    form = ResidentGroupAdminForm
    # Which group (a sensitive one is health data) and the disability facts.
    sensitive_lookups = ("group", "disability_category", "disability_level")
    list_display = ["resident", "group_shown", "verified_on", "verified_by"]
    list_select_related = ["resident", "group", "verified_by"]
    list_filter = [("verified_on", admin.DateFieldListFilter)]
    search_fields = ["^resident__name"]
    autocomplete_fields = ["resident"]
    fields = ["resident", "group", "disability_category", "disability_level", "verified_on", "note"]
    # Opening a form shows the group and the disability facts: logged.
    pii_fields = ("group", "disability_category", "disability_level")

    @admin.display(description=_("group"))
    def group_shown(self, obj):
        return _shown_group(obj)

    def get_readonly_fields(self, request, obj=None):
        return ["resident", "group"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        if change:
            data = {f: d[f] for f in registry.GROUP_FIELDS if f in d}
            registry.group_update(actor=request.user, membership=obj, data=data)
            return
        created = registry.group_add(
            actor=request.user,
            resident=d["resident"],
            group=d["group"],
            disability_category=d.get("disability_category") or "",
            disability_level=d.get("disability_level"),
            verified_on=d.get("verified_on"),
            note=d.get("note") or "",
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        registry.group_remove(actor=request.user, membership=obj)


class ResidentConsentAdminForm(forms.ModelForm):
    scope = forms.MultipleChoiceField(
        label=_("scope"), choices=ConsentScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ResidentConsent
        fields = ["resident", "scope", "method", "given_on"]


@admin.register(ResidentConsent)
class ResidentConsentAdmin(LianxinAdmin):
    form = ResidentConsentAdminForm
    """Recorded here or on the resident's page; withdrawn by the action
    (``consent_withdraw`` clears what it covered). Never edited."""

    list_display = ["resident", "given_on", "method", "scope", "taken_by", "withdrawn_at"]
    list_select_related = ["resident", "taken_by"]
    list_filter = ["method", ("given_on", admin.DateFieldListFilter)]
    search_fields = ["^resident__name"]
    autocomplete_fields = ["resident"]
    fields = ["resident", "scope", "method", "given_on"]
    actions = ["withdraw"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return  # read-only once recorded
        d = form.cleaned_data
        created = registry.consent_record(
            actor=request.user,
            resident=d["resident"],
            scope=list(d["scope"] or []),
            method=d["method"],
            given_on=d["given_on"],
        )
        obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Withdraw the selected consents"))
    def withdraw(self, request, queryset):
        from django.core.exceptions import ValidationError

        done = 0
        for consent in queryset.filter(withdrawn_at__isnull=True):
            try:
                registry.consent_withdraw(actor=request.user, consent=consent)
                done += 1
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), level="error")
        self.message_user(request, _("%(n)s consents withdrawn.") % {"n": done})


@admin.register(ResidentSensitive)
class ResidentSensitiveAdmin(_SensitiveLookupsRefused, LianxinAdmin):
    """Saved only under consent (``sensitive_update`` refuses otherwise);
    the list masks, the change form shows them and its opening is logged.
    Searched by the resident's name only; never filtered on the facts."""

    form = ResidentSensitiveAdminForm
    sensitive_lookups = ("id_number", "health_notes")
    list_display = ["resident", "masked_id_number", "has_health_notes", "updated_at"]
    list_select_related = ["resident"]
    search_fields = ["^resident__name"]
    autocomplete_fields = ["resident"]
    fields = ["resident", "id_number", "health_notes"]
    pii_fields = ("id_number", "health_notes")

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("health notes"), boolean=True)
    def has_health_notes(self, obj):
        return bool(obj.health_notes)

    def get_readonly_fields(self, request, obj=None):
        return ["resident"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        resident = obj.resident if change else d["resident"]
        saved = registry.sensitive_update(
            actor=request.user,
            resident=resident,
            data={"id_number": d.get("id_number", ""), "health_notes": d.get("health_notes", "")},
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # cleared by editing, or by withdrawing the consent


@admin.register(ResidentImport)
class ResidentImportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "filename", "created_by", "status", "created_count"]
    list_filter = ["status"]
    list_select_related = ["created_by"]
    exclude = ["rows"]


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

from .models import CareSlot, CareVisit, Pairing  # noqa: E402
from .services import care as care_services  # noqa: E402


@admin.register(Pairing)
class PairingAdmin(ReadOnlyAdmin):
    """Pairings change through the care pages (requests.services.care); the
    back office reads them and can end one."""

    list_display = [
        "resident",
        "volunteer",
        "cadence_days",
        "started_on",
        "last_visit_on",
        "next_visit_due",
        "ended_on",
    ]
    list_filter = [("ended_on", admin.EmptyFieldListFilter)]
    list_select_related = ["resident", "volunteer"]
    search_fields = ["=volunteer__volunteer_no"]
    actions = ["end_pairings"]

    @admin.action(description=_("End the selected pairings (back office)"))
    def end_pairings(self, request, queryset):
        ended = 0
        for pairing in queryset.filter(ended_on__isnull=True):
            care_services.pairing_end(
                actor=request.user, pairing=pairing, reason=str(_("Ended in the back office"))
            )
            ended += 1
        self.message_user(request, _("%(n)s pairings ended.") % {"n": ended})

    def get_actions(self, request):
        # ReadOnlyAdmin refuses change permission; the action is the one write.
        actions = super().get_actions(request)
        return actions if request.user.is_superuser else {}


@admin.register(CareVisit)
class CareVisitAdmin(ReadOnlyAdmin):
    list_display = ["visited_on", "resident", "volunteer", "minutes", "pairing", "recorded_by"]
    list_filter = [("visited_on", admin.DateFieldListFilter)]
    list_select_related = ["resident", "volunteer", "pairing", "recorded_by"]
    search_fields = ["=volunteer__volunteer_no"]


@admin.register(CareSlot)
class CareSlotAdmin(ReadOnlyAdmin):
    list_display = ["due_on", "resident", "volunteer", "taken_at", "visit"]
    list_filter = [("volunteer", admin.EmptyFieldListFilter)]
    list_select_related = ["resident", "volunteer", "visit"]


# --- Micro-wishes (issue 11): the wishes helper adds its admin below ---

from django.core.exceptions import ValidationError  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.html import format_html  # noqa: E402

from .models import MicroWish, WishAdoption  # noqa: E402
from .services import wishes as wish_services  # noqa: E402


class WishAdoptionInline(admin.TabularInline):
    model = WishAdoption
    extra = 0
    can_delete = False
    fields = ["volunteer", "organization", "shares", "amount", "is_remote", "deliverer", "status"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _wish_action(step: str, label):
    """An admin action calling the wish's service for each selected wish;
    a refused one is reported, the others go on."""

    def action(modeladmin, request, queryset):
        service = getattr(wish_services, f"wish_{step}")
        done = 0
        for wish in queryset:
            try:
                service(actor=request.user, wish=wish)
                done += 1
            except ValidationError as exc:
                modeladmin.message_user(request, f"{wish}: {' '.join(exc.messages)}", "error")
        modeladmin.message_user(request, _("%(n)s wishes updated.") % {"n": done})

    action.__name__ = f"wish_{step}"
    action.short_description = label
    return action


@admin.register(MicroWish)
class MicroWishAdmin(ReadOnlyAdmin):
    """Wishes change only through their services (the staff pages, these
    actions): the status is never edited here."""

    list_display = ["title", "resident", "community", "station", "status", "round", "deadline"]
    list_filter = ["status", "kind", "priority"]
    list_select_related = ["resident", "community", "station"]
    search_fields = ["title"]
    inlines = [WishAdoptionInline]
    actions = [
        _wish_action("verify", _("Verify the selected wishes")),
        _wish_action("publish", _("Publish the selected wishes")),
        _wish_action("confirm", _("Confirm the selected wishes fulfilled")),
    ]
    # The photos' storage URL is served by nothing: link the staff view instead.
    exclude = ["photo", "fulfilment_photo"]
    readonly_fields = ["photo_link", "fulfilment_photo_link"]

    @admin.display(description=_("photo"))
    def photo_link(self, obj):
        return _wish_photo_link(obj, obj.photo, "wish")

    @admin.display(description=_("fulfilment photo"))
    def fulfilment_photo_link(self, obj):
        return _wish_photo_link(obj, obj.fulfilment_photo, "fulfilment")


def _wish_photo_link(wish, photo, which: str):
    if not photo:
        return "—"
    url = reverse("requests:wish_photo", args=[wish.pk, which])
    return format_html('<a href="{}">{}</a>', url, _("Open the photo"))


@admin.register(WishAdoption)
class WishAdoptionAdmin(ReadOnlyAdmin):
    list_display = ["wish", "volunteer", "organization", "shares", "amount", "status", "adopted_at"]
    list_filter = ["status", "is_remote"]
    list_select_related = ["wish", "volunteer", "organization"]
    search_fields = ["=wish__title"]


# --- The call log and unmatched requests (issue 14, part A): read-only ---------

from .models import CallLog, UnmatchedRequest  # noqa: E402


@admin.register(CallLog)
class CallLogAdmin(ReadOnlyAdmin):
    """Calls are logged by ``services.calls`` only: the admin reads. The
    number is masked in the list and shown in full on the call's page, each
    opening logged (``pii_fields``), as orders' caller numbers are; the
    search is by order number, exact (the ``call_*`` indexes hold no number)."""

    list_display = ["at", "kind", "masked_number", "resident", "order", "station", "operator"]
    list_filter = ["kind", ("at", admin.DateFieldListFilter)]
    list_select_related = ["resident", "order", "station", "operator"]
    search_fields = ["order__number"]
    pii_fields = ("number",)
    raw_id_fields = ["resident", "order", "station", "operator", "category"]

    @admin.display(description=_("caller number"))
    def masked_number(self, obj):
        return obj.masked_number

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        return (queryset.filter(order__number=term) if term else queryset), False


@admin.register(UnmatchedRequest)
class UnmatchedRequestAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "text", "category", "source", "mentions", "station"]
    list_filter = ["source", "category", ("occurred_on", admin.DateFieldListFilter)]
    list_select_related = ["category", "station"]
    search_fields = ["text"]
    raw_id_fields = ["call", "community", "station", "recorded_by", "category"]
