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


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def purge_login_logs() -> int:
    """Daily: successful-login records older than LOGIN_LOG_RETENTION_DAYS go
    (``center.services.login_logs_purge``). Safe to run twice."""
    from .services import login_logs_purge

    return login_logs_purge()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def purge_pii_log() -> int:
    """Daily: access-log rows (``center.pii.*``) older than
    PII_LOG_RETENTION_DAYS go (``center.services.pii_log_purge``). Safe to run twice."""
    from .services import pii_log_purge

    return pii_log_purge()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def notification_deliver(notification_id: int) -> list[str]:
    """After commit: send one notification through every channel
    (center.notifications). Each channel is safe to run twice."""
    from .notifications import notification_deliver as deliver

    return deliver(notification_id=notification_id)
