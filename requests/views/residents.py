"""The special-group registry's pages: the residents list, a resident's page
and its edit pages, the sensitive block (masked, logged tap to reveal), the
export and the import. Who may do what: docs/privacy.md.

The list and the resident page take ``resident_list``'s scope; every
sensitive read and every registry write takes ``registry_scope``
(``get_resident_for_registry``, ``export_list``): a station manager who sees
a resident only through an order routed to their station gets a 404 there."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import DetailView
from django_filters.views import FilterView

from center.audit import pii_shown
from center.models import Role
from center.pagination import CappedPaginator
from center.roles import STAFF_ROLES, RoleRequiredMixin, require_role
from center.viewmixins import ServiceFormView, add_service_errors, service_errors_to_messages

from .. import services
from ..filters import ResidentFilter
from ..forms import (
    ConsentForm,
    ContactForm,
    GroupForm,
    ResidentEditForm,
    ResidentImportForm,
    SensitiveForm,
)
from ..models import ConsentScope, ResidentImport, ResidentSensitive
from ..selectors import residents as registry
from ..services import residents as registry_services

STAFF = tuple(STAFF_ROLES)
MANAGERS = (Role.STATION_MANAGER, Role.CENTER_MANAGER)


class ResidentListView(RoleRequiredMixin, FilterView):
    """Residents in the user's scope, newest first, filtered; the count is
    capped (CappedPaginator)."""

    allowed_roles = STAFF
    filterset_class = ResidentFilter
    template_name = "requests/resident_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return registry.registry_list(user=self.request.user)

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "results":
            return ["requests/_resident_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        registry.with_badges(ctx["object_list"])
        ctx["may_export"] = registry.may_reveal(self.request.user)
        ctx["may_import"] = registry.may_edit_registry(self.request.user)
        ctx["export_query"] = self.request.GET.urlencode()
        return ctx


def resident_export(request):
    """CSV of the filtered list with sensitive data in full (managers): one
    access-log row per resident exported (``center.pii.exported``)."""
    require_role(request.user, *MANAGERS)
    filterset = ResidentFilter(
        request.GET, queryset=registry.export_list(user=request.user), request=request
    )
    if not filterset.is_valid():
        raise Http404
    rows = registry.export_rows(filterset.qs, registry_services.EXPORT_LIMIT)
    content = registry_services.residents_export(actor=request.user, residents=rows)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="lianxin-residents-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


class ResidentDetailView(RoleRequiredMixin, DetailView):
    allowed_roles = STAFF
    template_name = "requests/resident_detail.html"
    context_object_name = "resident"

    def get_object(self, queryset=None):
        return registry.get_resident_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(registry.resident_detail_context(user=self.request.user, resident=self.object))
        return ctx


def _consent_refused(exc: ValidationError) -> bool:
    """Whether a service refused the save for want of the resident's consent
    (``services.residents.require_consent``)."""
    errors = [] if hasattr(exc, "error_dict") else exc.error_list
    return any(e.code == "consent_required" for e in errors)


class _ResidentFormView(ServiceFormView):
    """A form about one resident of the user's registry scope (404 otherwise,
    a resident seen only through an order included), with a way back to the
    resident's page. A form that saves sensitive data (``consent_scopes``)
    shows up front which of them a consent in force covers, and a refusal
    for want of consent links to the page that records it."""

    allowed_roles = MANAGERS
    template_name = "requests/resident_registry_form.html"
    consent_scopes: tuple[str, ...] = ()
    consent_link = True  # False on the consent page itself
    consent_note = gettext_lazy(
        "What no consent in force covers cannot be saved: record the resident's separate "
        "consent first."
    )

    def load(self, **kwargs):
        self.resident = registry.get_resident_for_registry(user=self.request.user, pk=kwargs["pk"])

    def success_url_for(self, obj):
        return self.resident.get_absolute_url()

    def form_valid(self, form):
        # ServiceFormView.form_valid, with the consent link added to a refusal.
        try:
            obj = self.save(form)
        except ValidationError as exc:
            add_service_errors(form, self.save_refused(exc))
            return self.form_invalid(form)
        return self.success_response(obj)

    def save_refused(self, exc: ValidationError) -> ValidationError:
        """A service's refusal for want of consent, with the link to record
        it in the message (the form's error area)."""
        if not (self.consent_link and _consent_refused(exc)):
            return exc
        url = reverse("requests:resident_consent_record", args=[self.resident.pk])
        return ValidationError(
            [
                format_html(
                    '{} <a href="{}" class="alert-link" data-testid="consent-record-link">{}</a>',
                    message,
                    url,
                    _("Record the consent"),
                )
                for message in exc.messages
            ],
            code="consent_required",
        )

    def get_context_data(self, **kwargs):
        ctx = {**super().get_context_data(**kwargs), "resident": self.resident}
        if self.consent_scopes:
            states = registry.consent_states(self.resident, self.consent_scopes)
            ctx["consent_states"] = states
            ctx["consent_missing"] = self.consent_link and not all(c.in_force for c in states)
            ctx["consent_note"] = self.consent_note
        return ctx


class ResidentEditView(_ResidentFormView):
    allowed_roles = STAFF
    form_class = ResidentEditForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.resident
        return kwargs

    def title(self):
        return _("Edit %(name)s") % {"name": self.resident.name}

    def save(self, form):
        data = {
            k: form.cleaned_data[k] for k in ("name", "address", "community", "is_free", "notes")
        }
        # The form wrote its values onto the instance; the service compares
        # them with the stored row.
        return services.resident_update(actor=self.request.user, resident=self.resident, data=data)


GROUP_CONSENT_NOTE = gettext_lazy(
    "A disability group and disability facts are saved only under a consent covering "
    "disability; other groups need none."
)


class GroupAddView(_ResidentFormView):
    form_class = GroupForm
    consent_scopes = (ConsentScope.DISABILITY,)
    consent_note = GROUP_CONSENT_NOTE

    def title(self):
        return _("Add %(name)s to a special group") % {"name": self.resident.name}

    def save(self, form):
        d = form.cleaned_data
        return registry_services.group_add(
            actor=self.request.user,
            resident=self.resident,
            group=d["group"],
            disability_category=d["disability_category"],
            disability_level=d["disability_level"],
            verified_on=d["verified_on"],
            note=d["note"],
        )

    def success_message(self):
        return _("Added to the group.")


class GroupEditView(_ResidentFormView):
    form_class = GroupForm
    consent_scopes = (ConsentScope.DISABILITY,)
    consent_note = GROUP_CONSENT_NOTE

    def load(self, **kwargs):
        super().load(**kwargs)
        self.membership = registry.get_membership(resident=self.resident, pk=kwargs["gid"])
        if self.request.method == "GET" and (
            self.membership.disability_category or self.membership.disability_level
        ):
            # The form shows the disability facts: an opening is a showing.
            pii_shown(
                actor=self.request.user,
                target=self.resident,
                fields=["disability"],
                purpose="edit",
            )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "adding": False}

    def get_initial(self):
        m = self.membership
        return {
            "disability_category": m.disability_category,
            "disability_level": m.disability_level,
            "verified_on": m.verified_on,
            "note": m.note,
        }

    def title(self):
        return _("%(group)s: %(name)s") % {
            "group": self.membership.group.name,
            "name": self.resident.name,
        }

    def save(self, form):
        return registry_services.group_update(
            actor=self.request.user, membership=self.membership, data=form.cleaned_data
        )


@require_POST
def group_remove(request, pk: int, gid: int):
    require_role(request.user, *MANAGERS)
    resident = registry.get_resident_for_registry(user=request.user, pk=pk)
    membership = registry.get_membership(resident=resident, pk=gid)
    try:
        registry_services.group_remove(actor=request.user, membership=membership)
        messages.success(request, _("Removed from the group."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(resident.get_absolute_url())


class ContactAddView(_ResidentFormView):
    allowed_roles = STAFF
    form_class = ContactForm

    def title(self):
        return _("Emergency contact of %(name)s") % {"name": self.resident.name}

    def save(self, form):
        return registry_services.contact_add(
            actor=self.request.user, resident=self.resident, data=form.cleaned_data
        )


class ContactEditView(_ResidentFormView):
    allowed_roles = STAFF
    form_class = ContactForm

    def load(self, **kwargs):
        super().load(**kwargs)
        self.contact = registry.get_contact(resident=self.resident, pk=kwargs["cid"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "masked_phone": self.contact.masked_phone}

    def get_initial(self):
        c = self.contact
        return {"name": c.name, "relation": c.relation, "kind": c.kind, "priority": c.priority}

    def title(self):
        return _("Emergency contact of %(name)s") % {"name": self.resident.name}

    def save(self, form):
        data = dict(form.cleaned_data)
        if not data.get("phone"):
            data.pop("phone", None)  # empty keeps the stored number
        return registry_services.contact_update(
            actor=self.request.user, contact=self.contact, data=data
        )


@require_POST
def contact_remove(request, pk: int, cid: int):
    require_role(request.user, *STAFF)
    resident = registry.get_resident_for_registry(user=request.user, pk=pk)
    contact = registry.get_contact(resident=resident, pk=cid)
    registry_services.contact_remove(actor=request.user, contact=contact)
    messages.success(request, _("Contact removed."))
    return redirect(resident.get_absolute_url())


class ConsentRecordView(_ResidentFormView):
    form_class = ConsentForm
    # What is already in force, so as not to record it twice; no link to itself.
    consent_scopes = tuple(ConsentScope.values)
    consent_link = False

    def get_initial(self):
        return {"given_on": timezone.localdate()}

    def title(self):
        return _("Consent of %(name)s to sensitive information") % {"name": self.resident.name}

    def save(self, form):
        d = form.cleaned_data
        return registry_services.consent_record(
            actor=self.request.user,
            resident=self.resident,
            scope=d["scope"],
            method=d["method"],
            given_on=d["given_on"],
        )

    def success_message(self):
        return _("Consent recorded.")


@require_POST
def consent_withdraw(request, pk: int, cid: int):
    require_role(request.user, *MANAGERS)
    resident = registry.get_resident_for_registry(user=request.user, pk=pk)
    consent = registry.get_consent(resident=resident, pk=cid)
    try:
        registry_services.consent_withdraw(actor=request.user, consent=consent)
        messages.success(
            request, _("Consent withdrawn; the information it covered has been deleted.")
        )
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(resident.get_absolute_url())


@method_decorator(never_cache, name="dispatch")  # the page holds the health notes
class SensitiveEditView(_ResidentFormView):
    form_class = SensitiveForm
    consent_scopes = (ConsentScope.ID_NUMBER, ConsentScope.HEALTH)

    def load(self, **kwargs):
        super().load(**kwargs)
        self.sensitive = ResidentSensitive.objects.filter(resident=self.resident).first()
        if self.request.method == "GET" and self.sensitive and self.sensitive.health_notes:
            # The health notes are in the form to edit them: an opening is a showing.
            pii_shown(
                actor=self.request.user,
                target=self.resident,
                fields=["health_notes"],
                purpose="edit",
            )

    def get_form_kwargs(self):
        masked = self.sensitive.masked_id_number if self.sensitive else ""
        return {**super().get_form_kwargs(), "masked_id": masked}

    def get_initial(self):
        return {"health_notes": self.sensitive.health_notes if self.sensitive else ""}

    def title(self):
        return _("Sensitive information of %(name)s") % {"name": self.resident.name}

    def save(self, form):
        d = form.cleaned_data
        data = {"health_notes": d["health_notes"]}
        if d.get("clear_id_number"):
            data["id_number"] = ""
        elif d["id_number"]:
            data["id_number"] = d["id_number"]
        return registry_services.sensitive_update(
            actor=self.request.user, resident=self.resident, data=data
        )


@never_cache
@require_POST
def sensitive_reveal(request, pk: int):
    """htmx: the sensitive block in full, logged (center.pii.revealed);
    managers in registry scope only (operators 403, another station's
    resident 404, and so is one seen only through an order)."""
    require_role(request.user, *MANAGERS)
    resident = registry.get_resident_for_registry(user=request.user, pk=pk)
    data = registry_services.sensitive_reveal(actor=request.user, resident=resident)
    return render(
        request, "requests/_resident_sensitive_revealed.html", {"resident": resident, **data}
    )


# --- Import --------------------------------------------------------------------------------


class ResidentImportView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = ResidentImportForm
    template_name = "requests/resident_import.html"

    def title(self):
        return _("Import special-group residents")

    def save(self, form):
        upload = form.cleaned_data["file"]
        return registry_services.import_preview(
            actor=self.request.user, filename=upload.name, content=upload.read()
        )

    def success_message(self):
        return _("File read. Check the preview, then apply it.")


class ResidentImportPreviewView(RoleRequiredMixin, DetailView):
    allowed_roles = MANAGERS
    template_name = "requests/resident_import_preview.html"
    context_object_name = "batch"

    def get_queryset(self):
        return registry.import_batches_for(user=self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        from center.masking import mask_mobile

        fields = [f for f in registry_services.IMPORT_HEADERS if f != "notes"]
        ctx["columns"] = [registry_services.IMPORT_HEADERS[f][0] for f in fields]
        rows = []
        for row in self.object.rows[:100]:
            values = []
            for f in fields:
                v = row.get(f, "")
                if f in ("phones", "contact_phone"):  # masked on the preview
                    v = " ".join(mask_mobile(p) for p in registry_services._split(v))
                values.append(v)
            rows.append(values)
        ctx["preview_rows"] = rows
        return ctx


def resident_import_template(request, fmt: str):
    require_role(request.user, *MANAGERS)
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else "text/csv; charset=utf-8"
    )
    response = HttpResponse(registry_services.import_template(fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="lianxin-residents-template.{fmt}"'
    return response


@require_POST
def resident_import_apply(request, pk: int):
    require_role(request.user, *MANAGERS)
    batch = get_object_or_404(registry.import_batches_for(user=request.user), pk=pk)
    try:
        batch = registry_services.import_apply(actor=request.user, batch=batch)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    else:
        if batch.status == ResidentImport.Status.APPLIED:
            messages.success(request, _("%(n)s rows imported.") % {"n": batch.created_count})
        else:
            messages.error(request, _("The file was rejected: nothing was imported."))
    return redirect(reverse("requests:resident_import_preview", args=[batch.pk]))


__all__ = [
    "ResidentListView",
    "resident_export",
    "ResidentDetailView",
    "ResidentEditView",
    "GroupAddView",
    "GroupEditView",
    "group_remove",
    "ContactAddView",
    "ContactEditView",
    "contact_remove",
    "ConsentRecordView",
    "consent_withdraw",
    "SensitiveEditView",
    "sensitive_reveal",
    "ResidentImportView",
    "ResidentImportPreviewView",
    "resident_import_template",
    "resident_import_apply",
]
