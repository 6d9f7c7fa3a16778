"""Volunteers' shifts as iCalendar (RFC 5545), built with ``icalendar``: one
VEVENT per sign-up, the times in Asia/Shanghai with its VTIMEZONE, so any
calendar app shows 09:00 where the stall opens at 09:00.

The reads behind the .ics download and the personal feed are here too: the
feed is found by its secret token and shows the volunteer's active sign-ups
from ``FEED_DAYS_BACK`` days ago on, at most ``FEED_LIMIT``, two queries
however many. Nothing personal goes into a feed beyond the shifts
themselves: no name, no phone number.
"""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from volunteers.models import Volunteer

from .models import CalendarFeed, SignUp
from .selectors import ACTIVE
from .services.signups import SERVICE_TZ

PRODID = "-//Lianxin 96345//Service days//ZH"
FEED_DAYS_BACK = 30
FEED_LIMIT = 200

_SIGNUP_RELATED = ("shift__stall__venue__day", "shift__stall__venue__station")


def event_uid(signup: SignUp) -> str:
    """Stable across downloads and feed refreshes, so apps update, not duplicate."""
    return f"shift-{signup.shift_id}-signup-{signup.pk}@lianxin"


def signup_event(signup: SignUp, *, my_shifts_url: str, stamp: datetime.datetime) -> Event:
    """One sign-up (its shift, stall, venue, day and station loaded) as a VEVENT."""
    shift = signup.shift
    stall = shift.stall
    venue = stall.venue
    event = Event()
    event.add("uid", event_uid(signup))
    event.add("dtstamp", stamp)
    event.add("dtstart", timezone.localtime(shift.starts_at, SERVICE_TZ))
    event.add("dtend", timezone.localtime(shift.ends_at, SERVICE_TZ))
    summary = f"{_('Service day')} · {stall.service}"
    if signup.status == SignUp.Status.WAITING:
        summary = f"{summary} ({_('waiting list')})"
    event.add("summary", summary)
    event.add("location", f"{venue.name}, {venue.address}")
    if venue.latitude is not None and venue.longitude is not None:
        event.add("geo", (float(venue.latitude), float(venue.longitude)))
    event.add(
        "description",
        "\n".join(
            [
                venue.day.theme,
                _("Station: %(station)s") % {"station": venue.station.name},
                _("My shifts: %(url)s") % {"url": my_shifts_url},
            ]
        ),
    )
    event.add("url", my_shifts_url)
    event.add("status", "TENTATIVE" if signup.status == SignUp.Status.WAITING else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def shifts_calendar(signups, *, my_shifts_url: str, name: str = "") -> bytes:
    """A VCALENDAR of ``signups`` with the Asia/Shanghai VTIMEZONE, as bytes."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", SERVICE_TZ.key)
    stamp = timezone.now().replace(microsecond=0)
    for signup in signups:
        cal.add_component(signup_event(signup, my_shifts_url=my_shifts_url, stamp=stamp))
    cal.add_missing_timezones()
    return cal.to_ical()


# --- Reads ----------------------------------------------------------------------------


def get_my_active_signup(*, volunteer: Volunteer, pk: int) -> SignUp:
    """The volunteer's own confirmed or waiting sign-up, with what an event
    shows; 404 for a cancelled one or anyone else's."""
    return get_object_or_404(
        SignUp.objects.select_related(*_SIGNUP_RELATED),
        pk=pk,
        volunteer=volunteer,
        status__in=ACTIVE,
    )


def get_feed_by_token(token: str) -> CalendarFeed:
    """The feed of this token; 404 for an unknown (or reset) one, and once
    the volunteer's login is switched off (a calendar app keeps polling a
    feed forever: leaving stops it). One query."""
    return get_object_or_404(
        CalendarFeed.objects.only("pk", "volunteer_id"),
        token=token,
        volunteer__user__is_active=True,
    )


def feed_signups(feed: CalendarFeed, *, now: datetime.datetime | None = None) -> list[SignUp]:
    """The feed's volunteer's active sign-ups whose shift starts at most
    ``FEED_DAYS_BACK`` days ago, the earliest first, at most ``FEED_LIMIT``.
    One query."""
    since = (now or timezone.now()) - datetime.timedelta(days=FEED_DAYS_BACK)
    return list(
        SignUp.objects.filter(
            volunteer_id=feed.volunteer_id, status__in=ACTIVE, shift__starts_at__gte=since
        )
        .select_related(*_SIGNUP_RELATED)
        .order_by("shift__starts_at", "id")[:FEED_LIMIT]
    )
