"""Fixed-window rate limits counted in the cache, for forms that send something out (password-reset
mails). The key (an address, a client IP) is hashed before it is used as a cache key, so the cache holds
no personal data. While the cache is out of reach a limit cannot count and lets the request through:
the mail is then bounded by the form's own work, and the outage is logged by voipxs.cache."""
from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .cache import UNREACHABLE

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address: the socket's, or with TRUSTED_PROXY_COUNT proxies in front, the address the
    outermost trusted proxy saw (as DRF's NUM_PROXIES reads it)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("X-Forwarded-For")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


def _cache_key(scope: str, key: str, window_seconds: int) -> str:
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{int(time.time() // window_seconds)}"


def rate_limit_reached(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Whether `key` has used `limit` uses or more in the current window of `scope`, counting nothing."""
    try:
        return (cache.get(_cache_key(scope, key, window_seconds)) or 0) >= limit
    except UNREACHABLE:
        logger.warning("rate limit %s not read: cache unreachable", scope)
        return False


def rate_limit_exceeded(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one use of `key` in `scope`; True once more than `limit` uses fall in the current window."""
    cache_key = _cache_key(scope, key, window_seconds)
    try:
        if cache.add(cache_key, 1, timeout=window_seconds):
            return 1 > limit
        return cache.incr(cache_key) > limit
    except ValueError:  # the window's key expired between add and incr: this is its first use
        return False
    except UNREACHABLE:
        logger.warning("rate limit %s not counted: cache unreachable", scope)
        return False
