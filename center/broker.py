"""Publishing tasks to the broker: after commit, best effort, never failing the request.

The database is the record of what must run (an offered order carries
``ring_started_at``; the per-minute sweep finds every ring whose time is up),
so a message lost because the broker is down only delays the work until the
sweep or the next publish: a broker outage never turns a saved order into a
500, and a device that retries on 5xx never creates a second emergency.
"""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def _task(task):
    """A task object from itself or its dotted name: services enqueue by name
    (``"requests.tasks.widen_offer"``), so a service module never imports its
    app's tasks module and the arrow runs one way (tasks → services)."""
    if not isinstance(task, str):
        return task
    from importlib import import_module

    from .celery import app

    # Autodiscovery imports tasks modules only in a worker; the web process
    # imports the one it needs (registering its tasks) on first use.
    import_module(task.rsplit(".", 1)[0])
    return app.tasks[task]


def publish(task, *, args: tuple = (), countdown: int | None = None) -> bool:
    """Send ``task`` (a task or its dotted name) now; log and return False if
    the broker cannot take it."""
    task = _task(task)
    try:
        task.apply_async(args, countdown=countdown, retry=False)
    except Exception:  # kombu/redis raise many types for "broker unreachable"
        log.warning(
            "broker unavailable: %s%s not published; the periodic sweep will catch up",
            task.name,
            args,
        )
        return False
    return True


def publish_on_commit(task, *, args: tuple = (), countdown: int | None = None) -> None:
    """Queue ``task`` (a task or its dotted name) once the current transaction
    commits (never inside a lock)."""
    transaction.on_commit(lambda: publish(task, args=args, countdown=countdown))
