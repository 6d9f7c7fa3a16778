"""Staff's service-day pages: the days (add, move), a day's venues with
their stalls and shifts, the forms that set them up, a venue's roster with
check-in and check-out (live, htmx), a stall's report and a message to
everyone on a day. Thin: ``selectors_staff`` reads (scoped: another
station's venue is 404), ``services.stalls`` / ``days`` / ``signups`` write.

Who: operators read (city-wide) and get 403 on every write; station managers
write for their stations, center managers for all; only center managers add
or move a day. Volunteers and others: 403; visitors: the login page."""

from itertools import groupby

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView, TemplateView

from center.models import Role
from center.pagination import CappedPaginator
from center.roles import (
    ALL,
    STAFF_ROLES,
    RoleRequiredMixin,
    has_role,
    is_center_manager,
    is_manager,
    station_ids_for,
)
from center.viewmixins import ServiceFormView, service_errors_to_messages

from . import selectors_staff as selectors
from .forms import (
    ConfirmDeleteForm,
    DayAddForm,
    DayMessageForm,
    DayMoveForm,
    ShiftForm,
    StallForm,
    StallReportForm,
    VenueForm,
)
from .services import days as day_services
from .services import signups as signup_services
from .services import stalls as stall_services
from .services.signups import SERVICE_TZ

STAFF = tuple(STAFF_ROLES)
MANAGERS = (Role.STATION_MANAGER, Role.CENTER_MANAGER)


def _url_or_empty(name: str, pk: int) -> str:
    """A URL of another part of the app that may not exist yet (the stall's
    check-in code, its photo upload): "" until it does."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _staff(request, *roles):
    """None for a user with one of ``roles`` (staff by default); a redirect
    to the login page for a visitor; 403 for anyone else."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    if not has_role(request.user, *(roles or STAFF)):
        raise PermissionDenied
    return None


def _day_url(day) -> str:
    return reverse("events:day_detail", args=[day.pk])


def _roster_url(venue) -> str:
    return reverse("events:venue_roster", args=[venue.pk])


def _is_past(day) -> bool:
    return day.date < timezone.localdate()


# --- The days ----------------------------------------------------------------------


class DayListView(RoleRequiredMixin, ListView):
    """服务日 (staff): coming days soonest first, then the last three months',
    each with the counts of the user's scope; center managers add an extra
    day and move a coming one."""

    allowed_roles = STAFF
    template_name = "events/staff/day_list.html"
    context_object_name = "days"
    paginate_by = 20
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.day_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        for day in ctx["days"]:
            day.is_over = day.date < today
        return {
            **ctx,
            "can_manage_days": is_center_manager(self.request.user),
            "add_form": DayAddForm(),
        }


@require_POST
def day_add(request):
    """An extra service day (center managers)."""
    if response := _staff(request, Role.CENTER_MANAGER):
        return response
    form = DayAddForm(request.POST)
    if form.is_valid():
        try:
            day = day_services.service_day_add(
                actor=request.user,
                date=form.cleaned_data["date"],
                theme=form.cleaned_data["theme"],
            )
        except ValidationError as exc:
            service_errors_to_messages(request, exc)
        else:
            messages.success(
                request, _("Extra service day added: %(date)s.") % {"date": day.date.isoformat()}
            )
    else:
        service_errors_to_messages(request, ValidationError(list(_form_errors(form))))
    return redirect("events:day_list")


@require_POST
def day_move(request, pk: int):
    """Move a service day to another date (center managers; a holiday)."""
    if response := _staff(request, Role.CENTER_MANAGER):
        return response
    day = selectors.get_day(pk=pk)
    form = DayMoveForm(request.POST)
    if form.is_valid():
        try:
            day = day_services.service_day_move(
                actor=request.user, day=day, date=form.cleaned_data["date"]
            )
        except ValidationError as exc:
            service_errors_to_messages(request, exc)
        else:
            messages.success(
                request,
                _("The service day is moved to %(date)s.") % {"date": day.date.isoformat()},
            )
    else:
        service_errors_to_messages(request, ValidationError(list(_form_errors(form))))
    return redirect("events:day_list")


def _form_errors(form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            yield f"{label}: {error}" if label else error


class DayDetailView(RoleRequiredMixin, TemplateView):
    """A day's venues in the user's scope, by station, each with its stalls
    and shifts (places taken of places, waiting); managers set them up."""

    allowed_roles = STAFF
    template_name = "events/staff/day_detail.html"

    def load(self, **kwargs):
        self.day = selectors.get_day(pk=kwargs["pk"])

    def get_context_data(self, **kwargs):
        user = self.request.user
        try:
            station_id = int(self.request.GET.get("station", ""))
        except ValueError:
            station_id = None
        city_wide = station_ids_for(user) is ALL
        summary = []
        if city_wide and station_id is None:
            # The whole city's day is a thousand venues: a table per station
            # to pick from, the details of one station at a time.
            venues = []
            summary = selectors.day_station_summary(user=user, day=self.day)
        else:
            venues = selectors.day_venues(user=user, day=self.day, station_id=station_id)
        stations = [
            (station, list(group)) for station, group in groupby(venues, key=lambda v: v.station)
        ]
        past = _is_past(self.day)
        return {
            **super().get_context_data(**kwargs),
            "day": self.day,
            "summary": summary,
            "station_filter": station_id,
            "stations": stations,
            "venue_count": len(venues),
            "capped": len(venues) >= selectors.MAX_VENUES,
            "is_over": past,
            "can_edit": is_manager(self.request.user) and not past,
            "can_message": is_manager(self.request.user) and not past,
        }


# --- Setting a day up: venues, stalls, shifts (managers) ---------------------------------


class _StaffFormView(ServiceFormView):
    allowed_roles = MANAGERS
    template_name = "events/staff/form.html"
    danger = False

    def back_url(self) -> str:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "back_url": self.back_url()}


class VenueCreateView(_StaffFormView):
    form_class = VenueForm

    def load(self, **kwargs):
        self.day = selectors.get_day(pk=kwargs["pk"])

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "stations": selectors.stations_for_venues(user=self.request.user),
        }

    def title(self):
        return _("New venue on %(date)s") % {"date": self.day.date.isoformat()}

    def back_url(self):
        return _day_url(self.day)

    def save(self, form):
        return stall_services.venue_create(
            actor=self.request.user, day=self.day, data=form.cleaned_data
        )

    def success_message(self):
        return _("Venue added.")

    def success_url_for(self, obj):
        return _day_url(self.day)


class _VenueView(_StaffFormView):
    def load(self, **kwargs):
        self.venue = selectors.get_venue_for_user(user=self.request.user, pk=kwargs["pk"])
        self.day = self.venue.day

    def back_url(self):
        return _day_url(self.day)

    def success_url_for(self, obj):
        return _day_url(self.day)


class VenueUpdateView(_VenueView):
    form_class = VenueForm

    def load(self, **kwargs):
        super().load(**kwargs)
        self.instance = self.venue

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "stations": selectors.stations_for_venues(user=self.request.user),
        }

    def title(self):
        return _("Venue: %(name)s") % {"name": self.venue.name}

    def save(self, form):
        return stall_services.venue_update(
            actor=self.request.user, venue=self.venue, data=form.cleaned_data
        )

    def success_message(self):
        return _("Venue saved.")


class VenueDeleteView(_VenueView):
    form_class = ConfirmDeleteForm
    danger = True

    def title(self):
        return _("Delete the venue %(name)s?") % {"name": self.venue.name}

    def save(self, form):
        stall_services.venue_delete(actor=self.request.user, venue=self.venue)
        return self.venue

    def success_message(self):
        return _("Venue deleted.")


class StallCreateView(_VenueView):
    form_class = StallForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "venue": self.venue}

    def title(self):
        return _("New stall at %(venue)s") % {"venue": self.venue.name}

    def save(self, form):
        return stall_services.stall_create(
            actor=self.request.user, venue=self.venue, data=form.cleaned_data
        )

    def success_message(self):
        return _("Stall added.")


class _StallView(_StaffFormView):
    def load(self, **kwargs):
        self.stall = selectors.get_stall_for_user(user=self.request.user, pk=kwargs["pk"])
        self.day = self.stall.venue.day

    def back_url(self):
        return _day_url(self.day)

    def success_url_for(self, obj):
        return _day_url(self.day)


class StallUpdateView(_StallView):
    form_class = StallForm

    def load(self, **kwargs):
        super().load(**kwargs)
        self.instance = self.stall

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "venue": self.stall.venue}

    def title(self):
        return _("Stall: %(service)s") % {"service": self.stall.service}

    def save(self, form):
        return stall_services.stall_update(
            actor=self.request.user, stall=self.stall, data=form.cleaned_data
        )

    def success_message(self):
        return _("Stall saved.")


class StallDeleteView(_StallView):
    form_class = ConfirmDeleteForm
    danger = True

    def title(self):
        return _("Delete the stall %(service)s?") % {"service": self.stall.service}

    def save(self, form):
        stall_services.stall_delete(actor=self.request.user, stall=self.stall)
        return self.stall

    def success_message(self):
        return _("Stall deleted.")


class ShiftCreateView(_StallView):
    form_class = ShiftForm

    def title(self):
        return _("New shift at %(service)s, %(date)s") % {
            "service": self.stall.service,
            "date": self.day.date.isoformat(),
        }

    def save(self, form):
        return stall_services.shift_create(
            actor=self.request.user, stall=self.stall, **form.cleaned_data
        )

    def success_message(self):
        return _("Shift added.")


class _ShiftView(_StaffFormView):
    def load(self, **kwargs):
        self.shift = selectors.get_shift_for_user(user=self.request.user, pk=kwargs["pk"])
        self.day = self.shift.stall.venue.day

    def back_url(self):
        return _day_url(self.day)

    def success_url_for(self, obj):
        return _day_url(self.day)

    def _label(self):
        start = timezone.localtime(self.shift.starts_at, SERVICE_TZ)
        end = timezone.localtime(self.shift.ends_at, SERVICE_TZ)
        return f"{self.shift.stall.service} {start:%H:%M}–{end:%H:%M}"


class ShiftUpdateView(_ShiftView):
    form_class = ShiftForm

    def get_initial(self):
        return {
            "start": timezone.localtime(self.shift.starts_at, SERVICE_TZ).time(),
            "end": timezone.localtime(self.shift.ends_at, SERVICE_TZ).time(),
            "capacity": self.shift.capacity,
        }

    def title(self):
        return _("Shift: %(shift)s") % {"shift": self._label()}

    def save(self, form):
        return stall_services.shift_update(
            actor=self.request.user, shift=self.shift, **form.cleaned_data
        )

    def success_message(self):
        return _("Shift saved.")


class ShiftDeleteView(_ShiftView):
    form_class = ConfirmDeleteForm
    danger = True

    def title(self):
        return _("Delete the shift %(shift)s?") % {"shift": self._label()}

    def save(self, form):
        stall_services.shift_delete(actor=self.request.user, shift=self.shift)
        return self.shift

    def success_message(self):
        return _("Shift deleted.")


# --- The roster: who comes, check-in and check-out, live -----------------------------


def _roster_context(request, venue) -> dict:
    stalls = selectors.venue_roster(venue=venue)
    for stall in stalls:
        stall.code_url = _url_or_empty("events:stall_code", stall.pk)
    past = _is_past(venue.day)
    return {
        "venue": venue,
        "stalls": stalls,
        "can_write": is_manager(request.user),
        "is_today": venue.day.date == timezone.localdate(),
        "is_over": past,
    }


@never_cache  # names and volunteer numbers: not kept by a shared browser or proxy
@require_GET
def venue_roster(request, pk: int):
    """A venue's roster: per stall and shift the confirmed volunteers
    (mobile masked), the waiting list in turn, check-in / check-out buttons;
    the roster part refreshes itself every 15 seconds."""
    if response := _staff(request):
        return response
    venue = selectors.get_venue_for_user(user=request.user, pk=pk)
    return render(request, "events/staff/venue_roster.html", _roster_context(request, venue))


@never_cache
@require_GET
def venue_roster_fragment(request, pk: int):
    """The roster part alone (htmx polls it)."""
    if response := _staff(request):
        return response
    venue = selectors.get_venue_for_user(user=request.user, pk=pk)
    return render(request, "events/staff/_roster.html", _roster_context(request, venue))


def _attendance(request, pk: int, service):
    if response := _staff(request, *MANAGERS):
        return response
    signup = selectors.get_signup_for_user(user=request.user, pk=pk)
    venue = signup.shift.stall.venue
    error = ""
    try:
        service(actor=request.user, signup=signup)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.headers.get("HX-Request"):
        # The row, as it is now (and why nothing changed, if so).
        return render(
            request,
            "events/staff/_roster_row.html",
            {
                "s": selectors.roster_row(signup=signup),
                "can_write": True,
                "is_today": venue.day.date == timezone.localdate(),
                "error": error,
            },
        )
    if error:
        messages.error(request, error)
    return redirect(_roster_url(venue))


@require_POST
def signup_check_in(request, pk: int):
    return _attendance(request, pk, signup_services.signup_check_in)


@require_POST
def signup_check_out(request, pk: int):
    return _attendance(request, pk, signup_services.signup_check_out)


@require_POST
def signup_staff_cancel(request, pk: int):
    """Cancel a sign-up on the volunteer's behalf, before the shift; the
    place goes to the first on the waiting list (the roster part is redrawn:
    more rows than one change)."""
    if response := _staff(request, *MANAGERS):
        return response
    signup = selectors.get_signup_for_user(user=request.user, pk=pk)
    venue = signup.shift.stall.venue
    try:
        signup_services.signup_cancel(actor=request.user, signup=signup)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    else:
        messages.success(
            request, _("The sign-up of %(name)s is cancelled.") % {"name": signup.volunteer.name}
        )
    if request.headers.get("HX-Request"):
        return render(request, "events/staff/_roster.html", _roster_context(request, venue))
    return redirect(_roster_url(venue))


# --- The stall's report ----------------------------------------------------------------


def _photos_template() -> str:
    """The shared photo block, once it exists (written alongside)."""
    try:
        get_template("events/_photos.html")
    except TemplateDoesNotExist:
        return ""
    return "events/_photos.html"


class StallReportView(_StallView):
    """People served and notes (during or after the day) and the photos.
    Operators read it; managers write."""

    allowed_roles = STAFF
    form_class = StallReportForm
    template_name = "events/staff/stall_report.html"

    def post(self, request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        return {"people_served": self.stall.people_served, "notes": self.stall.notes}

    def title(self):
        return _("Report: %(service)s") % {"service": self.stall.service}

    def save(self, form):
        return stall_services.stall_report_update(
            actor=self.request.user, stall=self.stall, **form.cleaned_data
        )

    def success_message(self):
        return _("Report saved.")

    def success_url_for(self, obj):
        return reverse("events:stall_report", args=[self.stall.pk])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        can_write = is_manager(self.request.user)
        if not can_write:
            for field in ctx["form"].fields.values():
                field.disabled = True
            ctx["form"].helper.inputs = []
        return {
            **ctx,
            "stall": self.stall,
            "venue": self.stall.venue,
            "can_write": can_write,
            "report_open": self.day.date <= timezone.localdate(),
            "photos_template": _photos_template(),
            "photo_upload_url": _url_or_empty("events:stall_photo_add", self.stall.pk)
            if can_write
            else "",
        }


# --- A message to everyone on a day (managers) ------------------------------------------


class DayMessageView(_StaffFormView):
    form_class = DayMessageForm
    template_name = "events/staff/day_message.html"

    def load(self, **kwargs):
        self.day = selectors.get_day(pk=kwargs["pk"])

    def title(self):
        return _("Message everyone on %(date)s") % {"date": self.day.date.isoformat()}

    def back_url(self):
        return _day_url(self.day)

    def save(self, form):
        self.told = stall_services.day_message_send(
            actor=self.request.user, day=self.day, text=form.cleaned_data["text"]
        )
        return self.day

    def success_message(self):
        if self.told == 0:
            return _("Nobody was told: everyone had this message already, or nobody is signed up.")
        return ngettext("%(n)s volunteer was told.", "%(n)s volunteers were told.", self.told) % {
            "n": self.told
        }

    def success_url_for(self, obj):
        return _day_url(self.day)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "day": self.day,
            "recipients": stall_services.day_message_recipients(
                actor=self.request.user, day=self.day
            ).count(),
            "sms_only": stall_services.day_message_phones(
                actor=self.request.user, day=self.day
            ).count(),
        }
