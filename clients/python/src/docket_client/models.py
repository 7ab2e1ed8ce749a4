"""What docketd answers, as dataclasses built from the wire's JSON objects.

Each model reads the fields it knows (times as aware `datetime`, ids as `uuid.UUID`, money as `Decimal`, statuses
as their enum when known) and keeps every other member in `extra`, so a newer server that adds fields never breaks
an older client. JSON-shaped fields (`args`, `metadata`, `schedule`, `checkpoint_data`, …) stay plain dicts.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Dict, Generic, List, Optional, Type, TypeVar, Union
from uuid import UUID

from .errors import DocketError, ErrorCode
from .values import enum_or_text, model_to_wire, parse_money, parse_time


class JobStatus(str, Enum):
    """A job's status (docs/jobs.md). Members compare equal to their strings."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskStatus(str, Enum):
    """A task's status (docs/tasks.md). Members compare equal to their strings."""

    PENDING = "pending"
    BLOCKED = "blocked"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


M = TypeVar("M", bound="Model")


def _wire(read: Optional[Callable[[Any], Any]] = None, default: Any = None,
          factory: Optional[Callable[[], Any]] = None) -> Any:
    """A model field: `read` converts its non-null wire value; `factory` makes a fresh default (lists, dicts)."""
    metadata = {"read": read} if read else {}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _nested(kind: Type["Model"]) -> Callable[[Any], Any]:
    return kind.from_wire


def _list_of(kind: Type["Model"]) -> Callable[[Any], Any]:
    return lambda items: [kind.from_wire(item) for item in items]


_time = parse_time
_money = parse_money
_job_status = enum_or_text(JobStatus)
_task_status = enum_or_text(TaskStatus)


@dataclass
class Model:
    """The base of every answer model: `from_wire` reads one, `to_wire` writes it back as a JSON object."""

    extra: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls: Type[M], data: Any) -> M:
        """Builds the model from a JSON object; members it does not know go to `extra`."""
        if not isinstance(data, dict):
            raise DocketError(ErrorCode.INTERNAL, f"expected a {cls.__name__} object, got {type(data).__name__}")
        known = {item.name: item for item in fields(cls) if item.name != "extra"}
        values: Dict[str, Any] = {}
        extra: Dict[str, Any] = {}
        for name, value in data.items():
            item = known.get(name)
            if item is None:
                extra[name] = value
                continue
            read = item.metadata.get("read")
            try:
                values[name] = read(value) if read is not None and value is not None else value
            except (TypeError, ValueError, AttributeError) as error:
                raise DocketError(ErrorCode.INTERNAL,
                                  f"cannot read {cls.__name__}.{name} = {value!r}: {error}") from None
        return cls(extra=extra, **values)

    def to_wire(self) -> Dict[str, Any]:
        """The model as a JSON object (times, ids and money in their wire forms once encoded)."""
        return model_to_wire(self)


@dataclass
class Job(Model):
    """A job as the server shows it (docs/protocol.md, "Jobs")."""

    id: Optional[UUID] = _wire(UUID)
    tenant_id: Optional[str] = None
    name: Optional[str] = None
    description: Optional[str] = None
    status: Union[JobStatus, str, None] = _wire(_job_status)
    priority: Optional[int] = None
    queue: str = "default"
    kind: Optional[str] = None
    args: Dict[str, Any] = _wire(factory=dict)
    schedule: Optional[Dict[str, Any]] = None
    next_run_at: Optional[datetime] = _wire(_time)
    assigned_agent: Optional[str] = None
    delegation_chain: List[Any] = _wire(factory=list)
    execution_context: Dict[str, Any] = _wire(factory=dict)
    checkpoint_data: Optional[Dict[str, Any]] = None
    last_completed_step: Optional[int] = None
    estimated_cost: Optional[Decimal] = _wire(_money)
    actual_cost: Optional[Decimal] = _wire(_money)
    timeout_seconds: Optional[int] = None
    plan_id: Optional[str] = None
    plan_step_index: Optional[int] = None
    metadata: Dict[str, Any] = _wire(factory=dict)
    callback_url: Optional[str] = None
    callback: Optional[Dict[str, Any]] = None
    retry_policy: Optional[Dict[str, Any]] = None
    attempt: int = 0
    result_summary: Optional[str] = None
    output: Any = None
    error_code: Optional[str] = None
    error_message: Optional[str] = None
    cancel_requested: Optional[Dict[str, Any]] = None
    pause_requested: bool = False
    claimed_by: Optional[str] = None
    lease_expires_at: Optional[datetime] = _wire(_time)
    ttft_ns: Optional[int] = None
    total_duration_ns: Optional[int] = None
    created_by: Optional[str] = None
    created_at: Optional[datetime] = _wire(_time)
    updated_at: Optional[datetime] = _wire(_time)
    started_at: Optional[datetime] = _wire(_time)
    finished_at: Optional[datetime] = _wire(_time)
    version: int = 0
    idempotency_key: Optional[str] = None

    @property
    def is_cancel_requested(self) -> bool:
        """Whether a graceful cancel is waiting for the worker."""
        return bool(self.cancel_requested)

    @property
    def checkpoint_state(self) -> Any:
        """The saved checkpoint's `state` (what a resumed or retried run continues from), or None."""
        return (self.checkpoint_data or {}).get("state")

    @property
    def checkpoint_step(self) -> Optional[int]:
        """The `step_index` of that checkpoint, or None."""
        step = (self.checkpoint_data or {}).get("step_index")
        return step if isinstance(step, int) and not isinstance(step, bool) else None


@dataclass
class Run(Model):
    """One run (an attempt of an occurrence) of a job, from `job.history`."""

    id: Optional[UUID] = _wire(UUID)
    job_id: Optional[UUID] = _wire(UUID)
    run_number: Optional[int] = None
    attempt: Optional[int] = None
    scheduled_for: Optional[datetime] = _wire(_time)
    started_at: Optional[datetime] = _wire(_time)
    finished_at: Optional[datetime] = _wire(_time)
    status: Optional[str] = None
    error_code: Optional[str] = None
    error_message: Optional[str] = None
    actual_cost: Optional[Decimal] = _wire(_money)
    result_summary: Optional[str] = None
    instance_id: Optional[str] = None
    claimed_by: Optional[str] = None


@dataclass
class Heartbeat(Model):
    """`job.heartbeat`'s answer: the job's status and what its worker is asked to do."""

    status: Union[JobStatus, str, None] = _wire(_job_status)
    lease_expires_at: Optional[datetime] = _wire(_time)
    cancel_requested: Optional[Dict[str, Any]] = None
    pause_requested: bool = False

    @property
    def is_cancel_requested(self) -> bool:
        return bool(self.cancel_requested)


@dataclass
class LinkedTask(Model):
    """A task linked to a job (`job.linked_tasks`)."""

    task_id: Optional[UUID] = _wire(UUID)
    relationship_type: Optional[str] = None
    metadata: Dict[str, Any] = _wire(factory=dict)
    title: Optional[str] = None
    status: Union[TaskStatus, str, None] = _wire(_task_status)
    linked_at: Optional[datetime] = _wire(_time)


@dataclass
class Budget(Model):
    """A tenant's spending limit and, from `budget.get`, what it has spent this period."""

    tenant_id: Optional[str] = None
    limit: Optional[Decimal] = _wire(_money)
    period: Optional[str] = None
    spent: Optional[Decimal] = _wire(_money)


@dataclass
class WorkTask(Model):
    """A task (docs/tasks.md); named so to stay clear of `asyncio.Task`."""

    id: Optional[UUID] = _wire(UUID)
    tenant_id: Optional[str] = None
    title: Optional[str] = None
    description: Optional[str] = None
    status: Union[TaskStatus, str, None] = _wire(_task_status)
    priority: Optional[int] = None
    owner_id: Optional[str] = None
    assignee_id: Optional[str] = None
    assignee_type: Optional[str] = None
    assigned_agent: Optional[str] = None
    delegation_chain: List[Any] = _wire(factory=list)
    execution_context: Dict[str, Any] = _wire(factory=dict)
    estimated_cost: Optional[Decimal] = _wire(_money)
    actual_cost: Optional[Decimal] = _wire(_money)
    timeout_seconds: Optional[int] = None
    parent_id: Optional[UUID] = _wire(UUID)
    job_id: Optional[UUID] = _wire(UUID)
    completion_notes: Optional[str] = None
    cancel_reason: Optional[str] = None
    metadata: Dict[str, Any] = _wire(factory=dict)
    created_at: Optional[datetime] = _wire(_time)
    updated_at: Optional[datetime] = _wire(_time)
    started_at: Optional[datetime] = _wire(_time)
    completed_at: Optional[datetime] = _wire(_time)
    version: int = 0


@dataclass
class Dependency(Model):
    """One edge of a task's dependency graph (`task.dependencies`): `task_id` depends on `depends_on_id`."""

    task_id: Optional[UUID] = _wire(UUID)
    depends_on_id: Optional[UUID] = _wire(UUID)
    dependency_type: Optional[str] = None
    status: Union[TaskStatus, str, None] = _wire(_task_status)


@dataclass
class DependencyCheck(Model):
    """`task.dependencies_complete`'s answer."""

    complete: bool = False
    unmet: List[Any] = _wire(factory=list)


@dataclass
class Event(Model):
    """A domain event, as `events.list` returns it and a subscription delivers it; `seq` is the bus order."""

    seq: int = 0
    id: Optional[UUID] = _wire(UUID)
    topic: Optional[str] = None
    tenant_id: Optional[str] = None
    entity_type: Optional[str] = None
    entity_id: Optional[str] = None
    actor_id: Optional[str] = None
    occurred_at: Optional[datetime] = _wire(_time)
    data: Any = None


@dataclass
class EventPage(Model):
    """`events.list`'s answer: stored events, oldest first, and the `after_seq` of the next page."""

    events: List[Event] = _wire(_list_of(Event), factory=list)
    next_after_seq: int = 0


@dataclass
class RateLimit(Model):
    """A queue's rate limit: at most `count` starts per `per_seconds`."""

    count: int = 0
    per_seconds: int = 0


@dataclass
class QueueCounts(Model):
    """A queue's jobs: `available` is what a claim could take now."""

    available: int = 0
    scheduled: int = 0
    running: int = 0
    failed: int = 0
    oldest_available_since: Optional[datetime] = _wire(_time)


@dataclass
class Queue(Model):
    """A queue's settings and counts (docs/protocol.md, "Queues")."""

    tenant_id: Optional[str] = None
    queue: Optional[str] = None
    concurrency: Optional[int] = None
    rate_limit: Optional[RateLimit] = _wire(_nested(RateLimit))
    paused: bool = False
    weight: int = 1
    updated_at: Optional[datetime] = _wire(_time)
    counts: QueueCounts = _wire(_nested(QueueCounts), factory=QueueCounts)


@dataclass
class Instance(Model):
    """One docketd instance of the cluster."""

    id: Optional[str] = None
    address: Optional[str] = None
    http_address: Optional[str] = None
    version: Optional[str] = None
    hostname: Optional[str] = None
    pid: Optional[int] = None
    status: Optional[str] = None
    started_at: Optional[datetime] = _wire(_time)
    heartbeat_at: Optional[datetime] = _wire(_time)


@dataclass
class Leader(Model):
    """The recorded leader and its term."""

    instance_id: Optional[str] = None
    epoch: Optional[int] = None
    since: Optional[datetime] = _wire(_time)
    heartbeat_at: Optional[datetime] = _wire(_time)


@dataclass
class ThisInstance(Model):
    """The instance that answered, and its role."""

    id: Optional[str] = None
    role: Optional[str] = None
    epoch: Optional[int] = None


@dataclass
class Sweep(Model):
    """The last recorded pass of one of the leader's sweeps."""

    instance_id: Optional[str] = None
    epoch: Optional[int] = None
    last_run_at: Optional[datetime] = _wire(_time)
    changed: Optional[int] = None
    duration_ms: Optional[float] = None
    total_changed: Optional[int] = None


@dataclass
class ClusterStatus(Model):
    """`cluster.status`: the instances, the leader, who answered, and the sweeps by kind."""

    instances: List[Instance] = _wire(_list_of(Instance), factory=list)
    leader: Optional[Leader] = _wire(_nested(Leader))
    this_instance: Optional[ThisInstance] = _wire(_nested(ThisInstance))
    sweeps: Dict[str, Sweep] = _wire(lambda items: {kind: Sweep.from_wire(sweep) for kind, sweep in items.items()},
                                     factory=dict)


@dataclass
class Actor(Model):
    """Who a key acts as (`auth`)."""

    id: Optional[str] = None
    type: Optional[str] = None
    tenant_id: Optional[str] = None
    scopes: List[str] = _wire(factory=list)


@dataclass
class ServerInfo(Model):
    """`hello`'s answer."""

    server: Optional[str] = None
    version: Optional[str] = None
    protocol: Optional[int] = None
    instance_id: Optional[str] = None


T = TypeVar("T", bound=Model)


@dataclass
class Page(Generic[T]):
    """One page of a listing and the opaque cursors to the pages after and before it (None at either end)."""

    items: List[T] = field(default_factory=list)
    next_cursor: Optional[str] = None
    prev_cursor: Optional[str] = None

    @classmethod
    def from_wire(cls, data: Any, item: Type[T]) -> "Page[T]":
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise DocketError(ErrorCode.INTERNAL, "expected a page object with items")
        return cls([item.from_wire(entry) for entry in data["items"]], data.get("next_cursor"), data.get("prev_cursor"))
