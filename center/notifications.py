"""The one notification call site: ``notify(...)``.

Idempotent by ``key`` (a second call with the same key does nothing), so a
retried service or task never tells anyone twice.
"""

from .models import Notification, User


def notify(
    *, recipient: User | None, key: str, kind: str, title: str, body: str = ""
) -> Notification | None:
    if recipient is None:
        # Providers without a login get SMS once that channel exists.
        return None
    notification, _created = Notification.objects.get_or_create(
        key=key, defaults={"recipient": recipient, "kind": kind, "title": title, "body": body}
    )
    return notification


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread message of ``user`` read (opening the inbox reads them)."""
    from django.utils import timezone

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
