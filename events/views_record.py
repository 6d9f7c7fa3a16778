"""The public record (纪实): the figures of a month, a quarter or a year and
the highlights chosen by managers, on a page anyone may read (no login: the
figures are the ones the center reports publicly) and in a printable
version. No personal data on either: no volunteer, no resident, not even the
manager who chose a highlight. Managers see, on the same page, the candidates
of the period and a form to add a highlight; they remove and move their own.
Thin: selectors read, ``events.services.highlights`` writes."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from center.models import Role
from center.roles import is_center_manager, is_manager, require_role, station_ids_for
from center.viewmixins import service_errors_to_messages

from . import selectors_record as record
from .forms_record import HighlightForm
from .services import highlights as highlight_services

MANAGERS = (Role.STATION_MANAGER, Role.CENTER_MANAGER)


def _period_url(period) -> str:
    return reverse("events:record_period", kwargs={"period": period.key})


def _context(period) -> dict:
    """What both the page and its printable version show."""
    today = timezone.localdate()
    nxt = period.next()
    return {
        "period": period,
        "totals": record.record_totals(period),
        "highlights": record.record_highlights(period),
        "previous": period.previous(),
        "next": nxt if nxt is not None and nxt.has_started(today) else None,
        "parents": period.parents(),
        "quarters": period.quarters() if period.kind == record.Kind.YEAR else [],
        "months": [m for m in period.months() if m.has_started(today)]
        if period.kind != record.Kind.MONTH
        else [],
        "is_open": not period.is_closed(today),
        "cache_hours": record.CLOSED_PERIOD_CACHE_SECONDS // 3600,
    }


def _mark_manageable(user, highlights: dict) -> None:
    """``can_manage`` on each highlight the manager may remove or move."""
    center = is_center_manager(user)
    ids = station_ids_for(user) or frozenset()
    for h in (*highlights["own"], *highlights["within"]):
        if center:
            h.can_manage = True
        elif h.stall_id:
            h.can_manage = h.stall.venue.station_id in ids
        elif h.activity_id:
            h.can_manage = h.activity.station_id in ids
        else:
            h.can_manage = False  # a whole service day: center managers only


@require_GET
def record_index(request):
    """/record/: this year's page (its totals to date, its quarters and
    months), shown here rather than redirected, so the menu's link opens it."""
    return _period_page(request, record.current_period(record.Kind.YEAR))


@require_GET
def record_period(request, period: str):
    """/record/2026-11/, /record/2026-Q4/, /record/2026/ (anything else: 404)."""
    return _period_page(request, record.period_from_string(period))


def _period_page(request, period):
    ctx = _context(period)
    if is_manager(request.user):
        _mark_manageable(request.user, ctx["highlights"])
        ctx["candidates"] = record.highlight_candidates(user=request.user, period=period)
        ctx["form"] = HighlightForm(initial={"period": period.key})
    return render(request, "events/record/period.html", ctx)


@require_GET
def record_print(request, period: str):
    """The printable page of a period: no menu, print styles, same figures."""
    period = record.period_from_string(period)
    return render(request, "events/record/print.html", _context(period))


def _manager_or_refuse(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    require_role(request.user, *MANAGERS)
    return None


@require_POST
def highlight_add(request):
    refused = _manager_or_refuse(request)
    if refused:
        return refused
    form = HighlightForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        period = form.cleaned_data.get("period")
        return redirect(_period_url(period) if period else "events:record")
    period = form.cleaned_data["period"]
    kind, pk = form.cleaned_data["subject"]
    subject = record.get_subject_for_manager(user=request.user, kind=kind, pk=pk)
    field = {"stall": "stall", "activity": "activity", "day": "service_day"}[kind]
    try:
        highlight_services.highlight_add(
            actor=request.user,
            period=period.kind,
            period_start=period.start,
            title=form.cleaned_data["title"],
            text=form.cleaned_data["text"],
            **{field: subject},
        )
        messages.success(request, _("The highlight is added to the record."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(_period_url(period))


@require_POST
def highlight_remove(request, pk: int):
    refused = _manager_or_refuse(request)
    if refused:
        return refused
    highlight = record.get_highlight_for_manager(user=request.user, pk=pk)
    period = record.period_of(highlight.period, highlight.period_start)
    highlight_services.highlight_remove(actor=request.user, highlight=highlight)
    messages.success(request, _("The highlight is removed from the record."))
    return redirect(_period_url(period))


@require_POST
def highlight_move(request, pk: int):
    refused = _manager_or_refuse(request)
    if refused:
        return refused
    highlight = record.get_highlight_for_manager(user=request.user, pk=pk)
    period = record.period_of(highlight.period, highlight.period_start)
    try:
        highlight_services.highlight_move(
            actor=request.user, highlight=highlight, direction=request.POST.get("direction", "")
        )
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect(_period_url(period))
