"""The hotline's messages (center.messages: rendered in the reader's
language when read). Registered from RequestsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from center.messages import Message

ORDER_ALERT_BODY = "%(item)s · %(address)s"

MESSAGES: dict[str, Message] = {
    # To the provider: params number, item, address.
    "requests.order.assigned": Message(_("New order %(number)s: %(item)s"), "%(address)s"),
    # To the provider: params item, minutes ("?" when unknown), address.
    "requests.order.offered": Message(
        _("Order nearby: %(item)s, about %(minutes)s minutes away"), "%(address)s"
    ),
    # To the provider: params number, note.
    "requests.order.urged": Message(_("Order %(number)s is urged"), "%(note)s"),
    # To the station's managers (_alert_station): params number, item, address (+ n, reason).
    "requests.alert.no_provider": Message(
        _("No available provider for order %(number)s."), ORDER_ALERT_BODY
    ),
    "requests.alert.not_taken": Message(
        _("Order %(number)s is still not taken after %(n)s rounds."), ORDER_ALERT_BODY
    ),
    "requests.alert.widened": Message(
        _("Order %(number)s not taken in time: offered wider."), ORDER_ALERT_BODY
    ),
    "requests.alert.returned": Message(
        _("Order %(number)s was returned: %(reason)s"), ORDER_ALERT_BODY
    ),
    "requests.alert.urged": Message(_("Order %(number)s is urged"), ORDER_ALERT_BODY),
    # Micro-wishes (requests/services/wishes.py): params title.
    # To the station's managers:
    "requests.wish.adopted": Message(_("Wish adopted: %(title)s")),
    "requests.wish.fulfilled": Message(_("Wish fulfilled, to confirm with the family: %(title)s")),
    # To the adopters (and the deliverer):
    "requests.wish.released": Message(
        _(
            "Your adoption of the wish “%(title)s” was released: the family was not contacted in time."
        )
    ),
    "requests.wish.withdrawn": Message(_("The wish “%(title)s” you adopted was withdrawn.")),
    "requests.wish.confirmed": Message(_("The wish “%(title)s” came true. Thank you!")),
    "requests.wish.deliver": Message(_("Please deliver the wish “%(title)s” to the family.")),
}
