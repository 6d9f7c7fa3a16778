"""The events app's messages (center.messages: rendered in the reader's
language when read). Registered from EventsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from center.messages import Message

MESSAGES: dict[str, Message] = {
    # To a volunteer moved up from the waiting list (signups.signup_cancel):
    # params date (ISO), service, venue, start, end (HH:MM, Asia/Shanghai).
    "events.signup.promoted": Message(
        _("You have a place on the service day %(date)s: %(service)s"),
        _("%(venue)s, %(start)s–%(end)s. A place freed up and you were next on the waiting list."),
    ),
    # part A
    # To every volunteer signed up (or waiting) at a manager's venues on a
    # service day (services.stalls.day_message_send): params date (ISO), text
    # (as the manager typed it: data, not translated).
    "events.day.message": Message(
        _("Service day %(date)s: a message from the organisers"),
        "%(text)s",
    ),
    # part C
    # To a volunteer called up or added to an activity (services.activities):
    # params title, date (ISO), organizer, place.
    "events.activity.invited": Message(
        _("You are invited to %(title)s on %(date)s"),
        _("Organised by %(organizer)s, %(place)s. Say in “My activities” whether you can come."),
    ),
    # To the invited and joined volunteers of a cancelled activity:
    # params title, date (ISO), reason (as the manager typed it, may be "").
    "events.activity.cancelled": Message(
        _("Cancelled: %(title)s on %(date)s"),
        _("The activity will not take place. %(reason)s"),
    ),
    # To volunteers signed up on a service day that moved (days.service_day_move):
    # params from, to (ISO dates).
    "events.day.moved": Message(
        _("The service day moved to %(to)s"),
        _("The service day of %(from)s is now on %(to)s; your shifts moved with it."),
    ),
    # issue 13, part B (services.reminders)
    # A week before, to the volunteers of the stations with venues on the day:
    # params date (ISO), theme (the day's, as staff wrote it).
    "events.reminder.week": Message(
        _("Service day %(date)s: %(theme)s"),
        _("Find a stall near you under “Service days” and sign up for a shift."),
    ),
    # The evening before, to each confirmed sign-up: params date (ISO),
    # service, venue, address (the venue's), start, end (HH:MM, Asia/Shanghai).
    "events.reminder.eve": Message(
        _("Tomorrow %(start)s–%(end)s: %(service)s"),
        _("Service day %(date)s at %(venue)s, %(address)s. See you there!"),
    ),
    # Two hours before the shift, to each confirmed sign-up: params as above.
    "events.reminder.soon": Message(
        _("Your shift starts at %(start)s: %(service)s"),
        _("%(venue)s, %(address)s. Check in at the stall when you arrive."),
    ),
}
