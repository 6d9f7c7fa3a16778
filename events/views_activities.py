"""Activity pages: the staff list, an activity with its participants
(call-up, add, attendance), its forms (plan, edit, cancel, mark held); the
volunteer's "My activities" (我的活动) on the phone, with join and decline.
Thin: ``selectors_activities`` read, ``services.activities`` write.

Staff (operators, station and center managers) read the activities of the
stations in their scope (another station's: 404); managers write (an
operator's POST: 403). Volunteers reach only their own participations."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView, TemplateView

from center.models import Role
from center.pagination import CappedPaginator
from center.roles import STAFF_ROLES, RoleRequiredMixin, is_manager, require_role
from center.viewmixins import ServiceFormView, service_errors_to_messages

from . import selectors_activities as selectors
from .forms_activities import (
    ActivityFilterForm,
    ActivityForm,
    CancelForm,
    HeldForm,
    ParticipantForm,
    RecordForm,
)
from .models import Activity, Participation
from .services import activities as services
from .views import _volunteer_or_refuse

STAFF = tuple(STAFF_ROLES)
MANAGERS = (Role.STATION_MANAGER, Role.CENTER_MANAGER)
PARTICIPANTS_PER_PAGE = 100
BADGES = {
    Activity.Status.PLANNED: "text-bg-primary",
    Activity.Status.HELD: "text-bg-success",
    Activity.Status.CANCELLED: "text-bg-secondary",
}


def _detail_url(activity) -> str:
    return reverse("events:activity_detail", args=[activity.pk])


# --- Staff: the list and an activity -------------------------------------------------


class ActivityListView(RoleRequiredMixin, ListView):
    """活动: the activities of the user's stations, latest first, filtered by
    kind, status, station and dates."""

    allowed_roles = STAFF
    template_name = "events/activities/activity_list.html"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        self.filter_form = ActivityFilterForm(self.request.GET or None, request=self.request)
        filters = self.filter_form.filters() if self.request.GET else {}
        return selectors.activity_list(user=self.request.user, **filters)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        # The labels translated once per page, not once per row.
        kinds = {k: str(v) for k, v in Activity.Kind.choices}
        statuses = {k: str(v) for k, v in Activity.Status.choices}
        for a in ctx["object_list"]:
            a.kind_label, a.status_label = kinds[a.kind], statuses[a.status]
            a.badge = BADGES[a.status]
        return {
            **ctx,
            "filter_form": self.filter_form,
            "can_manage": is_manager(self.request.user),
        }


class ActivityDetailView(RoleRequiredMixin, TemplateView):
    """An activity: what, when, who; its participants by status (tabs with
    counts), the call-up, adding a volunteer, attendance with hours; photos."""

    allowed_roles = STAFF
    template_name = "events/activities/activity_detail.html"

    def load(self, **kwargs):
        self.activity = selectors.get_activity_for_user(user=self.request.user, pk=kwargs["pk"])

    def get_context_data(self, **kwargs):
        activity = self.activity
        today = timezone.localdate()
        manage = is_manager(self.request.user)
        status = self.request.GET.get("status", "")
        if status not in Participation.Status.values:
            status = ""
        paginator = CappedPaginator(
            selectors.participants(activity=activity, status=status), PARTICIPANTS_PER_PAGE
        )
        page = paginator.get_page(self.request.GET.get("page"))
        labels = {k: str(v) for k, v in Participation.Status.choices}
        can_record = manage and services.can_record(activity, today)
        for p in page.object_list:
            p.status_label = labels[p.status]
            p.recordable = can_record and p.status in services.OPEN
            p.attended = p.status == Participation.Status.ATTENDED
        counts = selectors.status_counts(activity=activity)
        upload_url = ""
        if manage:
            try:
                upload_url = reverse("events:activity_photo_add", args=[activity.pk])
            except NoReverseMatch:  # the photo pages are not wired in yet
                upload_url = ""
        default_hours = services.default_hours(activity)
        return {
            **super().get_context_data(**kwargs),
            "activity": activity,
            "badge": BADGES[activity.status],
            "status": status,
            "tabs": [(s, labels[s], counts[s]) for s in selectors.STATUS_ORDER],
            "total": sum(counts.values()),
            "page_obj": page,
            "participations": page.object_list,
            "manage": manage,
            "can_edit": manage and activity.status != Activity.Status.CANCELLED,
            "can_cancel": manage and services.can_cancel(activity),
            "can_mark_held": manage and services.can_mark_held(activity, today),
            "can_call_up": manage and services.can_call_up(activity, today),
            "can_add": manage and services.can_add(activity),
            "can_record": can_record,
            "is_cancelled": activity.status == Activity.Status.CANCELLED,
            "is_held": activity.status == Activity.Status.HELD,
            "default_hours": default_hours,
            "add_form": ParticipantForm(user=self.request.user) if manage else None,
            "upload_url": upload_url,
        }


# --- Staff: the forms ------------------------------------------------------------------


class ActivityCreateView(ServiceFormView):
    allowed_roles = MANAGERS
    form_class = ActivityForm
    template_name = "events/activities/activity_form.html"
    pass_user = True

    def title(self):
        return _("Plan an activity")

    def save(self, form):
        return services.activity_create(actor=self.request.user, **form.service_data())

    def success_message(self):
        return _("The activity is planned.")

    def success_url_for(self, obj):
        return _detail_url(obj)


class _ActivityFormView(ServiceFormView):
    allowed_roles = MANAGERS
    template_name = "events/activities/activity_form.html"

    def load(self, **kwargs):
        self.activity = selectors.get_activity_for_user(user=self.request.user, pk=kwargs["pk"])

    def success_url_for(self, obj):
        return _detail_url(self.activity)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "activity": self.activity}


class ActivityUpdateView(_ActivityFormView):
    form_class = ActivityForm
    pass_user = True

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.activity}

    def title(self):
        return _("Edit: %(title)s") % {"title": self.activity.title}

    def save(self, form):
        return services.activity_update(
            actor=self.request.user, activity=self.activity, data=form.service_data()
        )

    def success_message(self):
        return _("The activity is saved.")


class ActivityCancelView(_ActivityFormView):
    form_class = CancelForm

    def title(self):
        return _("Cancel: %(title)s") % {"title": self.activity.title}

    def save(self, form):
        return services.activity_cancel(
            actor=self.request.user, activity=self.activity, reason=form.cleaned_data["reason"]
        )

    def success_message(self):
        return _("The activity is cancelled; the invited and joined volunteers are told.")


class ActivityHeldView(_ActivityFormView):
    form_class = HeldForm

    def get_initial(self):
        return {"notes": self.activity.notes}

    def title(self):
        return _("Held: %(title)s") % {"title": self.activity.title}

    def save(self, form):
        return services.activity_mark_held(
            actor=self.request.user,
            activity=self.activity,
            people_served=form.cleaned_data["people_served"],
            notes=form.cleaned_data["notes"],
        )

    def success_message(self):
        return _("The activity is recorded as held. Now record who attended.")


class ParticipationAddView(_ActivityFormView):
    form_class = ParticipantForm
    pass_user = True

    def title(self):
        return _("Add a participant: %(title)s") % {"title": self.activity.title}

    def save(self, form):
        return services.participation_add(
            actor=self.request.user,
            activity=self.activity,
            volunteer=form.cleaned_data["volunteer"],
        )

    def success_message(self):
        return _("The volunteer is added.")


def _manager_or_refuse(request):
    """None for a manager; a login redirect for a visitor; 403 for anyone else."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    require_role(request.user, *MANAGERS)
    return None


@require_POST
def activity_call_up(request, pk: int):
    """Invite the next volunteers matching the activity's area and/or specialty."""
    if response := _manager_or_refuse(request):
        return response
    activity = selectors.get_activity_for_user(user=request.user, pk=pk)
    try:
        invited, more = services.activity_call_up(actor=request.user, activity=activity)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
        return redirect(_detail_url(activity))
    if invited:
        messages.success(
            request,
            ngettext("%(n)s volunteer invited.", "%(n)s volunteers invited.", invited)
            % {"n": invited},
        )
    else:
        messages.info(request, _("No more volunteers match this call-up."))
    if more:
        messages.info(request, _("More volunteers match: call up again to invite the next ones."))
    return redirect(_detail_url(activity))


@require_POST
def participation_record(request, pk: int):
    """Attendance of one participant: attended (hours credited once) or absent."""
    if response := _manager_or_refuse(request):
        return response
    participation = selectors.get_participation_for_user(user=request.user, pk=pk)
    back = redirect(_detail_url(participation.activity))
    form = RecordForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back
    try:
        services.participation_record(
            actor=request.user,
            participation=participation,
            attended=form.cleaned_data["attended"],
            hours=form.cleaned_data["hours"],
        )
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
        return back
    messages.success(
        request, _("Attendance of %(name)s recorded.") % {"name": participation.volunteer.name}
    )
    return back


# --- The volunteer's side (mobile-first) ---------------------------------------------------


@require_GET
def my_activities(request):
    """我的活动: invitations and activities I joined (to come first, then
    past ones with my hours), and my station's open activities to join."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    today = timezone.localdate()
    rows = selectors.my_activities(volunteer=volunteer)
    labels = {k: str(v) for k, v in Participation.Status.choices}
    for p in rows:
        p.status_label = labels[p.status]
        open_ = services.can_respond(p.activity, today) and p.status not in services.RECORDED
        p.can_join = open_ and p.status != Participation.Status.JOINED
        p.can_decline = open_ and p.status != Participation.Status.DECLINED
        p.is_cancelled = p.activity.status == Activity.Status.CANCELLED
    return render(
        request,
        "events/activities/my_activities.html",
        {
            "volunteer": volunteer,
            "participations": rows,
            "open_activities": selectors.open_activities(volunteer=volunteer),
        },
    )


@require_POST
def participation_respond(request, pk: int):
    """Join (``join=1``) or decline (``join=0``) an activity I am invited to."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    participation = selectors.get_my_participation(volunteer=volunteer, pk=pk)
    join = request.POST.get("join") == "1"
    try:
        services.participation_respond(actor=request.user, participation=participation, join=join)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    else:
        messages.success(
            request,
            _("You joined the activity.") if join else _("You declined the activity."),
        )
    return redirect("events:my_activities")


@require_POST
def participation_join(request, pk: int):
    """Join an open activity of my home station, uninvited."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    activity = selectors.get_open_activity(volunteer=volunteer, pk=pk)
    try:
        services.participation_join(actor=request.user, activity=activity, volunteer=volunteer)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    else:
        messages.success(request, _("You joined the activity."))
    return redirect("events:my_activities")
