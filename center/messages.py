"""What stored texts say, by key: rendered in the reader's language when read.

A notification stores a message key and its parameters
(``notify(message="requests.order.assigned", params={...})``), never only the
sentence: the sentence is rendered from ``MESSAGES`` at read time, in the
active language, so a message written while an English-speaking operator
worked reads in Chinese for a Chinese-speaking volunteer, and back.

Parameters are data (order numbers, item names, addresses, dates as ISO
text). A parameter that is itself a word of the interface (a sanction level)
is stored as its code and translated through ``labels``.

Keys are dotted, ``<app>.<thing>.<event>``; a key, once used, is never
reused for another meaning (stored rows keep it).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Message:
    title: Any  # a lazy translation with %(name)s placeholders
    body: Any = ""  # the same, or a plain "%(name)s" for data that is not translated
    # parameter name → stored code → lazy label (words of the interface)
    labels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# The same msgids as volunteers.models.Sanction.Level (one translation each).
SANCTION_LEVELS = {"warning": _("Warning"), "yellow": _("Yellow card"), "red": _("Red card")}

ORDER_ALERT_BODY = "%(item)s · %(address)s"

MESSAGES: dict[str, Message] = {
    # --- volunteers ---------------------------------------------------------
    "volunteers.star.reached": Message(
        _("You reached %(n)s stars"), _("Thank you for %(hours)s hours of service.")
    ),
    "volunteers.sanction.suspended": Message(
        _("%(level)s after a valid complaint"),
        _("No orders until %(date)s."),
        labels={"level": SANCTION_LEVELS},
    ),
    "volunteers.sanction.removed": Message(
        _("%(level)s after a valid complaint"),
        _("You have been removed from the provider roster."),
        labels={"level": SANCTION_LEVELS},
    ),
    "volunteers.sanction.revoked": Message(
        _("Your %(level)s was revoked"), "%(reason)s", labels={"level": SANCTION_LEVELS}
    ),
    # --- requests (the hotline) ----------------------------------------------
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
}


def get(key: str) -> Message:
    """The message for ``key``; an unknown key is a programming error."""
    try:
        return MESSAGES[key]
    except KeyError:
        raise ValueError(f"unknown message key {key!r}: add it to center.messages") from None


def jsonable(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameters as stored (JSON): numbers, text and None as they are, the rest as text."""
    return {
        name: value if value is None or isinstance(value, str | int | float | bool) else str(value)
        for name, value in (params or {}).items()
    }


def render(
    key: str, params: Mapping[str, Any] | None, *, fallback: tuple[str, str] = ("", "")
) -> tuple[str, str]:
    """(title, body) of ``key`` in the active language. A key no longer known,
    or parameters that no longer fit it, give ``fallback`` (the stored text)."""
    message = MESSAGES.get(key)
    if message is None:
        return fallback
    values = dict(params or {})
    for name, labels in message.labels.items():
        if name in values and values[name] in labels:
            values[name] = labels[values[name]]
    try:
        title = str(message.title) % values
        body = str(message.body) % values if message.body else ""
    except (KeyError, TypeError, ValueError):
        return fallback
    return title, body
