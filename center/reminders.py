"""What every reminder job shares (the apps' ``services/reminders*.py``):
walking many rows in batches, and knowing in two queries whom a batch
already told — so a job run twice, or every few minutes, tells no one twice
and costs a constant number of queries per batch."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from .models import Delivery, Notification

BATCH = 1000
T = TypeVar("T")


def batches(rows: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def told_keys(items: Iterable[tuple[str, bool]]) -> set[str]:
    """The keys among ``items`` (key, has a login) someone was already told
    by: an inbox row for a login, an SMS row for someone without one. Two
    queries at most, whatever the batch."""
    items = list(items)
    logins = [key for key, login in items if login]
    phones = [f"{key}:{Delivery.Channel.SMS}" for key, login in items if not login]
    told = set()
    if logins:
        told.update(Notification.objects.filter(key__in=logins).values_list("key", flat=True))
    if phones:
        told.update(
            key.rsplit(":", 1)[0]
            for key in Delivery.objects.filter(key__in=phones).values_list("key", flat=True)
        )
    return told
