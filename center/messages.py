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

import datetime
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
    # Parameters that are secrets (an activation code): blanked in the outbox
    # once the message has left (center.delivery), never kept in clear.
    secret: tuple[str, ...] = ()
    # A message only worth sending soon (an offer to take an order): an SMS
    # or email held longer (quiet hours, an outage) is cancelled, not sent.
    stale_after: datetime.timedelta | None = None


# Every app registers its own messages from its AppConfig.ready()
# (``register(MESSAGES)`` with the dict of its ``<app>/messages.py``), so
# center holds no feature app's sentences.
MESSAGES: dict[str, Message] = {}


def register(messages: Mapping[str, Message]) -> None:
    """Add an app's messages; a key registered twice with another meaning is a
    programming error (stored rows keep their key forever)."""
    for key, message in messages.items():
        if MESSAGES.get(key, message) != message:
            raise ValueError(f"message key {key!r} is already registered with another text")
        MESSAGES[key] = message


def get(key: str) -> Message:
    """The message for ``key``; an unknown key is a programming error."""
    try:
        return MESSAGES[key]
    except KeyError:
        raise ValueError(f"unknown message key {key!r}: add it to its app's messages.py") from None


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


# Center's own messages, registered from CenterConfig.ready() like every app's.
CENTER_MESSAGES: dict[str, Message] = {
    # issue 13, part C; issue 14 part D (reports.services.monthly_report_run)
    # params: month ("YYYY-MM", the month the report covers), url (the path
    # of the file's page; rows stored before issue 14 have none and read as stored)
    "center.report.monthly": Message(
        _("The report for %(month)s is ready"),
        _("Last month's service report can be downloaded under Reports › Report files."),
    ),
    # issue 13, part A
    # To a provider's mobile, by SMS only (center.accounts): params code, time
    # ("MM-DD HH:MM", when the code expires).
    "center.account.activation": Message(
        _("Your activation code: %(code)s"),
        _("Set your password with it before %(time)s. Never tell anyone."),
        secret=("code",),
    ),
}
