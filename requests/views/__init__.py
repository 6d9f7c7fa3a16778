import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from center import ratelimit
from center.audit import pii_shown
from center.pagination import CappedPaginator, KeysetPaginationMixin
from center.roles import (
    ALL,
    STAFF_ROLES,
    RoleRequiredMixin,
    require_role,
    station_ids_for,
)
from center.validators import digits_of, normalize_phone, validate_phone
from center.viewmixins import ServiceFormView, add_service_errors, service_errors_to_messages

from .. import dispatch, selectors, services
from ..filters import OrderFilter
from ..forms import (
    AssignForm,
    CompleteForm,
    FollowUpForm,
    NoteForm,
    OrderForm,
    ReasonForm,
    ResidentForm,
)
from ..models import ServiceRequest, Urgency

STAFF = tuple(STAFF_ROLES)


# --- The console -------------------------------------------------------------------------


def _staff_order(request, pk) -> ServiceRequest:
    """The order an action button posts about: staff only (403), and only an
    order the user may see (404), the check before the fetch."""
    require_role(request.user, *STAFF)
    return selectors.get_order_for_user(user=request.user, pk=pk)


def _typed_phone(request) -> str:
    return digits_of(normalize_phone(request.GET.get("phone", "")))[:20]


def _complete_phone(number: str) -> str:
    """The typed number if it is a whole phone number; a prefix or 尾号 typed
    to search is not the caller's number (the field stays empty)."""
    try:
        validate_phone(number)
    except ValidationError:
        return ""
    return number


def _lookup_context(request, phone: str) -> dict:
    """Console matches: numbers are masked except the one the operator typed in
    full (the caller's own, which they already know); see docs/privacy.md."""
    residents = selectors.console_lookup(user=request.user, phone=phone) if phone else []
    return {"residents": residents, "phone": phone}


class ConsoleView(RoleRequiredMixin, TemplateView):
    template_name = "requests/console.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        phone = _typed_phone(self.request)
        ctx.update(_lookup_context(self.request, phone))
        ctx["resident_form"] = ResidentForm(initial={"phone": phone})
        return ctx


@require_GET
def console_lookup(request):
    require_role(request.user, *STAFF)
    return render(
        request, "requests/_console_results.html", _lookup_context(request, _typed_phone(request))
    )


@require_GET
def console_alerts(request):
    """Polled by every console: emergency device calls not yet taken (the user's stations)."""
    require_role(request.user, *STAFF)
    return render(
        request,
        "requests/_alerts.html",
        {"alerts": selectors.emergency_alerts(user=request.user)},
    )


@require_POST
def alert_acknowledge(request, pk: int):
    """Dismiss a device call's alert from the consoles (the order stays open).
    htmx gets the alerts list back; another station's order → 404."""
    order = _staff_order(request, pk)
    try:
        services.alert_acknowledge(actor=request.user, order=order)
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=400)
        service_errors_to_messages(request, exc)
    if request.htmx:
        alerts = selectors.emergency_alerts(user=request.user)
        return render(request, "requests/_alerts.html", {"alerts": alerts})
    messages.success(
        request, _("Alert of order %(number)s acknowledged.") % {"number": order.number}
    )
    return redirect("requests:console")


@require_POST
def phone_reveal(request, kind: str, pk: int):
    """htmx: one full number, logged (center.pii.revealed). ``kind``: the
    resident's phone, an emergency contact, or an order's caller number; each
    looked up through the user's scope (another station's → 404)."""
    require_role(request.user, *STAFF)
    try:
        value = services.phone_reveal(actor=request.user, kind=kind, pk=pk)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return render(request, "requests/_phone_revealed.html", {"value": value})


class ResidentCreateView(ServiceFormView):
    allowed_roles = STAFF
    form_class = ResidentForm
    template_name = "requests/resident_form.html"
    duplicates = ()

    def title(self):
        return _("Register a resident")

    def get_initial(self):
        return {"phone": self.request.GET.get("phone", "")}

    def form_valid(self, form):
        # The number is already a resident's: show them (masked) first; the
        # same form submitted again registers a new resident anyway.
        if not form.cleaned_data.get("confirm_duplicate"):
            self.duplicates = selectors.residents_with_phones(
                user=self.request.user,
                phones=form.phones(),
                intake_key=form.cleaned_data.get("intake_key"),
            )
            if self.duplicates:
                form.data = form.data.copy()
                form.data["confirm_duplicate"] = "True"
                return self.render_to_response(self.get_context_data(form=form))
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "duplicates": self.duplicates}

    def save(self, form):
        data = {
            k: form.cleaned_data[k] for k in ("name", "address", "community", "is_free", "notes")
        }
        if data["community"] is not None:
            station = selectors.suggest_station(data["community"])
            data["latitude"], data["longitude"] = station.latitude, station.longitude
        return services.resident_create(
            actor=self.request.user,
            data=data,
            phones=form.phones(),
            intake_key=form.cleaned_data.get("intake_key"),
        )

    def success_message(self):
        return _("Resident registered.")

    def success_url_for(self, obj):
        return (
            reverse("requests:order_create", args=[obj.pk])
            + "?"
            + urlencode({"phone": digits_of(self.request.POST.get("phone", ""))[:20]})
        )


class OrderCreateView(ServiceFormView):
    allowed_roles = STAFF
    form_class = OrderForm
    template_name = "requests/order_form.html"
    pass_user = True

    def load(self, **kwargs):
        self.resident = selectors.get_resident_for_user(
            user=self.request.user, pk=kwargs["resident"]
        )

    def title(self):
        return _("New order for %(name)s") % {"name": self.resident.name}

    def get_initial(self):
        return {
            "caller_phone": _complete_phone(_typed_phone(self.request)),
            "address": self.resident.address,
            "community": self.resident.community_id,
        }

    mergeable = None
    replayed = False

    def form_invalid(self, form):
        if self.mergeable is not None:
            # A repeat call about an open order: offer to merge (并单); a second
            # submit of this form confirms a new order instead.
            form.data = form.data.copy()
            form.data["confirm_new"] = "True"
            return self.render_to_response(
                self.get_context_data(form=form, mergeable=self.mergeable)
            )
        return super().form_invalid(form)

    def save(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "confirm_new"}
        station = data.get("station") or selectors.suggest_station(
            data.get("community") or self.resident.community
        )
        ids = station_ids_for(self.request.user)
        if ids is not ALL and station.pk not in ids:
            raise ValidationError(
                {"station": _("Choose one of your stations: the suggested one is not yours.")}
            )
        data["station"] = station
        try:
            order = services.order_create(
                actor=self.request.user,
                resident=self.resident,
                allow_duplicate=bool(form.cleaned_data.get("confirm_new")),
                **data,
            )
        except services.MergeableOrder as exc:
            self.mergeable = exc.order
            raise
        self.replayed, self.number = order.replayed, order.number
        return order

    def success_message(self):
        if self.replayed:
            return _("This order was already recorded as %(number)s.") % {"number": self.number}
        return _("Order %(number)s recorded.") % {"number": self.number}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "resident": self.resident}


@require_POST
def order_merge(request, pk: int):
    order = _staff_order(request, pk)
    try:
        services.order_merge(
            actor=request.user,
            order=order,
            caller_phone=request.POST.get("caller_phone", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(
            request, _("Repeat call merged into order %(number)s.") % {"number": order.number}
        )
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(order.get_absolute_url())


# --- Orders (staff) ----------------------------------------------------------------------


class OrderListView(RoleRequiredMixin, KeysetPaginationMixin, FilterView):
    """Newest first, paged by keyset (center.pagination): page 200 costs what
    page 1 costs on five million orders."""

    filterset_class = OrderFilter
    template_name = "requests/order_list.html"
    paginate_by = 50
    keyset_time_field = "received_at"

    def get_queryset(self):
        return selectors.order_rows(user=self.request.user)

    def keyset_partition(self):
        # A station manager's subtree (up to ~16 stations): each station's
        # newest orders are sought on order_station and merged.
        ids = station_ids_for(self.request.user)
        if ids is ALL or self.request.GET.get("station"):
            return None
        return ("station_id", sorted(ids))

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "results":
            return ["requests/_order_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        now = timezone.now()
        # The choices' labels translated once per page, not twice per row
        # (get_FOO_display re-translates its lazy label on every call: 3 ms a page).
        status = {k: str(v) for k, v in ServiceRequest.Status.choices}
        urgency = {k: str(v) for k, v in Urgency.choices}
        selectors.with_row_relations(ctx["object_list"])
        for order in ctx["object_list"]:
            order.flag = selectors.flag(order, now)
            order.status_label = status.get(order.status, order.status)
            order.urgency_label = urgency.get(order.urgency, order.urgency)
        return ctx


class OrderDetailView(RoleRequiredMixin, DetailView):
    template_name = "requests/order_detail.html"
    context_object_name = "order"

    def get_object(self, queryset=None):
        return selectors.get_order_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        order = self.object
        ctx.update(selectors.order_detail_context(user=self.request.user, order=order))
        ctx["flag"] = selectors.flag(order)
        if order.can_assign:
            # The area's stations read once for the three rankings.
            ranking = {
                "exclude_ids": ctx["returned_by"],
                "area_ids": dispatch.area_station_ids(order.station),
            }
            ctx["candidates"] = dispatch.volunteer_candidates(order, limit=10, **ranking)
            merchants = dispatch.merchant_candidates(order, **ranking)
            teams = dispatch.team_candidates(order, **ranking)
            ctx["merchant_candidates"], ctx["team_candidates"] = merchants, teams
            ctx["assign_form"] = AssignForm(merchants=merchants, teams=teams)
            ctx["ranking_rule"], ctx["merchant_rule"] = (
                dispatch.RANKING_RULE,
                dispatch.MERCHANT_RULE,
            )
        ctx["target_minutes"] = settings.LIANXIN["DISPATCH_TARGET_MINUTES"]
        if order.can_complete:
            ctx["complete_form"] = CompleteForm(initial={"fee": order.price_due}, team=order.team)
        return ctx


@require_POST
def order_offer(request, pk: int):
    order = _staff_order(request, pk)
    try:
        services.order_offer(actor=request.user, order=order)
        messages.success(request, _("Order offered to the nearest providers."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(order.get_absolute_url())


@require_POST
def order_assign(request, pk: int):
    order = _staff_order(request, pk)
    excluded = selectors.returned_by(order)
    form = AssignForm(
        request.POST,
        merchants=dispatch.merchant_candidates(order, exclude_ids=excluded),
        teams=dispatch.team_candidates(order, exclude_ids=excluded),
    )
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect(order.get_absolute_url())
    try:
        services.order_assign(
            actor=request.user,
            order=order,
            provider=form.cleaned_data["provider"],
            other_station=form.cleaned_data["other_station"],
        )
        messages.success(request, _("Order assigned."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(order.get_absolute_url())


def _form_errors(form) -> list[str]:
    """A refused form's errors as messages, each led by its field's label: an
    action posted from the order page has no form on the next page to hold them
    (``service_errors_to_messages`` shows them)."""
    return [
        f"{form.fields[f].label if f in form.fields else ''} {e}".strip()
        for f, errors in form.errors.items()
        for e in errors
    ]


@require_POST
def order_step(request, pk: int, step: str):
    """Staff record a step for a merchant or team without a phone app (or correct one)."""
    order = _staff_order(request, pk)
    try:
        if step == "take":
            services.order_take(actor=request.user, order=order)
        elif step == "on_the_way":
            services.order_on_the_way(actor=request.user, order=order)
        elif step == "arrive":
            services.order_arrive(actor=request.user, order=order)
        elif step == "complete":
            form = CompleteForm(request.POST, team=order.team)
            if not form.is_valid():
                raise ValidationError(_form_errors(form))
            services.order_complete(actor=request.user, order=order, **form.cleaned_data)
        elif step in {"cancel", "return"}:
            reason = request.POST.get("reason", "")
            (services.order_cancel if step == "cancel" else services.order_return)(
                actor=request.user, order=order, reason=reason
            )
        elif step == "urge":
            form = NoteForm(request.POST)
            services.order_urge(actor=request.user, order=order, note=form.data.get("note", ""))
        else:
            raise PermissionDenied
        messages.success(request, _("Order %(number)s updated.") % {"number": order.number})
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(order.get_absolute_url())


# --- Follow-up ---------------------------------------------------------------------------


class FollowUpQueueView(RoleRequiredMixin, FilterView):
    template_name = "requests/followup_queue.html"
    paginate_by = 50
    paginator_class = CappedPaginator
    filterset_fields = ["urgency"]
    model = ServiceRequest

    def get_queryset(self):
        return selectors.follow_up_queue(user=self.request.user)


class FollowUpView(ServiceFormView):
    allowed_roles = STAFF
    form_class = FollowUpForm
    template_name = "requests/followup_form.html"

    def load(self, **kwargs):
        self.order = selectors.get_order_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Follow-up call for %(number)s") % {"number": self.order.number}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "complaint_possible": self.order.team is None}

    def save(self, form):
        services.follow_up_record(actor=self.request.user, order=self.order, **form.cleaned_data)
        return self.order

    def success_message(self):
        return _("Follow-up recorded.")

    def success_url_for(self, obj):
        return reverse("requests:followup_queue")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "order": self.order}


# --- The volunteer's side (mobile-first) ------------------------------------------------------


def _providers(request) -> list:
    """Who the signed-in user acts for (volunteer, merchant, teams they lead):
    owning the order, or being offered it, is the permission for every step."""
    providers = selectors.my_providers(request.user)
    if not providers:
        raise PermissionDenied
    return providers


def my_orders(request):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    providers = _providers(request)
    return render(
        request,
        "requests/my_orders.html",
        {
            "providers": providers,
            "offers": selectors.offers_for(providers=providers),
            "orders": selectors.orders_of(providers=providers),
        },
    )


@require_GET
def my_offers(request):
    """htmx, polled every 15 s: the offers list, so a new nearby order shows up by itself."""
    providers = _providers(request)
    return render(
        request, "requests/_my_offers.html", {"offers": selectors.offers_for(providers=providers)}
    )


@never_cache  # it shows the resident's numbers while the order is under way
def my_order(request, pk: int):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    order = selectors.get_my_order(providers=_providers(request), pk=pk)
    return _my_order_page(request, order)


def _my_order_page(request, order, complete_form=None, status: int = 200):
    """The provider's order page; after a refused 完成, with what they typed
    and the errors next to the fields (nothing to type again on a phone)."""
    phones = selectors.numbers_for_provider(order=order)
    if phones:
        # The provider sees the resident's numbers in full: each showing is logged.
        pii_shown(actor=request.user, target=order, fields=["resident_phones"], purpose="provider")
    if complete_form is None:
        complete_form = CompleteForm(initial={"fee": order.price_due}, team=order.team)
    response = render(
        request,
        "requests/my_order.html",
        {
            "order": order,
            "phones": phones,
            "complete_form": complete_form,
            "return_form": ReasonForm(submit_label=_("Return the order")),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@require_POST
def my_take(request, pk: int):
    order, provider = selectors.get_offered_order(providers=_providers(request), pk=pk)
    try:
        services.order_take(actor=request.user, order=order, provider=provider)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
        return redirect("requests:my_orders")
    messages.success(request, _("The order is yours. Go!"))
    return redirect("requests:my_order", pk=order.pk)


@require_POST
def my_take_assigned(request, pk: int):
    order = selectors.get_my_order(providers=_providers(request), pk=pk)
    try:
        services.order_take(actor=request.user, order=order, provider=order.provider)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("requests:my_order", pk=order.pk)


@require_POST
def my_step(request, pk: int, step: str):
    order = selectors.get_my_order(providers=_providers(request), pk=pk)
    provider = order.provider
    try:
        if step == "on_the_way":
            services.order_on_the_way(actor=request.user, order=order, provider=provider)
        elif step == "arrive":
            services.order_arrive(actor=request.user, order=order, provider=provider)
        elif step == "complete":
            form = CompleteForm(request.POST, team=order.team)
            if not form.is_valid():
                return _my_order_page(request, order, complete_form=form, status=400)
            try:
                services.order_complete(
                    actor=request.user, order=order, provider=provider, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
                return _my_order_page(request, order, complete_form=form, status=400)
            messages.success(
                request,
                _(
                    "Order %(number)s is completed. Thank you! The center will call the resident back."
                )
                % {"number": order.number},
            )
        elif step == "return":
            services.order_return(
                actor=request.user,
                order=order,
                provider=provider,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("Order returned to the center."))
            return redirect("requests:my_orders")
        else:
            raise PermissionDenied
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("requests:my_order", pk=order.pk)


# --- One-key device endpoint ------------------------------------------------------------------


def _device_json(error: str, status: int) -> JsonResponse:
    return JsonResponse({"error": error}, status=status)


@csrf_exempt
@require_POST
def device_call(request):
    """POST {"device_id": "...", "secret": "..."} → 201 {"order": "GD..."}, or
    200 with the same order when the device calls again while it is open.
    Errors are JSON: 400 malformed, 401 bad secret, 404 unknown device, 413 body
    too large, 429 too many calls (per device and per address, settings). Every
    accepted or refused call under the limits is logged (DeviceCall)."""
    conf = settings.LIANXIN
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _device_json("malformed_request", 400)
    if length > conf["DEVICE_MAX_BODY_BYTES"]:
        return _device_json("body_too_large", 413)
    remote_addr = request.META.get("REMOTE_ADDR")
    if not ratelimit.allow(f"device-addr:{remote_addr}", conf["DEVICE_ADDRESS_CALLS_PER_MINUTE"]):
        return _device_json("rate_limited", 429)
    try:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError
        device_id, secret = payload.get("device_id", ""), payload.get("secret", "")
        if not isinstance(device_id, str) or not isinstance(secret, str):
            raise ValueError
    except (ValueError, RecursionError, UnicodeDecodeError, RawPostDataException):
        # RawPostDataException: a form-encoded or multipart body was already
        # parsed (by RejectNulMiddleware); devices send JSON only.
        return _device_json("malformed_json", 400)
    if not ratelimit.allow(f"device:{device_id[:40]}", conf["DEVICE_CALLS_PER_MINUTE"]):
        return _device_json("rate_limited", 429)
    try:
        order = services.device_call(device_id=device_id, secret=secret, remote_addr=remote_addr)
    except services.DeviceRefused as exc:
        return _device_json(exc.code, exc.status)
    return JsonResponse(
        {"order": order.number, "status": order.status, "repeat": order.replayed},
        status=200 if order.replayed else 201,
    )
