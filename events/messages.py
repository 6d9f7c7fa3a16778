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
}
