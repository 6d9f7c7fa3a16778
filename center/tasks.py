from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "lianxin:beat:last"


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def beat_heartbeat() -> str:
    """Periodic: proves beat and the task path are alive (shown on /healthz).

    Safe to run twice: it only overwrites one timestamp.
    """
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=None)
    return stamp
