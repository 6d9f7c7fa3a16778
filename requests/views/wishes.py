"""Micro-wish pages: the public wall and a wish's shareable page (no login,
masked), adoption by a signed-in volunteer, "My wishes" on the phone, and the
staff pages (campaign list, new wish, detail with the steps, overdue
adoptions). Thin: every change is a service of ``requests.services.wishes``."""

import datetime

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView, TemplateView

from center import photos
from center.models import Role
from center.pagination import CappedPaginator
from center.roles import STAFF_ROLES, RoleRequiredMixin, require_role
from center.viewmixins import ServiceFormView, service_errors_to_messages
from volunteers.models import Volunteer
from volunteers.selectors import volunteer_of

from .. import selectors
from ..forms import ReasonForm
from ..forms_wishes import (
    AdoptForm,
    DelivererForm,
    FulfilForm,
    OrganizationAdoptForm,
    WallFilterForm,
    WishForm,
)
from ..models import MicroWish, WishAdoption
from ..selectors import wishes as wish_selectors
from ..services import wishes as services

STAFF = tuple(STAFF_ROLES)
WALL_PAGE = 24
# A publishable photo may be cached a few minutes by browsers and proxies:
# that is how long it may still show after staff hide it from the wall.
PUBLIC_PHOTO_CACHE = "public, max-age=300"
# A photo not cleared for the wall may show a face: kept by no cache.
STAFF_PHOTO_CACHE = "private, no-store"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- The public wall (no login) ------------------------------------------------------------


@require_GET
def wish_wall(request):
    """Mobile-first: wishes waiting for an adopter (rolled-over ones first),
    then the latest adopted and fulfilled. Masked (``PublicWish``)."""
    districts = wish_selectors.wall_districts()
    district = next((d for d in districts if d.pk == _int(request.GET.get("district"))), None)
    # A district lists its communities; without one, a shared link's
    # ?community=<pk> still filters (that community is the one choice).
    communities = wish_selectors.wall_communities(
        district, community_pk=_int(request.GET.get("community"))
    )
    form = WallFilterForm(request.GET or None, districts=districts, communities=communities)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = {}
    if data.get("district"):
        filters["district_id"] = data["district"]
    if data.get("community"):
        filters["community_id"] = data["community"]
    if data.get("kind"):
        filters["kind"] = data["kind"]
    paginator = CappedPaginator(wish_selectors.wall_waiting(filters), WALL_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "requests/wish_wall.html",
        {
            "filter_form": form,
            "page_obj": page,
            "waiting": [wish_selectors.public_wish(w) for w in page.object_list],
            "done": wish_selectors.wall_done(filters) if page.number == 1 else [],
        },
    )


@require_GET
def wish_public(request, pk: int):
    """A wish's shareable page: 404 unless it is on the wall."""
    wish = wish_selectors.get_public_wish(pk=pk)
    # Signed in but not able to adopt (not a volunteer, under a sanction,
    # already holds a share): the page says why instead of showing the button.
    refusal = wish_selectors.adopt_refusal(user=request.user, wish=wish)
    can_adopt_here = wish.can_adopt and request.user.is_authenticated and not refusal
    return render(
        request,
        "requests/wish_public.html",
        {
            "wish": wish,
            "adopt_refusal": refusal,
            "adopt_form": AdoptForm(shares_left=wish.shares_left) if can_adopt_here else None,
        },
    )


@require_GET
def wish_public_photo(request, pk: int):
    """A wish's photo for the wall and the shared page: only of a wish on the
    wall whose photo staff marked publishable, else 404."""
    return photos.photo_response(wish_selectors.get_public_photo(pk=pk), PUBLIC_PHOTO_CACHE)


@require_GET
def wish_photo(request, pk: int, which: str):
    """A wish's photo or its fulfilment photo for the staff pages, scoped as
    the wish's detail page (another station's wish: 404)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    require_role(request.user, *STAFF)
    photo = wish_selectors.get_wish_photo_for_user(user=request.user, pk=pk, which=which)
    return photos.photo_response(photo, STAFF_PHOTO_CACHE)


@require_POST
def wish_adopt(request, pk: int):
    """A signed-in volunteer adopts (a share of) a wish; anyone else signs in
    first and comes back to the wish's page."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("requests:wish_public", args=[pk]))
    volunteer = _my_volunteer(request)
    wish = wish_selectors.get_adoptable_wish(pk=pk)
    form = AdoptForm(request.POST, shares_left=wish.shares_left)
    back = reverse("requests:wish_public", args=[pk])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        services.wish_adopt(
            actor=request.user,
            wish=wish,
            volunteer=volunteer,
            shares=form.cleaned_data["shares"],
            is_remote=form.cleaned_data["is_remote"],
        )
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
        return redirect(back)
    messages.success(
        request, _("Thank you! Contact the family through the station within the days shown.")
    )
    return redirect("requests:my_wishes")


# --- My wishes (a volunteer, on the phone) ---------------------------------------------------


def _my_volunteer(request) -> Volunteer:
    require_role(request.user, Role.VOLUNTEER)
    volunteer = volunteer_of(request.user)
    if volunteer is None:
        raise PermissionDenied
    return volunteer


def my_wishes(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    volunteer = _my_volunteer(request)
    return _my_wishes_page(request, volunteer)


def _my_wishes_page(request, volunteer: Volunteer, failed: dict | None = None, status: int = 200):
    """The "My wishes" page; ``failed``: the fulfilment refused for one wish,
    shown again on it with what was typed and why (a rejected photo keeps
    the note and the amount)."""
    adoptions = wish_selectors.my_adoptions(volunteer=volunteer)
    for adoption in adoptions:
        wish = adoption.wish
        # The buttons ask the wish (MicroWish.can) through this dict; a shared
        # wish's fulfilment is the station's to record (services.wish_fulfil).
        wish.steps = {s: wish.can(s) for s in ("contact", "fulfil")}
        wish.shared_fulfilment = wish.steps["fulfil"] and not services.adopter_records_fulfilment(
            adoption.wish_adopters or 0
        )
        if wish.shared_fulfilment:
            wish.steps["fulfil"] = False
        wish.failed = failed if failed and failed["pk"] == wish.pk else None
        wish.station_phone = readable_phone(wish.station.phone)
    return render(
        request,
        "requests/wish_mine.html",
        {
            "adoptions": adoptions,
            "volunteer": volunteer,
            "fulfil_form": FulfilForm(),
            "shared_fulfilment": services.SHARED_FULFILMENT,
            "now": timezone.now(),
        },
        status=status,
    )


def readable_phone(phone) -> dict | None:
    """A station's number as people read and dial it: "0573-8361 9952" (a
    landline's area code, then the number), "138 1234 5678", with a tel: link
    in the international form; None when there is none."""
    if not phone:
        return None
    try:
        national = phone.as_national
        e164 = phone.as_e164
    except AttributeError:  # a number the field could not parse: shown as stored
        return {"label": str(phone), "tel": str(phone).replace(" ", "")}
    if national.startswith("0") and " " in national:
        national = national.replace(" ", "-", 1)
    return {"label": national, "tel": e164}


@require_POST
def my_wish_step(request, pk: int, step: str):
    volunteer = _my_volunteer(request)
    wish = wish_selectors.get_my_wish(volunteer=volunteer, pk=pk)
    if step == "contact":
        try:
            services.wish_contact(actor=request.user, wish=wish, volunteer=volunteer)
        except ValidationError as exc:
            service_errors_to_messages(request, exc)
        else:
            messages.success(request, _("Recorded: the family was contacted."))
    elif step == "fulfil":
        form = FulfilForm(request.POST, request.FILES)
        try:
            if not form.is_valid():
                raise ValidationError(_form_errors(form))
            services.wish_fulfil(
                actor=request.user,
                wish=wish,
                volunteer=volunteer,
                note=form.cleaned_data["note"],
                spent=form.cleaned_data["spent"],
                photo=form.cleaned_data["photo"],
            )
        except ValidationError as exc:
            # The page again, the note and the amount as typed (a file input
            # cannot be refilled: the photo is chosen again).
            failed = {
                "pk": wish.pk,
                "note": request.POST.get("note", "")[:2000],
                "spent": request.POST.get("spent", "")[:20],
                "errors": exc.messages,
                "photo_lost": bool(request.FILES.get("photo")),
            }
            return _my_wishes_page(request, volunteer, failed=failed, status=400)
        messages.success(request, _("Thank you! The station will confirm it with the family."))
    else:
        raise Http404
    return redirect("requests:my_wishes")


def _form_errors(form) -> list[str]:
    return [
        f"{form.fields[f].label if f in form.fields else ''} {e}".strip()
        for f, errors in form.errors.items()
        for e in errors
    ]


# --- Staff ------------------------------------------------------------------------------------


class WishListView(RoleRequiredMixin, ListView):
    """The station's campaign: this month's figures and its wishes by status."""

    allowed_roles = STAFF
    template_name = "requests/wish_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator
    context_object_name = "wishes"

    def status(self) -> str:
        status = self.request.GET.get("status", "")
        return status if status in MicroWish.Status.values else ""

    def get_queryset(self):
        return wish_selectors.wish_rows(user=self.request.user, status=self.status())

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        labels = {k: str(v) for k, v in MicroWish.Status.choices}
        for wish in ctx["wishes"]:
            wish.status_label = labels.get(wish.status, wish.status)
        ctx.update(
            campaign=wish_selectors.campaign_counts(user=self.request.user),
            statuses=MicroWish.Status.choices,
            status=self.status(),
        )
        return ctx


class WishOverdueView(RoleRequiredMixin, ListView):
    """Adoptions whose family was not contacted in time: release them back to the wall."""

    allowed_roles = STAFF
    template_name = "requests/wish_overdue.html"
    paginate_by = 50
    paginator_class = CappedPaginator
    context_object_name = "wishes"

    def get_queryset(self):
        return wish_selectors.overdue_adoptions(user=self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        now = timezone.now()
        for wish in ctx["wishes"]:
            # Who to call (masked: the station calls them through their record).
            wish.adopters = wish_selectors.adopter_rows(wish.active_adoptions)
            wish.days_overdue = (now - wish.contact_due_at).days
        return ctx


class WishCreateView(ServiceFormView):
    """A wish recorded for a resident the user may see (``?resident=<pk>``)."""

    allowed_roles = STAFF
    form_class = WishForm
    template_name = "requests/wish_form.html"

    def load(self, **kwargs):
        pk = _int(self.request.GET.get("resident"))
        self.resident = None
        if pk is not None:
            self.resident = selectors.get_resident_for_user(user=self.request.user, pk=pk)
        elif self.request.method != "GET":
            raise Http404

    def get(self, request, *args, **kwargs):
        if self.resident is None:
            # No resident chosen yet: find one (name prefix or phone) among those in scope.
            term = request.GET.get("q", "").strip()[:32]
            found = (
                list(
                    selectors.resident_search(selectors.resident_list(user=request.user), term)
                    .select_related("community")
                    .only("name", "community__name")
                    .order_by("name", "id")[:20]
                )
                if term
                else []
            )
            return render(
                request, "requests/wish_pick_resident.html", {"term": term, "found": found}
            )
        return super().get(request, *args, **kwargs)

    def title(self):
        return _("New micro-wish of %(name)s") % {"name": self.resident.name}

    def get_initial(self):
        return {"deadline": timezone.localdate() + datetime.timedelta(days=30)}

    def save(self, form):
        data = dict(form.cleaned_data)
        publishable = data.pop("photo_publishable")
        wish = services.wish_create(actor=self.request.user, resident=self.resident, **data)
        if publishable and wish.photo:
            services.wish_photo_publishable(actor=self.request.user, wish=wish, publishable=True)
        return wish

    def success_message(self):
        return _("Wish recorded as a draft: verify it with the family, then publish it.")


class WishUpdateView(ServiceFormView):
    allowed_roles = STAFF
    form_class = WishForm
    template_name = "requests/wish_form.html"

    def load(self, **kwargs):
        self.wish = wish_selectors.get_wish_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Edit the wish “%(title)s”") % {"title": self.wish.title}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "creating": False}

    def get_initial(self):
        return {f: getattr(self.wish, f) for f in services.WISH_FIELDS}

    def save(self, form):
        data = dict(form.cleaned_data)
        photo = data.pop("photo")
        return services.wish_update(actor=self.request.user, wish=self.wish, data=data, photo=photo)

    def success_message(self):
        return _("Wish saved.")


class WishDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = STAFF
    template_name = "requests/wish_detail.html"

    def load(self, **kwargs):
        self.wish = wish_selectors.get_wish_for_user(user=self.request.user, pk=kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        wish = self.wish
        adoptions = wish_selectors.wish_adoptions(wish)
        active = [a for a in adoptions if a.status == WishAdoption.Status.ACTIVE]
        # The steps this wish allows now: the template asks ``can`` through this dict.
        steps = {step: wish.can(step) for step in MicroWish.TRANSITIONS}
        now = timezone.now()
        ctx.update(
            wish=wish,
            steps=steps,
            adoptions=adoptions,
            release_open=steps["release"]
            and (wish.contact_due_at is None or wish.contact_due_at <= now),
            withdraw_form=ReasonForm(submit_label=_("Withdraw the wish"))
            if steps["withdraw"]
            else None,
            adopt_form=OrganizationAdoptForm() if steps["adopt"] else None,
            fulfil_form=FulfilForm() if steps["fulfil"] else None,
        )
        remote = [a for a in active if a.is_remote]
        if remote:
            ctx["deliverer_form"] = DelivererForm(
                adoptions=remote,
                candidates=wish_selectors.deliverer_candidates(wish),
                community_id=wish.community_id,
            )
        return ctx


# What each staff step says when it is done.
STEP_DONE = {
    "verify": _lazy("Verified with the family: the wish can be published now."),
    "publish": _lazy("Published on the wish wall."),
    "release": _lazy("Released: the wish is back on the wall and its adopters were told."),
    "contact": _lazy("Recorded: the family was contacted."),
    "fulfil": _lazy("Fulfilment recorded: confirm it with the family next."),
    "confirm": _lazy("Confirmed with the family: the adopters are thanked."),
    "withdraw": _lazy("The wish is withdrawn; its adopters, if any, were told."),
    "adopt": _lazy("The organization's adoption is recorded."),
    "deliverer": _lazy("The deliverer is named and was notified."),
}


@require_POST
def wish_step(request, pk: int, step: str):
    """Staff record a step of a wish (the buttons of its page)."""
    require_role(request.user, *STAFF)
    wish = wish_selectors.get_wish_for_user(user=request.user, pk=pk)
    actor = request.user
    try:
        if step == "verify":
            services.wish_verify(actor=actor, wish=wish)
        elif step == "publish":
            services.wish_publish(actor=actor, wish=wish)
        elif step == "release":
            services.wish_release(actor=actor, wish=wish, reason=request.POST.get("reason", ""))
        elif step == "contact":
            services.wish_contact(actor=actor, wish=wish)
        elif step == "fulfil":
            form = FulfilForm(request.POST, request.FILES)
            if not form.is_valid():
                raise ValidationError(_form_errors(form))
            services.wish_fulfil(actor=actor, wish=wish, **form.cleaned_data)
        elif step == "confirm":
            services.wish_confirm(actor=actor, wish=wish)
        elif step == "withdraw":
            services.wish_withdraw(actor=actor, wish=wish, reason=request.POST.get("reason", ""))
        elif step == "adopt":
            form = OrganizationAdoptForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_form_errors(form))
            services.wish_adopt(actor=actor, wish=wish, **form.cleaned_data)
        elif step == "deliverer":
            _deliverer_set(request, wish)
        elif step == "photo":
            publishable = request.POST.get("publishable") == "1"
            services.wish_photo_publishable(actor=actor, wish=wish, publishable=publishable)
        else:
            raise Http404
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    else:
        if step == "photo":
            done = (
                _("The photo is shown on the public wall.")
                if publishable
                else _("The photo is hidden from the public wall.")
            )
        else:
            done = str(STEP_DONE[step])
        messages.success(request, done)
    if step == "release" and request.POST.get("next") == "overdue":
        return redirect("requests:wish_overdue")
    return redirect(wish.get_absolute_url())


def _deliverer_set(request, wish: MicroWish) -> None:
    remote = [
        a
        for a in wish_selectors.wish_adoptions(wish)
        if a.is_remote and a.status == WishAdoption.Status.ACTIVE
    ]
    candidates = wish_selectors.deliverer_candidates(wish)
    form = DelivererForm(
        request.POST, adoptions=remote, candidates=candidates, community_id=wish.community_id
    )
    if not form.is_valid():
        raise ValidationError(_form_errors(form))
    adoption = next(a for a in remote if a.pk == form.cleaned_data["adoption"])
    deliverer = next(v for v in candidates if v.pk == form.cleaned_data["deliverer"])
    services.wish_deliverer_set(actor=request.user, adoption=adoption, deliverer=deliverer)
