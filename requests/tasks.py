from celery import shared_task

from . import services


@shared_task(
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,
)
def widen_offer(order_id: int, ring: int) -> bool:
    """If an offered order is still untaken, offer it to the next ring (safe to run twice)."""
    return services.order_widen(order_id=order_id, ring=ring)


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def widen_stale_offers() -> int:
    """Every minute: widen offers whose time is up (eager mode, lost messages)."""
    done = 0
    for order_id, ring in services.stale_offers():
        done += bool(services.order_widen(order_id=order_id, ring=ring))
    return done
