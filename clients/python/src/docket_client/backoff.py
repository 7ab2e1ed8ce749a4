"""Pauses between attempts: doubling, with jitter, until a deadline.

Shared by reconnecting, resubscribing and a worker's reports so that every retry in the client behaves the same way
and a fleet of clients coming back after an outage spreads its attempts out instead of arriving together.
"""

import asyncio
import random


class Backoff:
    """Pauses from `first` doubling up to `longest` seconds, each scaled by a random factor in [0.5, 1], until
    `within` seconds have passed since it was made."""

    def __init__(self, first: float, longest: float, within: float) -> None:
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self._deadline = self._clock() + within
        self._pause = first
        self._longest = longest

    async def wait(self) -> bool:
        """Sleeps before the next attempt; False (at once) when that attempt would come after the deadline."""
        if self._clock() + self._pause >= self._deadline:
            return False
        await asyncio.sleep(self._pause * random.uniform(0.5, 1.0))
        self._pause = min(self._pause * 2, self._longest)
        return True
