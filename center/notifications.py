"""The one notification call site: ``notify(...)``.

Idempotent by ``key`` (a second call with the same key does nothing), so a
retried service or task never tells anyone twice.

Recorded now, delivered after commit: ``notify`` only writes the inbox row,
inside the caller's transaction (a rolled-back service tells no one), and
hands delivery to ``transaction.on_commit``, which queues
``center.tasks.notification_deliver`` through the broker helper (an outage
delays delivery, never fails the request). Delivery runs every channel
registered with ``register_channel`` (SMS, email: one function each); the
inbox itself needs none. So every call site is right by construction: no
I/O inside a service's lock.

What to say is a message key of ``center.messages`` and its parameters,
rendered in the reader's language when read (``Notification.display_title``).
"""

from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import translation

from . import messages
from .broker import publish
from .models import Notification, User

Channel = Callable[[Notification], None]
_channels: dict[str, Channel] = {}


def register_channel(name: str, deliver: Channel) -> None:
    """Add a delivery channel (an app's ``ready()``): ``deliver(notification)``
    sends one message, safe to run twice (check a sent marker first)."""
    _channels[name] = deliver


def unregister_channel(name: str) -> None:
    _channels.pop(name, None)


def _deliver_on_commit(notification: Notification) -> None:
    if _channels:
        pk = notification.pk
        transaction.on_commit(lambda: publish("center.tasks.notification_deliver", args=(pk,)))


def notification_deliver(*, notification_id: int) -> list[str]:
    """Run every registered channel for one notification (the task's body);
    returns the channels run. A missing row (deleted since) is nothing to do."""
    notification = (
        Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    )
    if notification is None:
        return []
    for deliver in _channels.values():
        deliver(notification)
    return list(_channels)


def notify(
    *,
    recipient: User | None,
    key: str,
    kind: str,
    message: str = "",
    params: dict | None = None,
    title: str = "",
    body: str = "",
) -> Notification | None:
    """Tell ``recipient`` ``message`` (a key of center.messages) with ``params``.

    ``title``/``body`` without ``message`` is the old form, kept while callers
    move to keys: such a row reads the same in every language.
    """
    if message:
        params = messages.jsonable(params)
        # The stored text, for search and the back office: in the site's own
        # language, whoever's request caused it. Readers get their own.
        with translation.override(settings.LANGUAGE_CODE):
            title, body = messages.render(message, params)
        if not title:
            messages.get(message)  # an unknown key fails here, loudly
            raise ValueError(f"parameters {sorted(params)} do not fit message {message!r}")
    elif not title:
        raise ValueError("notify() needs a message key (or a title)")
    if recipient is None:
        # Providers without a login get SMS once that channel exists.
        return None
    notification, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "recipient": recipient,
            "kind": kind,
            "message": message,
            "params": params or {},
            "title": title[:200],
            "body": body,
        },
    )
    if created:
        _deliver_on_commit(notification)
    elif notification.recipient_id != recipient.pk:
        # A key names one message to one person: reused for someone else it
        # would silently tell no one. Keys carry the app, the event and the
        # recipient, e.g. f"requests.alert.{order.pk}.{manager.pk}".
        raise ValueError(f"notification key {key!r} already belongs to another recipient")
    return notification


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread message of ``user`` read (opening the inbox reads them)."""
    from django.utils import timezone

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
