"""A fixed-window counter in the cache: ``allow(key, limit, seconds)``.

Fails open: when the cache (Redis) is down the request goes through, because a
broker or cache outage must never refuse an emergency call. The window is
fixed (per ``seconds`` bucket), which is enough to bound abuse.
"""

import hashlib
import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def allow(key: str, limit: int, seconds: int = 60) -> bool:
    # The key may hold anything a client sent: hash it into a safe cache key.
    digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    bucket = f"lianxin:rl:{digest}:{int(time.time() // seconds)}"
    try:
        cache.add(bucket, 0, timeout=seconds + 5)
        count = cache.incr(bucket)
    except Exception:  # the cache backend's own connection errors; fail open
        log.warning("rate limit cache unavailable; allowing %s", key)
        return True
    return count <= limit
