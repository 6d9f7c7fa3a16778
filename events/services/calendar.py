"""A volunteer's personal calendar feed: the secret token of its URL.

Calendar apps send no login, so the feed (``events:calendar_feed``) is found
by a token alone: ``secrets.token_urlsafe(32)`` (256 bits), unique. Resetting
it makes the old URL answer 404 at once.
"""

import secrets

from django.db import transaction

from center.audit import audit
from center.models import User
from volunteers.models import Volunteer

from ..models import CalendarFeed


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def calendar_feed_get_or_create(volunteer: Volunteer) -> CalendarFeed:
    """The volunteer's feed, made (with a fresh token, audited with the
    volunteer's login as actor) the first time they open their calendar
    page. Inverse: none; the feed row goes with the volunteer."""
    feed, created = CalendarFeed.objects.get_or_create(
        volunteer=volunteer, defaults={"token": _new_token()}
    )
    if created:
        audit(actor=volunteer.user, action="events.calendar_feed.created", target=feed)
    return feed


@transaction.atomic
def calendar_feed_reset(*, actor: User | None, volunteer: Volunteer) -> CalendarFeed:
    """Give the volunteer's feed a new token (made if it had none): the old
    URL stops working (404), calendars subscribed to it must subscribe again.
    The token itself is never written to the audit trail. Inverse: none —
    an old token never comes back."""
    feed = CalendarFeed.objects.select_for_update().filter(volunteer=volunteer).first()
    if feed is None:
        feed = CalendarFeed.objects.create(volunteer=volunteer, token=_new_token())
    else:
        feed.token = _new_token()
        feed.save(update_fields=["token"])
    audit(actor=actor, action="events.calendar_feed.reset", target=feed)
    return feed
