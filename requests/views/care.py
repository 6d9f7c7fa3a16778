"""Care pages (issue 11): the staff care lists (overdue visits, silent
residents), a resident's care, pairing forms, visit records and the rota;
the volunteer's "My residents" (我的结对) on the phone. Thin: selectors read,
services write."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import ListView, TemplateView

from center.audit import pii_shown
from center.masking import mask_name
from center.models import Role
from center.pagination import CappedPaginator
from center.roles import STAFF_ROLES, RoleRequiredMixin, has_role, is_staff_role
from center.viewmixins import ServiceFormView, add_service_errors, service_errors_to_messages
from volunteers.selectors import volunteer_of

from .. import selectors
from ..forms_care import (
    NeedOrderForm,
    NeedWishForm,
    PairingEndForm,
    PairingForm,
    PairingUpdateForm,
    RotaForm,
    VisitForm,
)
from ..models import ResidentContact, ResidentPhone
from ..selectors import care as care_selectors
from ..services import care as care_services

STAFF = tuple(STAFF_ROLES)
STAFF_AND_VOLUNTEERS = (*STAFF, Role.VOLUNTEER)


def _volunteer(request):
    """The signed-in volunteer's record: 403 for anyone else (a volunteer
    login whose record is gone too)."""
    volunteer = volunteer_of(request.user)
    if volunteer is None:
        raise PermissionDenied
    return volunteer


def _login_first(request):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    return None


# --- Staff: the care lists -----------------------------------------------------------------


class CareOverviewView(RoleRequiredMixin, ListView):
    """Two tabs: visits overdue (active pairings past their cadence) and
    silent special-group residents (no visit, call or order for
    ``CARE_SILENT_DAYS``), each scoped to the residents the user may see."""

    template_name = "requests/care_overview.html"
    paginate_by = 50
    paginator_class = CappedPaginator
    TABS = ("overdue", "silent")

    def get_queryset(self):
        self.tab = self.request.GET.get("tab", "overdue")
        if self.tab not in self.TABS:
            self.tab = "overdue"
        if self.tab == "silent":
            return care_selectors.silent_residents(user=self.request.user)
        return care_selectors.overdue_pairings(user=self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        if self.tab == "overdue":
            for p in ctx["object_list"]:
                p.days_overdue = (today - p.next_visit_due).days
        return {**ctx, "tab": self.tab, "silent_days": settings.LIANXIN["CARE_SILENT_DAYS"]}


class CareResidentView(RoleRequiredMixin, TemplateView):
    """One resident's care: pairings, latest visits, the rota."""

    template_name = "requests/care_resident.html"

    def load(self, **kwargs):
        self.resident = selectors.get_resident_for_user(user=self.request.user, pk=kwargs["pk"])

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "resident": self.resident,
            **care_selectors.resident_care(resident=self.resident),
        }


# --- Staff: pairings ---------------------------------------------------------------------


def _care_url(resident) -> str:
    return reverse("requests:care_resident", args=[resident.pk])


class PairingCreateView(ServiceFormView):
    """/care/pairings/new/?resident=<pk>: pair a volunteer (by number) with a resident."""

    allowed_roles = STAFF
    form_class = PairingForm
    template_name = "requests/care_form.html"
    pass_user = True  # the volunteer is looked up among those the user may name

    def load(self, **kwargs):
        pk = self.request.GET.get("resident")
        if not pk and self.request.method == "POST":
            raise Http404
        self.resident = (
            selectors.get_resident_for_user(user=self.request.user, pk=pk) if pk else None
        )

    def get(self, request, *args, **kwargs):
        if self.resident is None:
            # No resident yet: find one (name beginning or phone, the indexed
            # search), each result links back here with ?resident=.
            term = request.GET.get("q", "").strip()[:40]
            found = []
            if term:
                found = list(
                    selectors.resident_search(selectors.resident_list(user=request.user), term)
                    .select_related("community")
                    .order_by("pk")[:20]
                )
            return render(
                request, "requests/care_pick_resident.html", {"q": term, "residents": found}
            )
        return super().get(request, *args, **kwargs)

    def title(self):
        return _("Pair a volunteer with %(name)s") % {"name": self.resident.name}

    def save(self, form):
        volunteer = form.cleaned_data["volunteer"]
        if volunteer is None:
            raise ValidationError({"volunteer": _("Enter the volunteer's number or mobile.")})
        # The service refuses another station's volunteer (a station manager).
        return care_services.pairing_create(
            actor=self.request.user,
            resident=self.resident,
            volunteer=volunteer,
            cadence_days=form.cleaned_data["cadence_days"],
            started_on=form.cleaned_data["started_on"],
        )

    def success_message(self):
        return _("Pairing recorded.")

    def success_url_for(self, obj):
        return _care_url(self.resident)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "resident": self.resident}


class _PairingFormView(ServiceFormView):
    allowed_roles = STAFF
    template_name = "requests/care_form.html"

    def load(self, **kwargs):
        self.pairing = care_selectors.get_pairing_for_user(user=self.request.user, pk=kwargs["pk"])
        if not self.pairing.is_active:
            raise Http404

    def success_url_for(self, obj):
        return _care_url(self.pairing.resident)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "resident": self.pairing.resident}


class PairingUpdateView(_PairingFormView):
    form_class = PairingUpdateForm

    def get_initial(self):
        return {"cadence_days": self.pairing.cadence_days}

    def title(self):
        return _("Visit cadence: %(pairing)s") % {"pairing": self._label()}

    def _label(self):
        return f"{self.pairing.volunteer.name} · {self.pairing.resident.name}"

    def save(self, form):
        return care_services.pairing_update(
            actor=self.request.user,
            pairing=self.pairing,
            cadence_days=form.cleaned_data["cadence_days"],
        )

    def success_message(self):
        return _("Cadence changed.")


class PairingEndView(PairingUpdateView):
    form_class = PairingEndForm

    def get_initial(self):
        return {}

    def title(self):
        return _("End the pairing: %(pairing)s") % {"pairing": self._label()}

    def save(self, form):
        return care_services.pairing_end(
            actor=self.request.user, pairing=self.pairing, reason=form.cleaned_data["reason"]
        )

    def success_message(self):
        return _("Pairing ended.")


# --- Visits: staff, or the paired volunteer -------------------------------------------------


@method_decorator(never_cache, name="dispatch")  # a volunteer sees the resident's numbers
class VisitCreateView(ServiceFormView):
    """Record a visit of a resident. Staff (the resident in scope) name the
    volunteer; a volunteer records their own visit of a resident they are
    paired with or hold a rota slot for (404 for anyone else's resident). The
    paired member (the resident's named person) sees the numbers in full to
    call them (logged); a slot holder sees them masked, tap to reveal (logged),
    from the day before the slot's due date."""

    allowed_roles = STAFF_AND_VOLUNTEERS
    form_class = VisitForm
    template_name = "requests/care_visit_form.html"

    def load(self, **kwargs):
        user = self.request.user
        self.staff = is_staff_role(user)
        self.pairing = None
        if self.staff:
            self.volunteer = None
            self.resident = selectors.get_resident_for_user(user=user, pk=kwargs["pk"])
            care = care_selectors.resident_care(resident=self.resident)
            self.slots = [s for s in care["slots"] if s.volunteer_id and not s.visit_id]
            self.paired = [p.volunteer for p in care["pairings"] if p.is_active]
        else:
            self.volunteer = _volunteer(self.request)
            self.resident, self.pairing = care_selectors.get_my_resident(
                volunteer=self.volunteer, pk=kwargs["pk"]
            )
            self.slots = care_selectors.my_slots_for(
                volunteer=self.volunteer, resident=self.resident
            )

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "staff": self.staff,
            "slots": self.slots,
            "user": self.request.user,
            "resident": self.resident,
        }

    def get_initial(self):
        # Staff: the resident's one active paired member goes, most often.
        if self.staff and len(self.paired) == 1:
            return {"volunteer": self.paired[0].volunteer_no}
        return {}

    def title(self):
        return _("Visit of %(name)s") % {"name": self.resident.name}

    def save(self, form):
        data = form.cleaned_data
        volunteer = data.get("volunteer") if self.staff else self.volunteer
        if volunteer is None:
            raise ValidationError(
                {"volunteer": _("Enter the number or mobile of the volunteer who went.")}
            )
        return care_services.care_visit_record(
            actor=self.request.user,
            resident=self.resident,
            volunteer=volunteer,
            visited_on=data["visited_on"],
            minutes=data["minutes"],
            found=data["found"],
            pairing=self.pairing if volunteer == self.volunteer else None,
            slot=data.get("slot"),
        )

    def success_message(self):
        return _("Visit recorded.")

    def success_url_for(self, obj):
        return reverse("requests:visit_detail", args=[obj.pk])

    def get_context_data(self, **kwargs):
        ctx = {**super().get_context_data(**kwargs), "resident": self.resident}
        if not self.staff:
            ctx["volunteer_page"] = True
            # The member calls the resident (or a contact) to arrange the
            # visit: the numbers on the page, not again with a refused form.
            # The special-group badges (a sensitive membership generic)
            # say who they visit.
            resident = care_selectors.visit_page_resident(
                resident=self.resident,
                numbers=self.request.method == "GET" and bool(self.pairing or self.slots),
            )
            ctx["badges"] = resident.badges
            phones, contacts = resident.phone_list, resident.contact_list
            if self.pairing is not None:
                ctx["phones"], ctx["contacts"] = phones, contacts
                fields = [f for f, rows in (("phones", phones), ("contacts", contacts)) if rows]
                if fields:
                    pii_shown(
                        actor=self.request.user,
                        target=self.resident,
                        fields=fields,
                        purpose="pairing",
                    )
            elif self.slots:
                # A slot holder: masked, each number revealed on a tap (logged)
                # from the day before the visit (care_services.care_phone_reveal).
                ctx["masked_phones"], ctx["masked_contacts"] = phones, contacts
                ctx["phones_open_from"] = care_services.phones_open_from(self.slots[0].due_on)
                ctx["phones_open"] = timezone.localdate() >= ctx["phones_open_from"]
        return ctx


@never_cache
@require_POST
def care_phone_reveal(request, pk: int, phone_pk: int):
    """htmx: one of the resident's numbers in full for the volunteer who will
    visit (paired, or holding a rota slot from the day before it), logged."""
    return _reveal(request, pk, phone_pk=phone_pk)


@never_cache
@require_POST
def care_contact_reveal(request, pk: int, contact_pk: int):
    """htmx: an emergency contact's number in full, the same rule and log."""
    return _reveal(request, pk, contact_pk=contact_pk)


def _reveal(request, pk: int, **which):
    volunteer = _volunteer(request)
    resident, _pairing = care_selectors.get_my_resident(volunteer=volunteer, pk=pk)
    try:
        value = care_services.care_phone_reveal(
            actor=request.user, volunteer=volunteer, resident=resident, **which
        )
    except (ResidentPhone.DoesNotExist, ResidentContact.DoesNotExist) as exc:
        raise Http404 from exc
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return render(request, "requests/_phone_revealed.html", {"value": value})


def _visit_page(request, visit, order_form=None, wish_form=None, status=200):
    """The visit, what its need became (an order, a wish: each once per
    visit, so its form gives way to a link) and the forms still open."""
    staff = is_staff_role(request.user)
    outcome = care_selectors.visit_outcome(visit=visit)
    return render(
        request,
        "requests/care_visit_detail.html",
        {
            "visit": visit,
            "staff": staff,
            **outcome,
            # A form posted again (its error says why) stays; an unused one shows.
            "order_form": order_form
            or (
                None
                if outcome["order"]
                else NeedOrderForm(initial={"description": visit.found}, staff=staff)
            ),
            "wish_form": wish_form or (None if outcome["wish"] else NeedWishForm()),
        },
        status=status,
    )


def _visit_for(request, pk):
    if not has_role(request.user, *STAFF_AND_VOLUNTEERS):
        raise PermissionDenied
    return care_selectors.get_visit_for_user(user=request.user, pk=pk)


def visit_detail(request, pk: int):
    """A visit, and its need turned into an order or a micro-wish in one click
    (staff in scope, or the volunteer who visited)."""
    if response := _login_first(request):
        return response
    return _visit_page(request, _visit_for(request, pk))


@require_POST
def visit_order(request, pk: int):
    visit = _visit_for(request, pk)
    form = NeedOrderForm(request.POST, staff=is_staff_role(request.user))
    if form.is_valid():
        try:
            order = care_services.visit_need_to_order(
                actor=request.user, visit=visit, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Order %(number)s recorded.") % {"number": order.number})
            if is_staff_role(request.user):
                return redirect(order.get_absolute_url())
            return redirect("requests:visit_detail", pk=visit.pk)
    return _visit_page(request, visit, order_form=form, status=400)


@require_POST
def visit_wish(request, pk: int):
    visit = _visit_for(request, pk)
    form = NeedWishForm(request.POST)
    if form.is_valid():
        try:
            care_services.visit_need_to_wish(actor=request.user, visit=visit, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Micro-wish recorded as a draft for the station to verify.")
            )
            return redirect("requests:visit_detail", pk=visit.pk)
    return _visit_page(request, visit, wish_form=form, status=400)


# --- Rota care ----------------------------------------------------------------------------


class RotaScheduleView(ServiceFormView):
    allowed_roles = STAFF
    form_class = RotaForm
    template_name = "requests/care_form.html"

    def load(self, **kwargs):
        self.resident = selectors.get_resident_for_user(user=self.request.user, pk=kwargs["pk"])

    def title(self):
        return _("Rota visits for %(name)s") % {"name": self.resident.name}

    def save(self, form):
        self.slots = care_services.rota_schedule(
            actor=self.request.user, resident=self.resident, **form.cleaned_data
        )
        return self.resident

    def success_message(self):
        return _("%(n)s rota visits scheduled.") % {"n": len(self.slots)}

    def success_url_for(self, obj):
        return _care_url(self.resident)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "resident": self.resident}


@require_POST
def slot_take(request, pk: int):
    """A volunteer takes an open rota visit near them (one winner)."""
    volunteer = _volunteer(request)
    slot = care_selectors.get_open_slot_near(volunteer=volunteer, pk=pk)
    try:
        care_services.care_slot_take(actor=request.user, slot=slot, volunteer=volunteer)
        messages.success(request, _("The visit is yours."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("requests:my_care")


@require_POST
def slot_release(request, pk: int):
    """The holder gives a rota visit back; staff in scope may free it too."""
    if is_staff_role(request.user):
        slot = care_selectors.get_slot_for_user(user=request.user, pk=pk)
        volunteer, back = None, _care_url(slot.resident)
    else:
        volunteer = _volunteer(request)
        slot = care_selectors.get_open_slot_near(volunteer=volunteer, pk=pk)
        back = reverse("requests:my_care")
    try:
        care_services.care_slot_release(actor=request.user, slot=slot, volunteer=volunteer)
        messages.success(request, _("The visit is open again."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(back)


# --- The volunteer's side (mobile-first) ------------------------------------------------------


def my_care(request):
    """我的结对: the member's residents, most overdue first, each with a
    record-visit form; the rota visits they hold; open ones near them."""
    if response := _login_first(request):
        return response
    volunteer = _volunteer(request)
    today = timezone.localdate()
    pairings = care_selectors.my_pairings(volunteer=volunteer)
    silent_since = care_selectors.silent_since()
    for p in pairings:
        p.days_overdue = (today - p.next_visit_due).days
        # The staff "silent" list, seen from the member's side: no visit, call
        # or order for CARE_SILENT_DAYS (last_contact_at is read with the row).
        last = p.resident.last_contact_at
        p.silent = p.resident.is_special and (last is None or last < silent_since)
    # Residents not (yet) theirs: the name masked until they take the visit.
    open_slots = care_selectors.open_slots_near(volunteer=volunteer)
    for s in open_slots:
        s.masked_name = mask_name(s.resident.name)
    return render(
        request,
        "requests/care_mine.html",
        {
            "volunteer": volunteer,
            "pairings": pairings,
            "my_slots": care_selectors.my_slots(volunteer=volunteer),
            "open_slots": open_slots,
            "visit_form": VisitForm(staff=False),
            "today": today,
            "silent_days": settings.LIANXIN["CARE_SILENT_DAYS"],
        },
    )
