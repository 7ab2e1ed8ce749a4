"""Budgets and the cluster (`budget.*`, `cluster.status`): `docket.admin`."""

from typing import Optional

from ..models import Budget, ClusterStatus
from ..values import Money, money_arg
from .base import Namespace


class Admin(Namespace):
    """`docket.admin`: a tenant's budget (`cluster:admin`) and the cluster's state (`cluster:read`)."""

    async def set_budget(self, limit: Money, period: str, *, tenant_id: Optional[str] = None) -> Budget:
        """Sets the tenant's spending limit per `period`: `day`, `month` or `total`."""
        answer = await self._send("budget.set", {"limit": money_arg(limit), "period": period}, tenant_id)
        return Budget.from_wire(answer)

    async def budget(self, *, tenant_id: Optional[str] = None) -> Budget:
        """The tenant's budget and what it spent this period; `NOT_FOUND` when it has none."""
        return Budget.from_wire(await self._send("budget.get", {}, tenant_id))

    async def cluster_status(self, *, tenant_id: Optional[str] = None) -> ClusterStatus:
        """The instances, the leader and its term, and the leader's sweeps."""
        return ClusterStatus.from_wire(await self._send("cluster.status", {}, tenant_id))
