"""The task operations (`task.*`): `docket.tasks`.

One method per operation of docs/protocol.md's Tasks table, with the table's argument names as keywords.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ..models import Dependency, DependencyCheck, Page, WorkTask
from ..values import Id, Money
from .base import UNSET, Namespace, changes, present

Priority = Union[int, str]


class Tasks(Namespace):
    """`docket.tasks`: tasks, subtasks and their dependencies."""

    async def _task(self, op: str, args: Dict[str, Any], tenant_id: Optional[str]) -> WorkTask:
        return WorkTask.from_wire(await self._send(op, args, tenant_id))

    async def _tasks(self, op: str, args: Dict[str, Any], tenant_id: Optional[str]) -> List[WorkTask]:
        return [WorkTask.from_wire(item) for item in await self._send(op, args, tenant_id)]

    async def _page(self, op: str, args: Dict[str, Any], tenant_id: Optional[str]) -> "Page[WorkTask]":
        return Page.from_wire(await self._send(op, args, tenant_id), WorkTask)

    async def create(self, title: str, *, description: Optional[str] = None, priority: Optional[Priority] = None,
                     assignee_id: Optional[str] = None, assignee_type: Optional[str] = None,
                     assigned_agent: Optional[str] = None, execution_context: Optional[Mapping[str, Any]] = None,
                     estimated_cost: Optional[Money] = None, timeout_seconds: Optional[int] = None,
                     metadata: Optional[Mapping[str, Any]] = None, job_id: Optional[Id] = None,
                     parent_id: Optional[Id] = None, tenant_id: Optional[str] = None) -> WorkTask:
        """Creates a task, `pending` (of a job with `job_id`, below another with `parent_id`)."""
        fields = present(title=title, description=description, priority=priority, assignee_id=assignee_id,
                         assignee_type=assignee_type, assigned_agent=assigned_agent,
                         execution_context=execution_context, estimated_cost=estimated_cost,
                         timeout_seconds=timeout_seconds, metadata=metadata, job_id=job_id, parent_id=parent_id)
        return await self._task("task.create", fields, tenant_id)

    async def get(self, task_id: Id, *, tenant_id: Optional[str] = None) -> WorkTask:
        return await self._task("task.get", {"task_id": task_id}, tenant_id)

    async def update(self, task_id: Id, *, expected_version: Optional[int] = None, title: Any = UNSET,
                     description: Any = UNSET, priority: Any = UNSET, assignee_id: Any = UNSET,
                     assignee_type: Any = UNSET, assigned_agent: Any = UNSET, execution_context: Any = UNSET,
                     estimated_cost: Any = UNSET, timeout_seconds: Any = UNSET, metadata: Any = UNSET,
                     tenant_id: Optional[str] = None) -> WorkTask:
        """Changes the fields given (None clears one); the others stay."""
        fields = changes(title=title, description=description, priority=priority, assignee_id=assignee_id,
                         assignee_type=assignee_type, assigned_agent=assigned_agent,
                         execution_context=execution_context, estimated_cost=estimated_cost,
                         timeout_seconds=timeout_seconds, metadata=metadata)
        fields.update(present(task_id=task_id, expected_version=expected_version))
        return await self._task("task.update", fields, tenant_id)

    async def delete(self, task_id: Id, *, cascade: Optional[bool] = None, tenant_id: Optional[str] = None) -> None:
        """Deletes the task (with its whole subtree when `cascade`)."""
        await self._send("task.delete", present(task_id=task_id, cascade=cascade), tenant_id)

    async def list(self, *, status: Union[str, Sequence[str], None] = None, job_id: Optional[Id] = None,
                   assignee_id: Optional[str] = None, parent_id: Optional[Id] = None,
                   priority_min: Optional[int] = None, priority_max: Optional[int] = None,
                   limit: Optional[int] = None, order: Optional[str] = None, after: Optional[str] = None,
                   before: Optional[str] = None, tenant_id: Optional[str] = None) -> "Page[WorkTask]":
        """A page of tasks matching the filters; highest priority first, then oldest."""
        statuses = None if status is None else ([status] if isinstance(status, str) else [*status])
        fields = present(status=statuses, job_id=job_id, assignee_id=assignee_id, parent_id=parent_id,
                         priority_min=priority_min, priority_max=priority_max, limit=limit, order=order, after=after,
                         before=before)
        return await self._page("task.list", fields, tenant_id)

    async def start(self, task_id: Id, *, expected_version: Optional[int] = None,
                    tenant_id: Optional[str] = None) -> WorkTask:
        return await self._task("task.start", present(task_id=task_id, expected_version=expected_version), tenant_id)

    async def complete(self, task_id: Id, *, completion_notes: Optional[str] = None,
                       actual_cost: Optional[Money] = None, expected_version: Optional[int] = None,
                       tenant_id: Optional[str] = None) -> WorkTask:
        fields = present(task_id=task_id, completion_notes=completion_notes, actual_cost=actual_cost,
                         expected_version=expected_version)
        return await self._task("task.complete", fields, tenant_id)

    async def cancel(self, task_id: Id, *, reason: Optional[str] = None, cascade: Optional[bool] = None,
                     expected_version: Optional[int] = None, tenant_id: Optional[str] = None) -> WorkTask:
        """Cancels the task (and every open task below it with `cascade`)."""
        fields = present(task_id=task_id, reason=reason, cascade=cascade, expected_version=expected_version)
        return await self._task("task.cancel", fields, tenant_id)

    async def reopen(self, task_id: Id, *, expected_version: Optional[int] = None,
                     tenant_id: Optional[str] = None) -> WorkTask:
        return await self._task("task.reopen", present(task_id=task_id, expected_version=expected_version), tenant_id)

    async def assign(self, task_id: Id, assignee_id: str, *, assignee_type: Optional[str] = None,
                     expected_version: Optional[int] = None, tenant_id: Optional[str] = None) -> WorkTask:
        """Assigns the task to `assignee_id`, a `user` or an `agent` (the default)."""
        fields = present(task_id=task_id, assignee_id=assignee_id, assignee_type=assignee_type,
                         expected_version=expected_version)
        return await self._task("task.assign", fields, tenant_id)

    async def create_subtask(self, parent_id: Id, title: str, *, description: Optional[str] = None,
                             priority: Optional[Priority] = None, assignee_id: Optional[str] = None,
                             assignee_type: Optional[str] = None, assigned_agent: Optional[str] = None,
                             execution_context: Optional[Mapping[str, Any]] = None,
                             estimated_cost: Optional[Money] = None, timeout_seconds: Optional[int] = None,
                             metadata: Optional[Mapping[str, Any]] = None, job_id: Optional[Id] = None,
                             tenant_id: Optional[str] = None) -> WorkTask:
        """Creates a task below `parent_id` (in the parent's tenant)."""
        fields = present(parent_id=parent_id, title=title, description=description, priority=priority,
                         assignee_id=assignee_id, assignee_type=assignee_type, assigned_agent=assigned_agent,
                         execution_context=execution_context, estimated_cost=estimated_cost,
                         timeout_seconds=timeout_seconds, metadata=metadata, job_id=job_id)
        return await self._task("task.create_subtask", fields, tenant_id)

    async def subtasks(self, task_id: Id, *, tenant_id: Optional[str] = None) -> List[WorkTask]:
        return await self._tasks("task.subtasks", {"task_id": task_id}, tenant_id)

    async def add_dependency(self, task_id: Id, depends_on_id: Id, *, dependency_type: Optional[str] = None,
                             tenant_id: Optional[str] = None) -> WorkTask:
        """`task_id` depends on `depends_on_id`: `finish_to_start` (the default), `start_to_start`,
        `finish_to_finish` or `follows`. A cycle is `CIRCULAR_DEPENDENCY`."""
        fields = present(task_id=task_id, depends_on_id=depends_on_id, dependency_type=dependency_type)
        return await self._task("task.add_dependency", fields, tenant_id)

    async def remove_dependency(self, task_id: Id, depends_on_id: Id, *, tenant_id: Optional[str] = None) -> WorkTask:
        fields = {"task_id": task_id, "depends_on_id": depends_on_id}
        return await self._task("task.remove_dependency", fields, tenant_id)

    async def dependencies(self, task_id: Id, *, tenant_id: Optional[str] = None) -> List[Dependency]:
        answer = await self._send("task.dependencies", {"task_id": task_id}, tenant_id)
        return [Dependency.from_wire(item) for item in answer]

    async def dependencies_complete(self, task_id: Id, *, tenant_id: Optional[str] = None) -> DependencyCheck:
        answer = await self._send("task.dependencies_complete", {"task_id": task_id}, tenant_id)
        return DependencyCheck.from_wire(answer)

    async def update_context(self, task_id: Id, context_updates: Mapping[str, Any], *, merge: Optional[bool] = None,
                             tenant_id: Optional[str] = None) -> WorkTask:
        """Merges `context_updates` into the task's execution context (deeply), or replaces it with `merge=False`."""
        fields = present(task_id=task_id, context_updates=context_updates, merge=merge)
        return await self._task("task.update_context", fields, tenant_id)

    async def set_priority(self, task_id: Id, priority: Priority, *, tenant_id: Optional[str] = None) -> WorkTask:
        return await self._task("task.set_priority", {"task_id": task_id, "priority": priority}, tenant_id)

    async def by_job(self, job_id: Id, *, tenant_id: Optional[str] = None) -> List[WorkTask]:
        """The job's tasks and those linked to it."""
        return await self._tasks("task.by_job", {"job_id": job_id}, tenant_id)

    async def pending(self, *, limit: Optional[int] = None, order: Optional[str] = None, after: Optional[str] = None,
                      before: Optional[str] = None, tenant_id: Optional[str] = None) -> "Page[WorkTask]":
        return await self._page("task.pending", present(limit=limit, order=order, after=after, before=before),
                                tenant_id)

    async def in_progress(self, *, limit: Optional[int] = None, order: Optional[str] = None,
                          after: Optional[str] = None, before: Optional[str] = None,
                          tenant_id: Optional[str] = None) -> "Page[WorkTask]":
        return await self._page("task.in_progress", present(limit=limit, order=order, after=after, before=before),
                                tenant_id)
