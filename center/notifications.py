"""The one notification call site: ``notify(...)``.

Idempotent by ``key`` (a second call with the same key does nothing), so a
retried service or task never tells anyone twice.

What to say is a message key of ``center.messages`` and its parameters,
rendered in the reader's language when read (``Notification.display_title``).
"""

from django.conf import settings
from django.utils import translation

from . import messages
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
    notification, _created = Notification.objects.get_or_create(
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
    return notification


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread message of ``user`` read (opening the inbox reads them)."""
    from django.utils import timezone

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
