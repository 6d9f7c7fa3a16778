"""Volunteers on their own (issue 12): check-in by scanning the code shown
at the stall (and the staff poster that shows it), and calendars — an .ics
per shift and a personal feed found by a secret token. Thin: the services
write, the reads are in ``services.checkin`` and ``events.calendar``."""

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from center.roles import STAFF_ROLES, has_role

from . import calendar as ics
from .services import calendar as calendar_services
from .services import checkin
from .services.signups import SERVICE_TZ
from .views import _volunteer_or_refuse

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


# --- The stall's code: the staff poster, the volunteer's scan ---------------------------


@never_cache
@require_GET
def stall_code(request, pk: int):
    """The stall's poster (staff, printable): today's check-in code as a QR
    code and in text, on the service day only — never another day's code."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not has_role(request.user, *STAFF_ROLES):
        raise PermissionDenied
    stall = checkin.get_stall_for_staff(user=request.user, pk=pk)
    today = checkin.service_today()
    day = stall.venue.day
    context = {"stall": stall, "venue": stall.venue, "day": day, "today": today}
    if day.date == today:
        code = checkin.stall_code(stall, today)
        url = request.build_absolute_uri(
            reverse("events:self_check_in", kwargs={"pk": stall.pk, "code": code})
        )
        # segno escapes what it writes; the URL is ours besides.
        context["qr_svg"] = mark_safe(  # noqa: S308
            segno.make(url, error="m").svg_inline(
                scale=8,
                omitsize=False,
                title=_("Check-in QR code: %(service)s") % {"service": stall.service},
            )
        )
        context["code"] = code
    return render(request, "events/self/stall_code.html", context)


def _scan_page(request, *, stall, code, signup=None, error=None, status=200):
    return render(
        request,
        "events/self/check_in.html",
        {
            "stall": stall,
            "venue": stall.venue,
            "code": code,
            "signup": signup,
            "error": error,
            "now": timezone.localtime(timezone.now(), SERVICE_TZ),
        },
        status=status,
    )


def _refusal_status(exc: ValidationError, *, default: int) -> int:
    return 429 if getattr(exc, "code", None) == "throttled" else default


@never_cache
@require_http_methods(["GET", "POST"])
def self_check_in(request, pk: int, code: str):
    """The page a volunteer's phone opens from the stall's QR code: GET shows
    their shift at this stall today and one button; POST checks in, or out
    once checked in. A refusal is shown on the page, saying why: a stall
    the volunteer never signed up for with 404 (the code is not even
    checked), a blocked guesser with 429, a refused POST with 403, a GET
    (wrong code, not today…) with 200 — it is the page that explains."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    stall = checkin.get_stall_to_scan(pk=pk)
    if not checkin.signed_up_at(volunteer=volunteer, stall=stall):
        return _scan_page(
            request,
            stall=stall,
            code=code,
            error=_("You have not signed up for a shift at this stall."),
            status=404,
        )
    if request.method == "GET":
        try:
            signup = checkin.self_check_preview(volunteer=volunteer, stall=stall, code=code)
        except ValidationError as exc:
            return _scan_page(
                request,
                stall=stall,
                code=code,
                error=exc.messages[0],
                status=_refusal_status(exc, default=200),
            )
        return _scan_page(request, stall=stall, code=code, signup=signup)
    try:
        signup = checkin.self_check(actor=request.user, volunteer=volunteer, stall=stall, code=code)
    except ValidationError as exc:
        return _scan_page(
            request,
            stall=stall,
            code=code,
            error=exc.messages[0],
            status=_refusal_status(exc, default=403),
        )
    if signup.checked_out_at is not None:
        messages.success(
            request,
            _("Checked out at %(time)s. Thank you: your service hours are recorded.")
            % {"time": timezone.localtime(signup.checked_out_at, SERVICE_TZ).strftime("%H:%M")},
        )
    else:
        messages.success(
            request,
            _("Checked in at %(time)s. Scan the code again when you leave to check out.")
            % {"time": timezone.localtime(signup.checked_in_at, SERVICE_TZ).strftime("%H:%M")},
        )
    return redirect("events:my_shifts")


# --- Calendars ------------------------------------------------------------------------


def _my_shifts_url(request) -> str:
    return request.build_absolute_uri(reverse("events:my_shifts"))


@require_GET
def shift_ics(request, pk: int):
    """One of my active sign-ups as an .ics file (add to calendar)."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    signup = ics.get_my_active_signup(volunteer=volunteer, pk=pk)
    body = ics.shifts_calendar([signup], my_shifts_url=_my_shifts_url(request))
    response = HttpResponse(body, content_type=CALENDAR_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="lianxin-shift-{signup.pk}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_GET
def calendar_page(request):
    """我的日历: the feed URL to subscribe to (https and webcal) and a reset."""
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    feed = calendar_services.calendar_feed_get_or_create(volunteer)
    feed_url = request.build_absolute_uri(
        reverse("events:calendar_feed", kwargs={"token": feed.token})
    )
    webcal_url = "webcal://" + feed_url.split("://", 1)[1]
    return render(
        request,
        "events/self/calendar.html",
        {"volunteer": volunteer, "feed_url": feed_url, "webcal_url": webcal_url},
    )


@require_POST
def calendar_reset(request):
    volunteer, response = _volunteer_or_refuse(request)
    if response:
        return response
    calendar_services.calendar_feed_reset(actor=request.user, volunteer=volunteer)
    messages.success(
        request,
        _(
            "Your calendar link is new. The old link no longer works: subscribe again with this one."
        ),
    )
    return redirect("events:calendar")


@require_GET
def calendar_feed(request, token: str):
    """Public (calendar apps send no login): the volunteer's shifts by the
    secret token of their feed; 404 for an unknown or reset token."""
    feed = ics.get_feed_by_token(token)
    body = ics.shifts_calendar(
        ics.feed_signups(feed), my_shifts_url=_my_shifts_url(request), name=_("My shifts")
    )
    response = HttpResponse(body, content_type=CALENDAR_CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="lianxin-shifts.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
