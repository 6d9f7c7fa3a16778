from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from .celery import RETRY

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


# The rate limit is per worker process of the sms queue: the gateway's rate
# over the number of processes (docs/notifications.md).
@shared_task(
    ignore_result=True,
    soft_time_limit=30,
    time_limit=45,
    rate_limit=settings.LIANXIN["SMS_RATE_LIMIT"],
    **RETRY,
)
def send_sms(delivery_id: int) -> str:
    """One SMS of the outbox (center.delivery): claimed, sent, recorded.
    Safe to run twice: the claim lets one run send."""
    from .delivery import delivery_send

    return delivery_send(delivery_id=delivery_id)


@shared_task(ignore_result=True, soft_time_limit=30, time_limit=45, **RETRY)
def send_email(delivery_id: int) -> str:
    """One email of the outbox; as ``send_sms``."""
    from .delivery import delivery_send

    return delivery_send(delivery_id=delivery_id)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60, **RETRY)
def sweep_deliveries() -> int:
    """Every minute: hand the broker what is due and has no task on its way
    (broker down earlier, quiet hours over, backoff elapsed, a dead worker's
    claim). Safe to run twice: a delivery sent twice is claimed once."""
    from .delivery import deliveries_sweep

    return deliveries_sweep()
