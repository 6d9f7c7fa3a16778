import csv
import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from center.exports import safe_row
from center.models import Role
from center.pagination import CappedPaginator
from center.roles import STAFF_ROLES, RoleRequiredMixin, has_role, require_role
from center.viewmixins import ServiceFormView, service_errors_to_messages
from center.views import activation_codes_page

from . import availability, imports, selectors, services
from .filters import ComplaintFilter, MerchantFilter, PostFilter, TeamFilter, VolunteerFilter
from .forms import (
    CertificateForm,
    ClaimForm,
    ComplaintForm,
    HoursForm,
    ImportForm,
    MerchantForm,
    MerchantOfferForm,
    PostForm,
    RevokeForm,
    RulingForm,
    TeamForm,
    TeamMessageForm,
    VolunteerForm,
)
from .models import HoursEntry, ImportBatch, Organization, PostClaim, Sanction, Volunteer

MANAGERS = (Role.STATION_MANAGER, Role.CENTER_MANAGER)


# --- Volunteers -------------------------------------------------------------------


class VolunteerListView(RoleRequiredMixin, FilterView):
    filterset_class = VolunteerFilter
    template_name = "volunteers/volunteer_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.volunteer_list(user=self.request.user)

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "results":
            return ["volunteers/_volunteer_results.html"]
        return [self.template_name]


class VolunteerDetailView(RoleRequiredMixin, DetailView):
    template_name = "volunteers/volunteer_detail.html"
    context_object_name = "volunteer"

    def get_object(self, queryset=None):
        return selectors.get_volunteer_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(selectors.volunteer_detail_context(volunteer=self.object))
        user = self.request.user
        ctx["can_manage"] = has_role(user, *MANAGERS)
        ctx["can_reveal_id"] = ctx["can_manage"]
        # Both forms have a station field: distinct ids, so each label names its own
        # select (the field names, and so the posts, stay the same).
        ctx["hours_form"] = HoursForm(
            user=user, initial={"station": self.object.station_id}, auto_id="hours_%s"
        )
        ctx["certificate_form"] = CertificateForm(
            user=user,
            auto_id="certificate_%s",
            initial={
                "station": self.object.station_id,
                "period_end": timezone.localdate(),
                "period_start": timezone.localdate().replace(month=1, day=1),
            },
        )
        ctx["can_serve"] = selectors.provider_can_serve(self.object)
        ctx["availability_text"] = availability.format_text(self.object.weekly_availability)
        return ctx


def _volunteer_data(form) -> dict:
    data = {k: v for k, v in form.cleaned_data.items() if k not in {"specialties", "service_items"}}
    data["weekly_availability"] = data.pop("availability")
    return data


class VolunteerCreateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = VolunteerForm
    pass_user = True

    def title(self):
        return _("New volunteer")

    def save(self, form):
        data = _volunteer_data(form)
        return services.volunteer_create(
            actor=self.request.user,
            data=data,
            specialties=form.cleaned_data["specialties"],
            service_items=form.cleaned_data["service_items"],
        )

    def success_response(self, obj):
        return activation_codes_page(
            self.request,
            issued=[obj.activation],
            purpose="registration",
            title=_("Volunteer %(name)s registered") % {"name": obj.name},
            next_url=obj.get_absolute_url(),
        )


class VolunteerUpdateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = VolunteerForm
    pass_user = True

    def load(self, **kwargs):
        self.instance = selectors.get_volunteer_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Edit volunteer %(name)s") % {"name": self.instance.name}

    def save(self, form):
        data = _volunteer_data(form)
        return services.volunteer_update(
            actor=self.request.user,
            volunteer=self.instance,
            data=data,
            specialties=form.cleaned_data["specialties"],
            service_items=form.cleaned_data["service_items"],
        )


def _reissue_activation(request, provider):
    """Issue a new activation code (or the login, for a provider registered
    before logins existed) and show it once."""
    try:
        issued = services.provider_activation_issue(actor=request.user, provider=provider)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
        return redirect(provider.get_absolute_url())
    return activation_codes_page(
        request,
        issued=[issued],
        purpose="reissue",
        title=_("New activation code for %(name)s") % {"name": provider.name},
        next_url=provider.get_absolute_url(),
    )


@require_POST
def volunteer_activation(request, pk: int):
    """A new activation code: only managers who may see this volunteer."""
    require_role(request.user, *MANAGERS)
    return _reissue_activation(request, selectors.get_volunteer_for_user(user=request.user, pk=pk))


@require_POST
def volunteer_reveal(request, pk: int, field: str):
    """htmx: show one unmasked field; every reveal is an audit entry.
    ID numbers: station and center managers; mobiles: operators too."""
    roles = (*MANAGERS, Role.OPERATOR) if field == "mobile" else MANAGERS
    require_role(request.user, *roles)
    volunteer = selectors.get_volunteer_for_user(user=request.user, pk=pk)
    try:
        value = services.pii_reveal(actor=request.user, volunteer=volunteer, field=field)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return render(request, "volunteers/_revealed.html", {"value": value})


@require_POST
def volunteer_hours_add(request, pk: int):
    require_role(request.user, *MANAGERS)
    volunteer = selectors.get_volunteer_for_user(user=request.user, pk=pk)
    form = HoursForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.hours_record(
                actor=request.user,
                volunteer=volunteer,
                source=HoursEntry.Source.MANUAL,
                **form.cleaned_data,
            )
            messages.success(request, _("Hours recorded."))
        except ValidationError as exc:
            service_errors_to_messages(request, exc)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(volunteer.get_absolute_url())


@require_POST
def volunteer_certificate_issue(request, pk: int):
    require_role(request.user, *MANAGERS)
    volunteer = selectors.get_volunteer_for_user(user=request.user, pk=pk)
    form = CertificateForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            certificate = services.certificate_issue(
                actor=request.user, volunteer=volunteer, **form.cleaned_data
            )
        except ValidationError as exc:
            service_errors_to_messages(request, exc)
        else:
            return redirect(certificate.get_absolute_url())
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(volunteer.get_absolute_url())


class CertificateDetailView(RoleRequiredMixin, DetailView):
    allowed_roles = (*MANAGERS, Role.VOLUNTEER)
    template_name = "volunteers/certificate_detail.html"
    context_object_name = "certificate"

    def get_object(self, queryset=None):
        certificate = selectors.certificate_for_user(user=self.request.user, pk=self.kwargs["pk"])
        # The certificate carries the full ID number (the rules require it): log each showing.
        services.certificate_shown(actor=self.request.user, certificate=certificate)
        return certificate


class PendingHoursView(RoleRequiredMixin, FilterView):
    allowed_roles = MANAGERS
    template_name = "volunteers/hours_pending.html"
    paginate_by = 50
    paginator_class = CappedPaginator
    filterset_fields = ["source"]
    model = HoursEntry

    def get_queryset(self):
        return selectors.pending_hours(user=self.request.user)


@require_POST
def hours_verify(request, pk: int):
    require_role(request.user, *MANAGERS)
    entry = get_object_or_404(selectors.pending_hours(user=request.user), pk=pk)
    try:
        services.hours_verify(actor=request.user, entry=entry)
        messages.success(request, _("Hours verified."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("volunteers:hours_pending")


# --- Merchants ----------------------------------------------------------------------


class MerchantListView(RoleRequiredMixin, FilterView):
    filterset_class = MerchantFilter
    template_name = "volunteers/merchant_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.merchant_list(user=self.request.user)


class MerchantDetailView(RoleRequiredMixin, DetailView):
    template_name = "volunteers/merchant_detail.html"
    context_object_name = "merchant"

    def get_object(self, queryset=None):
        return selectors.get_merchant_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(selectors.merchant_detail_context(merchant=self.object))
        ctx["can_manage"] = has_role(self.request.user, *MANAGERS)
        ctx["offer_form"] = MerchantOfferForm()
        ctx["can_serve"] = selectors.provider_can_serve(self.object)
        return ctx


class MerchantCreateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = MerchantForm
    pass_user = True

    def title(self):
        return _("New merchant")

    def save(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "stations"}
        return services.merchant_create(
            actor=self.request.user, data=data, stations=form.cleaned_data["stations"]
        )

    def success_response(self, obj):
        return activation_codes_page(
            self.request,
            issued=[obj.activation],
            purpose="registration",
            title=_("Merchant %(name)s registered") % {"name": obj.name},
            next_url=obj.get_absolute_url(),
        )


@require_POST
def merchant_activation(request, pk: int):
    """A new activation code for a merchant's login (as for volunteers)."""
    require_role(request.user, *MANAGERS)
    return _reissue_activation(request, selectors.get_merchant_for_user(user=request.user, pk=pk))


class MerchantUpdateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = MerchantForm
    pass_user = True

    def load(self, **kwargs):
        self.instance = selectors.get_merchant_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Edit merchant %(name)s") % {"name": self.instance.name}

    def save(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "stations"}
        return services.merchant_update(
            actor=self.request.user,
            merchant=self.instance,
            data=data,
            stations=form.cleaned_data["stations"],
        )


@require_POST
def merchant_offer_set(request, pk: int):
    require_role(request.user, *MANAGERS)
    merchant = selectors.get_merchant_for_user(user=request.user, pk=pk)
    form = MerchantOfferForm(request.POST)
    if form.is_valid():
        try:
            services.merchant_offer_set(actor=request.user, merchant=merchant, **form.cleaned_data)
            messages.success(request, _("Price saved."))
        except ValidationError as exc:
            service_errors_to_messages(request, exc)
    else:
        messages.error(request, _("Choose an item and a price."))
    return redirect(merchant.get_absolute_url())


# --- Teams ----------------------------------------------------------------------------


class TeamListView(RoleRequiredMixin, FilterView):
    filterset_class = TeamFilter
    template_name = "volunteers/team_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.team_list(user=self.request.user)


class TeamDetailView(RoleRequiredMixin, DetailView):
    template_name = "volunteers/team_detail.html"
    context_object_name = "team"

    def get_object(self, queryset=None):
        return selectors.get_team_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["members"] = list(self.object.members.select_related("station").order_by("name")[:200])
        ctx["can_manage"] = has_role(self.request.user, *MANAGERS)
        return ctx


class TeamCreateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = TeamForm
    pass_user = True

    def title(self):
        return _("New service team")

    def save(self, form):
        data = {**form.cleaned_data, "leader": form.cleaned_data["leader_no"]}
        return services.team_create(
            actor=self.request.user, data=data, members=form.cleaned_data["member_nos"]
        )


class TeamUpdateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = TeamForm
    pass_user = True

    def load(self, **kwargs):
        self.instance = selectors.get_team_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Edit team %(name)s") % {"name": self.instance.name}

    def save(self, form):
        data = {**form.cleaned_data, "leader": form.cleaned_data["leader_no"]}
        return services.team_update(
            actor=self.request.user,
            team=self.instance,
            data=data,
            members=form.cleaned_data["member_nos"],
        )


class TeamMessageView(ServiceFormView):
    """A message to everyone in a team: the team's station managers and
    center managers (issue 13). Sent once per member, however often posted."""

    allowed_roles = MANAGERS
    form_class = TeamMessageForm
    template_name = "volunteers/team_message.html"

    def load(self, **kwargs):
        self.team = selectors.get_team_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Message team %(name)s") % {"name": self.team.name}

    def save(self, form):
        self.told = services.team_message_send(
            actor=self.request.user, team=self.team, text=form.cleaned_data["text"]
        )
        return self.team

    def success_message(self):
        if self.told == 0:
            return _("Nobody was told: every member had this message already.")
        return ngettext("%(n)s member was told.", "%(n)s members were told.", self.told) % {
            "n": self.told
        }

    def get_context_data(self, **kwargs):
        members = services.team_message_members(self.team)
        return {
            **super().get_context_data(**kwargs),
            "team": self.team,
            "recipients": members.count(),
            "without_login": members.filter(user__isnull=True).count(),
            "rate": settings.LIANXIN["SMS_RATE_LIMIT"],
            "quiet_hours": settings.LIANXIN["QUIET_HOURS"],
        }


# --- Complaints and sanctions -------------------------------------------------------------


class ComplaintListView(RoleRequiredMixin, FilterView):
    filterset_class = ComplaintFilter
    template_name = "volunteers/complaint_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.complaint_list(user=self.request.user).only("pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["object_list"] = selectors.complaint_rows(ctx["object_list"])
        return ctx


class ComplaintCreateView(ServiceFormView):
    """Record a complaint against a volunteer or a merchant (operators too)."""

    allowed_roles = tuple(STAFF_ROLES)
    form_class = ComplaintForm

    def load(self, **kwargs):
        if kwargs["provider"] == "volunteer":
            self.provider = selectors.get_volunteer_for_user(
                user=self.request.user, pk=kwargs["pk"]
            )
        else:
            self.provider = selectors.get_merchant_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Complaint about %(provider)s") % {"provider": self.provider}

    def save(self, form):
        return services.complaint_record(
            actor=self.request.user, provider=self.provider, **form.cleaned_data
        )

    def success_message(self):
        return _("Complaint recorded; it waits for a ruling.")


class ComplaintDetailView(RoleRequiredMixin, DetailView):
    template_name = "volunteers/complaint_detail.html"
    context_object_name = "complaint"

    def get_object(self, queryset=None):
        return selectors.get_complaint_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sanction"] = selectors.sanction_history(complaint=self.object)
        ctx["can_rule"] = has_role(self.request.user, *MANAGERS) and self.object.status == "pending"
        ctx["ruling_form"] = RulingForm()
        ctx["can_revoke"] = (
            has_role(self.request.user, Role.CENTER_MANAGER)
            and ctx["sanction"] is not None
            and ctx["sanction"].status != Sanction.Status.REVOKED
        )
        ctx["revoke_form"] = RevokeForm()
        return ctx


@require_POST
def complaint_rule(request, pk: int):
    require_role(request.user, *MANAGERS)
    complaint = selectors.get_complaint_for_user(user=request.user, pk=pk)
    form = RulingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose valid or invalid and give a reason."))
        return redirect(complaint.get_absolute_url())
    try:
        services.complaint_rule(actor=request.user, complaint=complaint, **form.cleaned_data)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    else:
        messages.success(request, _("Ruling recorded."))
    return redirect(complaint.get_absolute_url())


@require_POST
def sanction_revoke(request, pk: int):
    require_role(request.user, Role.CENTER_MANAGER)
    sanction = get_object_or_404(Sanction.objects.select_related("complaint"), pk=pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for revoking."))
    else:
        try:
            services.sanction_revoke(
                actor=request.user, sanction=sanction, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Sanction revoked."))
        except ValidationError as exc:
            service_errors_to_messages(request, exc)
    return redirect(sanction.complaint.get_absolute_url())


# --- Posts (双报到) ---------------------------------------------------------------------------


class PostListView(RoleRequiredMixin, FilterView):
    filterset_class = PostFilter
    template_name = "volunteers/post_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.post_list(user=self.request.user)


class PostCreateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = PostForm
    pass_user = True

    def title(self):
        return _("New post")

    def save(self, form):
        return services.post_create(actor=self.request.user, data=form.cleaned_data)


class PostDetailView(RoleRequiredMixin, DetailView):
    template_name = "volunteers/post_detail.html"
    context_object_name = "post"

    def get_object(self, queryset=None):
        return selectors.get_post_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["claims"] = selectors.post_claims(post=self.object)
        ctx["can_manage"] = has_role(self.request.user, *MANAGERS)
        return ctx


@require_POST
def post_report(request, pk: int):
    """The station marks that a member reported in."""
    require_role(request.user, *MANAGERS)
    claim = get_object_or_404(PostClaim.objects.select_related("post"), pk=pk)
    post = selectors.get_post_for_user(user=request.user, pk=claim.post_id)
    try:
        services.post_report(actor=request.user, claim=claim)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(post.get_absolute_url())


# --- Imports --------------------------------------------------------------------------------


class ImportView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = ImportForm
    template_name = "volunteers/import_upload.html"

    def title(self):
        return (
            _("Import volunteers") if self.kwargs["kind"] == "volunteers" else _("Import merchants")
        )

    def dispatch(self, request, *args, **kwargs):
        if kwargs["kind"] not in ImportBatch.Kind.values:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def save(self, form):
        upload = form.cleaned_data["file"]
        return services.import_preview(
            actor=self.request.user,
            kind=self.kwargs["kind"],
            filename=upload.name,
            content=upload.read(),
        )

    def success_message(self):
        return _("File read. Check the preview, then apply it.")

    def success_url_for(self, obj):
        from django.urls import reverse

        return reverse("volunteers:import_preview", args=[obj.pk])


class ImportPreviewView(RoleRequiredMixin, DetailView):
    allowed_roles = MANAGERS
    template_name = "volunteers/import_preview.html"
    context_object_name = "batch"

    def get_queryset(self):
        return selectors.import_batches_for(user=self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        batch = self.object
        fields = imports.preview_fields(batch.kind, batch.rows[0].keys() if batch.rows else ())
        ctx["columns"] = imports.column_labels(batch.kind, fields)
        ctx["preview_rows"] = [
            [row.get(f, "") for f in fields] for row in selectors.import_preview_rows(batch=batch)
        ]
        return ctx


def import_template(request, kind: str, fmt: str):
    """The empty file to fill in for an import, with the expected headers."""
    require_role(request.user, *MANAGERS)
    if kind not in ImportBatch.Kind.values or fmt not in {"csv", "xlsx"}:
        raise Http404
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else "text/csv; charset=utf-8"
    )
    response = HttpResponse(imports.template_file(kind, fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="lianxin-{kind}-template.{fmt}"'
    return response


@require_POST
def import_apply(request, pk: int):
    require_role(request.user, *MANAGERS)
    batch = get_object_or_404(selectors.import_batches_for(user=request.user), pk=pk)
    try:
        batch = services.import_apply(actor=request.user, batch=batch)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    else:
        if batch.status == ImportBatch.Status.APPLIED:
            messages.success(request, _("%(n)s rows imported.") % {"n": batch.created_count})
            # Every imported provider's first code, shown this once.
            return activation_codes_page(
                request,
                issued=batch.activations,
                purpose="import",
                title=_("Activation codes of the imported file %(name)s")
                % {"name": batch.filename},
                next_url=reverse("volunteers:import_preview", args=[batch.pk]),
            )
        else:
            messages.error(request, _("The file was rejected: nothing was imported."))
    return redirect("volunteers:import_preview", pk=batch.pk)


# --- Organizations ------------------------------------------------------------------------------


class OrganizationListView(RoleRequiredMixin, FilterView):
    allowed_roles = (Role.CENTER_MANAGER,)
    template_name = "volunteers/organization_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator
    filterset_fields = ["kind"]
    model = Organization

    def get_queryset(self):
        return selectors.organization_list()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        ctx["quarters"] = _recent_quarters(today)
        return ctx


def _quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    start = datetime.date(year, 3 * quarter - 2, 1)
    end = datetime.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - datetime.timedelta(
        days=1
    )
    return start, end


def _recent_quarters(today: datetime.date) -> list[tuple[int, int]]:
    year, quarter = today.year, (today.month - 1) // 3 + 1
    out = []
    for _i in range(4):
        out.append((year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return out


def organization_quarter_export(request, pk: int, year: int, quarter: int):
    """CSV for the employer: what each member did in the quarter (hours, orders,
    posts); cells through ``center.exports.safe_row`` (no formula injection)."""
    require_role(request.user, Role.CENTER_MANAGER)
    if quarter not in (1, 2, 3, 4) or not 2000 <= year <= timezone.localdate().year + 1:
        raise Http404
    organization = get_object_or_404(Organization, pk=pk)
    start, end = _quarter_bounds(year, quarter)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{organization.pk}-{year}Q{quarter}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Volunteer number"),
            _("Name"),
            _("Home station"),
            _("Hours"),
            _("Number of orders"),
            _("Post hours"),
            _("Posts (status)"),
        ]
    )
    rows = selectors.organization_quarter_rows(organization=organization, start=start, end=end)
    for v in rows.select_related("station").iterator(chunk_size=1000):
        posts = "；".join(f"{c.post.title}（{c.get_status_display()}）" for c in v.live_claims)
        writer.writerow(
            safe_row(
                [
                    v.volunteer_no,
                    v.name,
                    v.station.name,
                    v.quarter_hours,
                    v.order_count,
                    v.post_hours,
                    posts,
                ]
            )
        )
    return response


# --- Volunteer self-service (mobile-first) ---------------------------------------------------------


def _my_volunteer(request) -> Volunteer:
    """The self-service pages are for volunteers with a record: anyone else gets 403."""
    volunteer = selectors.volunteer_of(request.user)
    if volunteer is None:
        raise PermissionDenied
    return volunteer


class MyProfileView(LoginRequiredMixin, TemplateView):
    template_name = "volunteers/me.html"

    def get(self, request, *args, **kwargs):
        self.volunteer = _my_volunteer(request)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        v = self.volunteer
        # The hours ledger pages by 20 (a long-serving volunteer has hundreds of rows).
        hours_page = CappedPaginator(
            v.hours.select_related("station").order_by("-date", "-id"), 20
        ).get_page(self.request.GET.get("page"))
        ctx.update(
            volunteer=v,
            hours=hours_page.object_list,
            page_obj=hours_page,
            certificates=list(v.certificates.all()[:20]),
            claims=list(
                v.post_claims.exclude(status=PostClaim.Status.WITHDRAWN).select_related(
                    "post__station"
                )[:20]
            ),
            open_posts=list(selectors.open_posts_for(volunteer=v))
            if v.kind == Volunteer.Kind.IN_SERVICE
            else [],
            notifications=selectors.notifications_for(user=self.request.user),
            next_star=_next_star(v),
            claim_form=ClaimForm(),
            availability_text=availability.format_text(v.weekly_availability),
        )
        return ctx


def _next_star(volunteer: Volunteer):
    from .stars import thresholds

    for level, t in enumerate(thresholds(), start=1):
        if volunteer.verified_hours < t:
            return {"level": level, "hours_to_go": t - volunteer.verified_hours}
    return None


@require_POST
def my_duty_toggle(request):
    volunteer = _my_volunteer(request)
    try:
        volunteer = services.volunteer_set_on_duty(
            actor=request.user, volunteer=volunteer, on_duty=request.POST.get("on_duty") == "1"
        )
        error = None
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        return render(
            request, "volunteers/_duty_toggle.html", {"volunteer": volunteer, "error": error}
        )
    if error:
        messages.error(request, error)
    return redirect("volunteers:me")


@require_POST
def my_availability(request):
    """The volunteer sets their own weekly hours (when they can be dispatched)."""
    volunteer = _my_volunteer(request)
    try:
        data = availability.parse(request.POST.get("availability", ""))
        services.volunteer_update(
            actor=request.user, volunteer=volunteer, data={"weekly_availability": data}
        )
        messages.success(request, _("Weekly availability saved."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("volunteers:me")


@require_POST
def my_post_claim(request, pk: int):
    volunteer = _my_volunteer(request)
    post = get_object_or_404(selectors.claimable_posts(volunteer=volunteer), pk=pk)
    form = ClaimForm(request.POST)
    skills = form.cleaned_data["skills"] if form.is_valid() else ""
    try:
        services.post_claim(actor=request.user, post=post, volunteer=volunteer, skills=skills)
        messages.success(request, _("Post claimed. Report in at the station."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("volunteers:me")


@require_POST
def my_post_withdraw(request, pk: int):
    volunteer = _my_volunteer(request)
    claim = get_object_or_404(PostClaim, pk=pk, volunteer=volunteer)
    try:
        services.post_withdraw(actor=request.user, claim=claim)
        messages.success(request, _("Claim withdrawn."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("volunteers:me")
