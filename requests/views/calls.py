"""The console's call panel, the call log and the unmatched requests (issue 14,
part A). Thin: the rules are ``services.calls``', the reads ``selectors.calls``'."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_filters.views import FilterView

from center.models import Role
from center.pagination import KeysetPaginationMixin
from center.roles import ALL, STAFF_ROLES, RoleRequiredMixin, require_role, station_ids_for
from center.validators import digits_of, normalize_phone, validate_phone
from center.viewmixins import ServiceFormView, add_service_errors

from .. import selectors, services
from ..filters_calls import CallFilter, UnmatchedFilter
from ..forms_calls import CallPanelForm, TalkForm
from ..models import CallLog, UnmatchedRequest
from ..selectors import calls as call_selectors

STAFF = tuple(STAFF_ROLES)


# --- The console's call panel -------------------------------------------------------------


def _whole_number(value: str) -> str:
    """The typed number when it is a whole phone number, else "" (a prefix or
    尾号 typed to search is not the caller's number)."""
    number = normalize_phone(digits_of(value or "")[:20])
    try:
        validate_phone(number)
    except ValidationError:
        return ""
    return number


def _panel(request, form, **extra):
    ctx = {
        "form": form,
        "today": call_selectors.calls_logged_today(user=request.user),
        "kinds": CallLog.Kind,
        **extra,
    }
    return render(request, "requests/_call_panel.html", ctx)


@require_http_methods(["GET", "POST"])
def call_panel(request):
    """GET: the empty panel (loaded by the console). POST (htmx): log the
    call. The caller is the resident chosen in the panel (another station's
    → 404) or, without one, the one resident the user may see with the
    whole number typed; several: the panel asks which. A repeat call names
    its order: chosen among the caller's latest, or typed."""
    require_role(request.user, *STAFF)
    if request.method == "GET":
        return _panel(request, CallPanelForm(initial={"kind": CallLog.Kind.ENQUIRY}))
    form = CallPanelForm(request.POST)
    if not form.is_valid():
        return _panel(request, form)
    data = form.cleaned_data
    number = _whole_number(data["phone"])
    resident = order = None
    ids = (
        call_selectors.resident_ids_with_number(user=request.user, number=number) if number else []
    )
    if data["resident"]:
        resident = selectors.get_resident_for_user(user=request.user, pk=data["resident"])
        if number and resident.pk not in ids:
            # Chosen for an earlier number: the next caller is someone else.
            resident = None
    if resident is None and number:
        if len(ids) > 1:
            residents = selectors.resident_list(user=request.user).filter(pk__in=ids)
            form.add_error(None, _("Several residents have this number: choose the caller."))
            return _panel(request, form, residents=residents.order_by("pk"))
        if ids:
            resident = selectors.get_resident_for_user(user=request.user, pk=ids[0])
    if data["order"]:
        order = selectors.get_order_for_user(user=request.user, pk=data["order"])
    elif data["order_number"].strip():
        order = call_selectors.get_order_by_number_for_user(
            user=request.user, number=data["order_number"]
        )
        if order is None:
            form.add_error("order_number", _("No order with this number."))
    if order is not None and resident is None:
        resident = order.resident
    if not form.errors:
        try:
            call = services.console_call_record(
                actor=request.user,
                kind=data["kind"],
                number=number,
                resident=resident,
                order=order,
                category=data["category"],
                duration_seconds=data["duration"],
                note=data["note"],
                urge=data["urge"],
                unmatched_text=data["unmatched_text"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            fresh = CallPanelForm(initial={"kind": CallLog.Kind.ENQUIRY})
            return _panel(request, fresh, logged=call, logged_resident=resident)
    orders = (
        call_selectors.caller_orders(user=request.user, resident_id=resident.pk)
        if resident is not None
        else []
    )
    return _panel(request, form, resident=resident, orders=orders)


# --- The call log -------------------------------------------------------------------------


class CallListView(RoleRequiredMixin, KeysetPaginationMixin, FilterView):
    """Newest first, paged by keyset (center.pagination) on ``call_at``; a
    station manager's stations are sought apart on ``call_station`` and merged."""

    filterset_class = CallFilter
    template_name = "requests/call_list.html"
    paginate_by = 50
    keyset_time_field = "at"

    def get_queryset(self):
        return call_selectors.call_list(user=self.request.user)

    def keyset_partition(self):
        ids = station_ids_for(self.request.user)
        if ids is ALL or self.request.GET.get("station"):
            return None
        return ("station_id", sorted(ids))

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "results":
            return ["requests/_call_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        # The labels translated once per page, not once per row.
        kinds = {k: str(v) for k, v in CallLog.Kind.choices}
        for call in ctx["object_list"]:
            call.kind_label = kinds.get(call.kind, call.kind)
            if call.duration_seconds is not None:
                minutes, seconds = divmod(call.duration_seconds, 60)
                call.duration_text = f"{minutes}:{seconds:02d}"
        return ctx


# --- Unmatched requests -------------------------------------------------------------------


class UnmatchedListView(RoleRequiredMixin, KeysetPaginationMixin, FilterView):
    filterset_class = UnmatchedFilter
    template_name = "requests/unmatched_list.html"
    paginate_by = 50
    keyset_time_field = "occurred_on"

    def get_queryset(self):
        return call_selectors.unmatched_list(user=self.request.user)

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "results":
            return ["requests/_call_unmatched_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["can_add_talk"] = user.is_center_manager or user.role == Role.STATION_MANAGER
        return ctx


class TalkCreateView(ServiceFormView):
    """A suggestion raised at a community talk (社区议事): station managers
    for their stations, center managers anywhere."""

    allowed_roles = (Role.STATION_MANAGER, Role.CENTER_MANAGER)
    form_class = TalkForm

    def title(self):
        return _("Suggestion from a community talk")

    def get_form_kwargs(self):
        from center.filters import station_choices

        from ..selectors.residents import registry_communities

        return {
            **super().get_form_kwargs(),
            "communities": registry_communities(user=self.request.user),
            "stations": station_choices(self.request),
        }

    def get_initial(self):
        return {"occurred_on": timezone.localdate(), "mentions": 1}

    def save(self, form):
        data = form.cleaned_data
        return services.unmatched_record(
            actor=self.request.user,
            source=UnmatchedRequest.Source.TALK,
            text=data["text"],
            category=data["category"],
            community=data["community"],
            station=data["station"],
            occasion=data["occasion"],
            mentions=data["mentions"],
            occurred_on=data["occurred_on"],
        )

    def success_message(self):
        return _("Suggestion recorded.")

    def success_url_for(self, obj):
        return reverse("requests:unmatched_list")
