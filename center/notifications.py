"""The one notification call site: ``notify(...)``.

Idempotent by ``key`` (a second call with the same key does nothing), so a
retried service or task never tells anyone twice.

Recorded now, delivered after commit: ``notify`` writes the inbox row and
the outbox rows (``center.delivery``: one per SMS or email the person gets)
inside the caller's transaction (a rolled-back service tells no one); the
outbox is handed to the broker after commit (an outage delays delivery,
never fails the request, and the sweep catches up). So every call site is
right by construction: no I/O inside a service's lock.

What to say is a message key of ``center.messages`` and its parameters,
rendered in the reader's language when read (``Notification.display_title``).
"""

from django.conf import settings
from django.utils import translation

from . import delivery, messages
from .models import Notification, User


def notify(
    *,
    recipient: User | None,
    key: str,
    kind: str,
    message: str = "",
    params: dict | None = None,
    title: str = "",
    body: str = "",
    urgent: bool = False,
    phone: str = "",
    language: str = "",
) -> Notification | None:
    """Tell ``recipient`` ``message`` (a key of center.messages) with ``params``:
    in their inbox, and by SMS and email as they chose (``center.delivery``).

    ``urgent`` (an emergency): by SMS whatever they chose, at any hour.
    ``recipient`` None: someone without a login (a provider not yet
    activated, a resident), reached by SMS on ``phone`` in ``language``
    (the site's by default); no inbox row then.
    ``title``/``body`` without ``message`` is the old form, kept while callers
    move to keys: such a row reads the same in every language (and leaves
    the portal only once it has a key).
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
        if message and phone:
            delivery.deliveries_create(
                key=key,
                recipient=None,
                kind=kind,
                message=message,
                params=params,
                phone=phone,
                urgent=urgent,
                language=language,
            )
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
    if created and message:
        delivery.deliveries_create(
            key=key,
            recipient=recipient,
            kind=kind,
            message=message,
            params=params,
            notification=notification,
            phone=phone,
            urgent=urgent,
        )
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
