"""A fixed-window counter in the cache: ``allow(key, limit, seconds)``.

Fails open: when the cache (Redis) is down the request goes through, because a
broker or cache outage must never refuse an emergency call. The window is
fixed (per ``seconds`` bucket), which is enough to bound abuse.
"""

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def allow(key: str, limit: int, seconds: int = 60) -> bool:
    bucket = f"lianxin:rl:{key}:{int(time.time() // seconds)}"
    try:
        cache.add(bucket, 0, timeout=seconds + 5)
        count = cache.incr(bucket)
    except Exception:  # the cache backend's own connection errors; fail open
        log.warning("rate limit cache unavailable; allowing %s", key)
        return True
    return count <= limit
