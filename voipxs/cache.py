"""The cache on Redis, degrading instead of failing while Redis is down.

The cache holds nothing that must not be lost: the API login throttle's recent attempts and the
password-reset limiter's counters. With Django's own RedisCache, a Redis outage turned every request
that touched the cache (the API login) into a 500. Here a cache call that cannot reach Redis acts as a
miss (reads return the default, writes do nothing) and is logged without its key or value; the short
socket timeouts (settings.CACHES OPTIONS) keep a dead server from holding a web worker. What the throttle
then lacks, the database-backed lockout (django-axes) still enforces.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# What each client call answers while Redis is out of reach: what a miss would answer.
_FALLBACKS: dict[str, Callable[..., Any]] = {
    "add": lambda *a, **k: False,
    "get": lambda key, default: default,
    "set": lambda *a, **k: None,
    "touch": lambda *a, **k: False,
    "delete": lambda *a, **k: False,
    "get_many": lambda *a, **k: {},
    "has_key": lambda *a, **k: False,
    "set_many": lambda *a, **k: [],
    "delete_many": lambda *a, **k: None,
    "clear": lambda *a, **k: False,
}


def _degrading(name: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    method = getattr(RedisCacheClient, name)

    def call(self: RedisCacheClient, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as exc:
            logger.warning("cache %s skipped: Redis unreachable (%s)", name, type(exc).__name__)
            return fallback(*args, **kwargs)

    call.__name__ = name
    return call


class DegradingRedisCacheClient(RedisCacheClient):
    """`incr` keeps its errors: a counter that cannot count must say so to its caller."""


for _name, _fallback in _FALLBACKS.items():
    setattr(DegradingRedisCacheClient, _name, _degrading(_name, _fallback))


class DegradingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = DegradingRedisCacheClient
