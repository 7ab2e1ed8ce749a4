"""What a handler sees and says: its `JobContext`, the `JobResult` it returns, the `JobFailure` it raises.

A handler is `async def handler(context: JobContext) -> Any`. Returning completes the job (a `JobResult`, or any
JSON value as its output). Raising fails it: a `JobFailure` with its own code, a `DocketError` with the protocol's
code, anything else with `HANDLER_ERROR`. When the runtime must stop a handler (a graceful cancel or pause, a lost
job, the shutdown deadline) it cancels the handler's task; `context.stop_reason` says why, and a handler may save a
checkpoint in its `except asyncio.CancelledError:` block before re-raising.
"""

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional
from uuid import UUID

from ..models import Job
from ..values import Money

if TYPE_CHECKING:
    from ..client import Docket


@dataclass
class JobResult:
    """What a handler returns when the job succeeded: its `output`, the `actual_cost` to add, a `summary`."""

    output: Any = None
    actual_cost: Optional[Money] = None
    summary: Optional[str] = None


class JobFailure(Exception):
    """Raised by a handler to fail its job with this `code` (the job's retry policy decides what follows)."""

    def __init__(self, code: str, message: str, output: Any = None, actual_cost: Optional[Money] = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.output = output
        self.actual_cost = actual_cost

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class StopReason(str, Enum):
    """Why the runtime stopped a handler. Members compare equal to their strings (`"pause"`, …)."""

    #: A graceful `job.cancel`: once the handler has returned, the job is cancelled hard.
    CANCEL = "cancel"
    #: A graceful `job.pause`: once the handler has returned, the job is paused hard; its last checkpoint is where a
    #: resumed run continues.
    PAUSE = "pause"
    #: The worker shut down and its deadline passed: the job fails with `WORKER_SHUTDOWN`.
    SHUTDOWN = "shutdown"
    #: The job is no longer this worker's (cancelled or paused hard, timed out, lease taken): nothing is reported.
    LOST = "lost"


class JobContext:
    """A running job as its handler sees it: the job as claimed, its args and checkpoint, and ways to report."""

    def __init__(self, job: Job, docket: "Docket") -> None:
        #: The job as it was claimed (`status` running, `attempt` this run's attempt).
        self.job = job
        self._docket = docket
        self._execution_context: Optional[Dict[str, Any]] = None
        self._stop_reason: Optional[StopReason] = None

    @property
    def id(self) -> Optional[UUID]:
        return self.job.id

    @property
    def args(self) -> Dict[str, Any]:
        """The handler's input, fixed when the job was created."""
        return self.job.args

    @property
    def checkpoint_state(self) -> Any:
        """The `state` saved by the last checkpoint (of this run, or of one before a pause or retry), or None."""
        return self.job.checkpoint_state

    @property
    def checkpoint_step(self) -> Optional[int]:
        """The step index of that checkpoint, or None."""
        return self.job.checkpoint_step

    @property
    def stop_reason(self) -> Optional[StopReason]:
        """Why the runtime is stopping this handler, once it is (its task is cancelled at that moment)."""
        return self._stop_reason

    @property
    def is_pause_requested(self) -> bool:
        """Whether the handler is being stopped for a graceful pause: save a checkpoint and re-raise."""
        return self._stop_reason == StopReason.PAUSE

    async def checkpoint(self, step: int, state: Any = None, name: Optional[str] = None) -> Job:
        """Saves progress now: `state` is what a resumed or retried run continues from (`checkpoint_state`)."""
        return await self._docket.jobs.checkpoint(self.job.id, step, step_name=name, state=state,
                                                  tenant_id=self.job.tenant_id)

    def report(self, execution_context: Mapping[str, Any]) -> None:
        """Sets the execution context the next heartbeat sends (merged into the job's); a later report replaces
        one not sent yet."""
        self._execution_context = dict(execution_context)

    def _take_execution_context(self) -> Optional[Dict[str, Any]]:
        context, self._execution_context = self._execution_context, None
        return context

    def _stop(self, reason: StopReason) -> bool:
        """Records why the handler is being stopped; the first reason wins (False for any later one)."""
        if self._stop_reason is not None:
            return False
        self._stop_reason = reason
        return True
