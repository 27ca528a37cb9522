"""Token buckets that slow a client who keeps failing: failed authentications per client address,
submissions per subject and per address. Kept in the gateway process (each replica counts its
own), refilled continuously, so a client that stops failing is served again within seconds."""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from prometheus_client import Counter

THROTTLED = Counter("yjs_throttled_total", "Requests answered 429 Too Many Requests, by limit", ["limit"])

#: limit name -> (config key, default per minute)
LIMITS = {
    "auth_failures": ("AUTH_FAILURES_PER_MINUTE", 60),
    "submissions": ("SUBMISSIONS_PER_MINUTE", 600),
}
MAX_KEYS = 100_000  # buckets kept at most; the least recently used go first (an idle bucket is full anyway)


@dataclass
class Bucket:
    tokens: float
    stamp: float


class TokenBucket:
    """`per_minute` tokens, refilled evenly over the minute; a burst may spend all of them at once."""

    def __init__(self, per_minute: float, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()
        self.lock = threading.Lock()

    def _bucket(self, key: str) -> Bucket:
        now = self.clock()
        bucket = self.buckets.pop(key, None) or Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        self.buckets[key] = bucket
        while len(self.buckets) > MAX_KEYS:
            self.buckets.popitem(last=False)
        return bucket

    def retry_after(self, key: str) -> int:
        """0 when `key` may go on, else the whole seconds until it has a token again."""
        if self.capacity <= 0:
            return 0  # a limit of 0 switches the limit off
        with self.lock:
            tokens = self._bucket(key).tokens
        return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))

    def spend(self, key: str) -> None:
        if self.capacity <= 0:
            return
        with self.lock:
            bucket = self._bucket(key)
            bucket.tokens = max(0.0, bucket.tokens - 1)


class Throttle:
    def __init__(self, config: dict):
        def per_minute(key: str, default: int) -> float:
            value = config[key] if config.get(key) is not None else os.environ.get(key) or default
            return float(value)  # 0 switches the limit off

        self.buckets = {name: TokenBucket(per_minute(key, default)) for name, (key, default) in LIMITS.items()}

    def retry_after(self, limit: str, *keys: str | None) -> int:
        """The longest wait any of `keys` (address, subject) has to sit out for `limit`; 0 if none."""
        wait = max((self.buckets[limit].retry_after(k) for k in keys if k), default=0)
        if wait:
            THROTTLED.labels(limit).inc()
        return wait

    def spend(self, limit: str, *keys: str | None) -> None:
        for key in keys:
            if key:
                self.buckets[limit].spend(key)
