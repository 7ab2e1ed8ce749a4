"""The job operations (`job.*`): `docket.jobs`.

One method per operation of docs/protocol.md's Jobs table, with the table's argument names as keywords. Ids may be
given as `str` or `uuid.UUID`; money as `Decimal`, `int`, `float` or a decimal string; times as `datetime`.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ..models import Heartbeat, Job, LinkedTask, Page, Run
from ..values import Id, Money
from .base import UNSET, Namespace, changes, present

Priority = Union[int, str]
Statuses = Union[str, Sequence[str], None]


class Jobs(Namespace):
    """`docket.jobs`: create, read, change and run jobs."""

    async def _job(self, op: str, args: Dict[str, Any], tenant_id: Optional[str]) -> Job:
        return Job.from_wire(await self._send(op, args, tenant_id))

    async def create(self, name: str, *, queue: Optional[str] = None, kind: Optional[str] = None,
                     args: Optional[Mapping[str, Any]] = None, description: Optional[str] = None,
                     priority: Optional[Priority] = None, schedule: Optional[Mapping[str, Any]] = None,
                     assigned_agent: Optional[str] = None, execution_context: Optional[Mapping[str, Any]] = None,
                     estimated_cost: Optional[Money] = None, timeout_seconds: Optional[int] = None,
                     plan_id: Optional[str] = None, plan_step_index: Optional[int] = None,
                     metadata: Optional[Mapping[str, Any]] = None, callback_url: Optional[str] = None,
                     retry_policy: Optional[Mapping[str, Any]] = None, idempotency_key: Optional[str] = None,
                     tenant_id: Optional[str] = None) -> Job:
        """Creates a job: `draft`, or `scheduled` with a `schedule` (`schedules.run_now()` makes it due at once).
        A repeated `idempotency_key` returns the first job."""
        fields = present(name=name, queue=queue, kind=kind, args=args, description=description, priority=priority,
                         schedule=schedule, assigned_agent=assigned_agent, execution_context=execution_context,
                         estimated_cost=estimated_cost, timeout_seconds=timeout_seconds, plan_id=plan_id,
                         plan_step_index=plan_step_index, metadata=metadata, callback_url=callback_url,
                         retry_policy=retry_policy, idempotency_key=idempotency_key)
        return await self._job("job.create", fields, tenant_id)

    async def create_many(self, jobs: Sequence[Mapping[str, Any]], *, tenant_id: Optional[str] = None) -> List[Job]:
        """Creates 1–1000 jobs at once, all or none; each mapping holds `create`'s keywords. In input order."""
        answer = await self._send("job.create_many", {"jobs": [present(**job) for job in jobs]}, tenant_id)
        return [Job.from_wire(job) for job in answer["jobs"]]

    async def get(self, job_id: Id, *, tenant_id: Optional[str] = None) -> Job:
        return await self._job("job.get", {"job_id": job_id}, tenant_id)

    async def update(self, job_id: Id, *, expected_version: Optional[int] = None, name: Any = UNSET,
                     description: Any = UNSET, priority: Any = UNSET, assigned_agent: Any = UNSET,
                     execution_context: Any = UNSET, estimated_cost: Any = UNSET, timeout_seconds: Any = UNSET,
                     plan_id: Any = UNSET, plan_step_index: Any = UNSET, metadata: Any = UNSET,
                     callback_url: Any = UNSET, retry_policy: Any = UNSET, tenant_id: Optional[str] = None) -> Job:
        """Changes the fields given (None clears one); the others stay. `expected_version` guards against a
        concurrent writer (`CONCURRENCY_ERROR`)."""
        fields = changes(name=name, description=description, priority=priority, assigned_agent=assigned_agent,
                         execution_context=execution_context, estimated_cost=estimated_cost,
                         timeout_seconds=timeout_seconds, plan_id=plan_id, plan_step_index=plan_step_index,
                         metadata=metadata, callback_url=callback_url, retry_policy=retry_policy)
        fields.update(present(job_id=job_id, expected_version=expected_version))
        return await self._job("job.update", fields, tenant_id)

    async def delete(self, job_id: Id, *, tenant_id: Optional[str] = None) -> None:
        """Deletes a job that is not running or paused."""
        await self._send("job.delete", {"job_id": job_id}, tenant_id)

    async def list(self, *, status: Statuses = None, queue: Optional[str] = None, kind: Optional[str] = None,
                   assigned_agent: Optional[str] = None, plan_id: Optional[str] = None,
                   metadata: Optional[Mapping[str, Any]] = None, created_after: Any = None, created_before: Any = None,
                   limit: Optional[int] = None, order: Optional[str] = None, after: Optional[str] = None,
                   before: Optional[str] = None, tenant_id: Optional[str] = None) -> "Page[Job]":
        """A page of jobs matching the filters (`status` one or several; `metadata` by containment)."""
        fields = present(status=_statuses(status), queue=queue, kind=kind, assigned_agent=assigned_agent,
                         plan_id=plan_id, metadata=metadata, created_after=created_after,
                         created_before=created_before, limit=limit, order=order, after=after, before=before)
        return Page.from_wire(await self._send("job.list", fields, tenant_id), Job)

    async def schedule(self, job_id: Id, schedule: Mapping[str, Any], *, expected_version: Optional[int] = None,
                       tenant_id: Optional[str] = None) -> Job:
        """Gives the job its schedule (or replaces it): `scheduled`."""
        fields = present(job_id=job_id, schedule=schedule, expected_version=expected_version)
        return await self._job("job.schedule", fields, tenant_id)

    async def start(self, job_id: Id, *, expected_version: Optional[int] = None,
                    tenant_id: Optional[str] = None) -> Job:
        """Starts the job now: `running`, opening a run."""
        return await self._job("job.start", present(job_id=job_id, expected_version=expected_version), tenant_id)

    async def complete(self, job_id: Id, *, output: Any = None, actual_cost: Optional[Money] = None,
                       result_summary: Optional[str] = None, success: Optional[bool] = None,
                       expected_version: Optional[int] = None, tenant_id: Optional[str] = None) -> Job:
        """Ends the run as `succeeded` (`success=False` acts as `fail`); `actual_cost` adds to the job's."""
        fields = present(job_id=job_id, output=output, actual_cost=actual_cost, result_summary=result_summary,
                         success=success, expected_version=expected_version)
        return await self._job("job.complete", fields, tenant_id)

    async def fail(self, job_id: Id, *, error_code: Optional[str] = None, error_message: Optional[str] = None,
                   actual_cost: Optional[Money] = None, output: Any = None, expected_version: Optional[int] = None,
                   tenant_id: Optional[str] = None) -> Job:
        """Ends the run as `failed` (with `retry_at` when the retry policy allows another attempt)."""
        fields = present(job_id=job_id, error_code=error_code, error_message=error_message, actual_cost=actual_cost,
                         output=output, expected_version=expected_version)
        return await self._job("job.fail", fields, tenant_id)

    async def cancel(self, job_id: Id, *, reason: Optional[str] = None, mode: Optional[str] = None,
                     expected_version: Optional[int] = None, tenant_id: Optional[str] = None) -> Job:
        """`mode="graceful"` (the server's default) asks a running job's worker to stop; `"hard"` cancels now."""
        fields = present(job_id=job_id, reason=reason, mode=mode, expected_version=expected_version)
        return await self._job("job.cancel", fields, tenant_id)

    async def retry(self, job_id: Id, *, expected_version: Optional[int] = None,
                    tenant_id: Optional[str] = None) -> Job:
        """Runs a failed or cancelled job again as the next attempt: `running`."""
        return await self._job("job.retry", present(job_id=job_id, expected_version=expected_version), tenant_id)

    async def pause(self, job_id: Id, *, mode: Optional[str] = None, expected_version: Optional[int] = None,
                    tenant_id: Optional[str] = None) -> Job:
        """`mode="graceful"` (the default) asks the worker to checkpoint and pause; `"hard"` pauses now."""
        fields = present(job_id=job_id, mode=mode, expected_version=expected_version)
        return await self._job("job.pause", fields, tenant_id)

    async def resume(self, job_id: Id, *, expected_version: Optional[int] = None,
                     tenant_id: Optional[str] = None) -> Job:
        """Resumes a paused job: `running`, for a worker to claim and continue from its checkpoint."""
        return await self._job("job.resume", present(job_id=job_id, expected_version=expected_version), tenant_id)

    async def checkpoint(self, job_id: Id, step_index: int, *, step_name: Optional[str] = None, state: Any = None,
                         execution_context: Optional[Mapping[str, Any]] = None,
                         tenant_id: Optional[str] = None) -> Job:
        """Saves progress; a resumed or retried run reads it back from `checkpoint_data`."""
        fields = present(job_id=job_id, step_index=step_index, step_name=step_name, state=state,
                         execution_context=execution_context)
        return await self._job("job.checkpoint", fields, tenant_id)

    async def assign_agent(self, job_id: Id, agent: str, *, reason: Optional[str] = None,
                           expected_version: Optional[int] = None, tenant_id: Optional[str] = None) -> Job:
        """Hands the job to another agent (its delegation chain grows by one)."""
        fields = present(job_id=job_id, agent=agent, reason=reason, expected_version=expected_version)
        return await self._job("job.assign_agent", fields, tenant_id)

    async def link_task(self, job_id: Id, task_id: Id, *, relationship_type: Optional[str] = None,
                        metadata: Optional[Mapping[str, Any]] = None, tenant_id: Optional[str] = None) -> Job:
        """Links a task: `primary`, `supporting`, `prerequisite` or `step` (the default)."""
        fields = present(job_id=job_id, task_id=task_id, relationship_type=relationship_type, metadata=metadata)
        return await self._job("job.link_task", fields, tenant_id)

    async def unlink_task(self, job_id: Id, task_id: Id, *, tenant_id: Optional[str] = None) -> Job:
        return await self._job("job.unlink_task", {"job_id": job_id, "task_id": task_id}, tenant_id)

    async def linked_tasks(self, job_id: Id, *, tenant_id: Optional[str] = None) -> List[LinkedTask]:
        answer = await self._send("job.linked_tasks", {"job_id": job_id}, tenant_id)
        return [LinkedTask.from_wire(item) for item in answer]

    async def pending(self, *, limit: Optional[int] = None, order: Optional[str] = None, after: Optional[str] = None,
                      before: Optional[str] = None, tenant_id: Optional[str] = None) -> "Page[Job]":
        """A page of scheduled jobs."""
        fields = present(limit=limit, order=order, after=after, before=before)
        return Page.from_wire(await self._send("job.pending", fields, tenant_id), Job)

    async def running(self, *, limit: Optional[int] = None, order: Optional[str] = None, after: Optional[str] = None,
                      before: Optional[str] = None, tenant_id: Optional[str] = None) -> "Page[Job]":
        """A page of running jobs."""
        fields = present(limit=limit, order=order, after=after, before=before)
        return Page.from_wire(await self._send("job.running", fields, tenant_id), Job)

    async def history(self, job_id: Id, *, tenant_id: Optional[str] = None) -> List[Run]:
        """The job's runs, oldest first."""
        return [Run.from_wire(item) for item in await self._send("job.history", {"job_id": job_id}, tenant_id)]

    async def claim(self, *, limit: Optional[int] = None, queues: Optional[Sequence[str]] = None,
                    kinds: Optional[Sequence[str]] = None, agent: Optional[str] = None,
                    lease_seconds: Optional[int] = None, tenant_id: Optional[str] = None) -> List[Job]:
        """Takes up to `limit` (default 1) due jobs of these queues and kinds, leased to `agent` for
        `lease_seconds`; highest priority first."""
        fields = present(limit=limit, queues=_listed(queues), kinds=_listed(kinds), agent=agent,
                         lease_seconds=lease_seconds)
        return [Job.from_wire(item) for item in await self._send("job.claim", fields, tenant_id)]

    async def heartbeat(self, job_id: Id, *, execution_context: Optional[Mapping[str, Any]] = None,
                        lease_seconds: Optional[int] = None, tenant_id: Optional[str] = None) -> Heartbeat:
        """Extends the lease; the answer says whether the job still runs and whether a cancel or pause waits."""
        fields = present(job_id=job_id, execution_context=execution_context, lease_seconds=lease_seconds)
        return Heartbeat.from_wire(await self._send("job.heartbeat", fields, tenant_id))

    async def record_metrics(self, job_id: Id, *, ttft_ns: Optional[int] = None,
                             total_duration_ns: Optional[int] = None, tenant_id: Optional[str] = None) -> Job:
        fields = present(job_id=job_id, ttft_ns=ttft_ns, total_duration_ns=total_duration_ns)
        return await self._job("job.record_metrics", fields, tenant_id)


def _statuses(status: Statuses) -> Optional[List[str]]:
    if status is None:
        return None
    return [status] if isinstance(status, str) else list(status)


def _listed(values: Optional[Sequence[str]]) -> Optional[List[str]]:
    return None if values is None else list(values)
