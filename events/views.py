"""The volunteer's service-day pages (mobile-first): the stalls near them
with a sign-up button per shift, and "my shifts" with cancel. Thin: selectors
read, services write."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from center.viewmixins import service_errors_to_messages
from volunteers.selectors import volunteer_of

from . import selectors
from .services import signups as signup_services


def _volunteer_or_refuse(request):
    """(volunteer, None) for a volunteer; (None, a redirect to the login page)
    for a visitor; 403 for anyone else (a volunteer login whose record is
    gone too)."""
    if not request.user.is_authenticated:
        return None, redirect_to_login(request.get_full_path())
    volunteer = volunteer_of(request.user)
    if volunteer is None:
        raise PermissionDenied
    return volunteer, None


@require_GET
def upcoming(request):
    """服务日: the stalls of the coming service days near me, nearest first."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    return render(
        request,
        "events/upcoming.html",
        {"volunteer": volunteer, "stalls": selectors.upcoming_stalls(volunteer=volunteer)},
    )


@require_POST
def signup_create(request, pk: int):
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    shift = selectors.get_shift_open_for_signup(pk=pk)
    try:
        signup = signup_services.signup_create(actor=request.user, shift=shift, volunteer=volunteer)
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
        return redirect("events:upcoming")
    if signup.status == signup.Status.CONFIRMED:
        messages.success(request, _("You are signed up for this shift."))
    else:
        messages.info(request, _("The shift is full: you are on the waiting list."))
    return redirect("events:my_shifts")


@require_GET
def my_shifts(request):
    """我的班次: my sign-ups, the coming ones first."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    return render(
        request,
        "events/my_shifts.html",
        {"volunteer": volunteer, "signups": selectors.my_shifts(volunteer=volunteer)},
    )


@require_POST
def signup_cancel(request, pk: int):
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    signup = selectors.get_my_signup(volunteer=volunteer, pk=pk)
    try:
        signup_services.signup_cancel(actor=request.user, signup=signup)
        messages.success(request, _("Your sign-up is cancelled."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return redirect("events:my_shifts")
