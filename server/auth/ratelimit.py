"""A token bucket per caller: `limit` requests a minute, bursts of up to a minute's worth."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# Buckets kept before idle full ones are dropped (callers without credentials are keyed by
# address, so their number is not bounded by ours).
MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # until the next request is allowed (0 when allowed)

    def headers(self) -> list[tuple[bytes, bytes]]:
        out = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_seconds).encode()),
        ]
        if not self.allowed:
            out.append((b"retry-after", str(self.retry_after).encode()))
        return out


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = per_minute
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> Decision:
        now = self.clock()
        tokens, at = self.buckets.get(key, (float(self.limit), now))
        tokens = min(float(self.limit), tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if key not in self.buckets and len(self.buckets) >= MAX_BUCKETS:
            self._prune(now)
        self.buckets[key] = (tokens, now)
        return Decision(
            allowed=allowed,
            limit=self.limit,
            remaining=int(tokens),
            reset_seconds=math.ceil((self.limit - tokens) / self.rate),
            retry_after=0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate)),
        )

    def _prune(self, now: float) -> None:
        full = [
            k for k, (t, at) in self.buckets.items() if t + (now - at) * self.rate >= self.limit
        ]
        for k in full:
            del self.buckets[k]
