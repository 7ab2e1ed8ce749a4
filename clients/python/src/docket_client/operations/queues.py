"""The queue operations (`queue.*`): `docket.queues`, settings and flow control."""

from typing import Any, List, Optional

from ..models import Queue
from .base import UNSET, Namespace, changes


class Queues(Namespace):
    """`docket.queues`: a tenant's queues, their limits, weights and pauses."""

    async def _queue(self, op: str, queue: str, tenant_id: Optional[str]) -> Queue:
        return Queue.from_wire(await self._send(op, {"queue": queue}, tenant_id))

    async def list(self, *, tenant_id: Optional[str] = None) -> List[Queue]:
        """Every queue of the tenant, by name."""
        answer = await self._send("queue.list", {}, tenant_id)
        return [Queue.from_wire(item) for item in answer["queues"]]

    async def get(self, queue: str, *, tenant_id: Optional[str] = None) -> Queue:
        return await self._queue("queue.get", queue, tenant_id)

    async def update(self, queue: str, *, concurrency: Any = UNSET, rate_limit: Any = UNSET, weight: Any = UNSET,
                     tenant_id: Optional[str] = None) -> Queue:
        """Sets the limits given: `concurrency` (1–1,000,000), `rate_limit` (`{"count", "per_seconds"}` or a
        `RateLimit`), `weight` (1–1,000). None removes `concurrency` or `rate_limit`; left out, a setting stays."""
        fields = changes(queue=queue, concurrency=concurrency, rate_limit=rate_limit, weight=weight)
        return Queue.from_wire(await self._send("queue.update", fields, tenant_id))

    async def pause(self, queue: str, *, tenant_id: Optional[str] = None) -> Queue:
        """Nothing of the queue starts until it is resumed; running jobs go on."""
        return await self._queue("queue.pause", queue, tenant_id)

    async def resume(self, queue: str, *, tenant_id: Optional[str] = None) -> Queue:
        return await self._queue("queue.resume", queue, tenant_id)
