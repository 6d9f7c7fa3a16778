from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from . import accounts, ratelimit, selectors, services
from .filters import ServiceItemFilter, StationFilter
from .forms import ActivationForm, ServiceItemForm, StationForm
from .masking import mask_mobile
from .models import Role, ServiceItem
from .notifications import notifications_mark_read
from .pagination import CappedPaginator
from .registry import home_cards_for
from .roles import CATALOGUE_ROLES, STAFF_ROLES, RoleRequiredMixin, station_ids_for
from .tasks import HEARTBEAT_KEY
from .viewmixins import ServiceFormView, add_service_errors


class HomeView(RoleRequiredMixin, TemplateView):
    template_name = "center/home.html"
    allowed_roles = (*STAFF_ROLES, Role.VOLUNTEER, Role.MERCHANT)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["home_cards"] = home_cards_for(user)
        if user.is_staff_role:
            ids = station_ids_for(user)
            ctx["my_stations"] = (
                list(selectors.station_list(user=user)[:12]) if ids is not None else []
            )
            ctx["station_scope_all"] = ids is None
        return ctx


class StationListView(RoleRequiredMixin, FilterView):
    filterset_class = StationFilter
    template_name = "center/station_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.station_list(user=self.request.user)

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "station-results":
            return ["center/_station_results.html"]
        return [self.template_name]


class StationDetailView(RoleRequiredMixin, DetailView):
    template_name = "center/station_detail.html"
    context_object_name = "station"

    def get_object(self, queryset=None):
        return selectors.get_station_for_user(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(selectors.station_detail_context(station=self.object, user=self.request.user))
        return ctx


class StationCreateView(ServiceFormView):
    form_class = StationForm

    def title(self):
        return _("New station")

    def save(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "communities"}
        return services.station_create(
            actor=self.request.user, data=data, communities=form.cleaned_data["communities"]
        )


class StationUpdateView(ServiceFormView):
    form_class = StationForm

    def load(self, **kwargs):
        self.instance = selectors.get_station_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Edit station %(name)s") % {"name": self.instance.name}

    def save(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "communities"}
        return services.station_update(
            actor=self.request.user,
            station=self.instance,
            data=data,
            communities=form.cleaned_data["communities"],
        )


class CatalogueView(RoleRequiredMixin, FilterView):
    """Catalogue browser: all items with filters; grouped by category in the template."""

    allowed_roles = CATALOGUE_ROLES
    filterset_class = ServiceItemFilter
    template_name = "center/catalogue.html"
    paginate_by = 200
    paginator_class = CappedPaginator

    def get_queryset(self):
        qs = selectors.service_item_list()
        if not self.request.user.is_center_manager:
            qs = qs.filter(is_active=True)
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["categories"] = selectors.category_list()
        return ctx


class ServiceItemDetailView(RoleRequiredMixin, DetailView):
    allowed_roles = CATALOGUE_ROLES
    template_name = "center/serviceitem_detail.html"
    context_object_name = "item"

    def get_queryset(self):
        return selectors.service_item_list()


class ServiceItemCreateView(ServiceFormView):
    form_class = ServiceItemForm

    def title(self):
        return _("New service item")

    def save(self, form):
        return services.service_item_create(actor=self.request.user, data=form.cleaned_data)


class ServiceItemUpdateView(ServiceFormView):
    form_class = ServiceItemForm

    def load(self, **kwargs):
        self.instance = get_object_or_404(ServiceItem, pk=kwargs["pk"])

    def title(self):
        return _("Edit service item %(name)s") % {"name": self.instance.name}

    def save(self, form):
        return services.service_item_update(
            actor=self.request.user, item=self.instance, data=form.cleaned_data
        )


@never_cache
def healthz(request):
    """Liveness for operators of the portal: database, cache, last beat run."""
    status = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # report, don't crash: this page exists to say what is down
        status["database"] = "down"
    try:
        cache.set("lianxin:healthz", "1", 5)
        if cache.get("lianxin:healthz") != "1":
            status["cache"] = "down"
    except Exception:
        status["cache"] = "down"
    status["beat_last_run"] = cache.get(HEARTBEAT_KEY) if status["cache"] == "ok" else None
    code = 200 if status["database"] == status["cache"] == "ok" else 503
    return JsonResponse(status, status=code)


def forbidden(request, exception=None):
    return render(request, "403.html", status=403)


@login_required
def inbox(request):
    """The user's messages, newest first; opening the page reads them."""
    items = list(request.user.notifications.all()[:50])
    unread = {n.pk for n in items if n.read_at is None}
    if unread:
        notifications_mark_read(user=request.user)
    return render(request, "center/inbox.html", {"items": items, "unread": unread})


@login_required
def inbox_badge(request):
    """htmx: the unread count in the navbar, loaded after the page (so pages pay no query for it)."""
    count = request.user.notifications.filter(read_at__isnull=True)[:100].count()
    return render(request, "center/_inbox_badge.html", {"count": count})


# --- Provider logins (center.accounts) ---------------------------------------------


def activation_codes_page(request, *, issued, purpose: str, title: str, next_url: str):
    """Freshly issued activation codes, shown to the staff member exactly once:
    rendered by the POST that issued them (no redirect, nothing kept to show
    again), never cached, each showing audited. They hand each code over."""
    issued = [i for i in issued if i.code]
    accounts.activation_codes_shown(actor=request.user, issued=issued, purpose=purpose)
    response = render(
        request,
        "center/activation_codes.html",
        {
            "title": title,
            "rows": [(i, mask_mobile(i.user.mobile)) for i in issued],
            "next_url": next_url,
            "activate_url": request.build_absolute_uri(reverse("account_activate")),
        },
    )
    add_never_cache_headers(response)
    return response


@never_cache
@sensitive_post_parameters("code", "password", "password2")
def account_activate(request):
    """Public: a volunteer or merchant sets their password with the code they
    were given (mobile + code + new password), then is logged in."""
    form = ActivationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        conf = settings.LIANXIN
        mobile, window = form.cleaned_data["mobile"], conf["ACTIVATION_WINDOW_SECONDS"]
        address = request.META.get("REMOTE_ADDR", "")
        if not (
            ratelimit.allow(f"activate:{mobile}", conf["ACTIVATION_ATTEMPTS"], window)
            and ratelimit.allow(
                f"activate-addr:{address}", conf["ACTIVATION_ATTEMPTS"] * 10, window
            )
        ):
            form.add_error(
                None,
                _("Too many attempts. Wait %(minutes)s minutes, then try again.")
                % {"minutes": window // 60},
            )
            status = 429
        else:
            try:
                user = accounts.account_activate(
                    mobile=mobile,
                    code=form.cleaned_data["code"],
                    password=form.cleaned_data["password"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                login(request, user, backend="center.auth.MobileOrUsernameBackend")
                messages.success(request, _("Your password is set. Welcome to Lianxin!"))
                return redirect("center:home")
    return render(request, "registration/activate.html", {"form": form}, status=status)
