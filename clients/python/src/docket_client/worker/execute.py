"""Running one claimed job to its end: the handler's task beside its heartbeat loop, then the report.

The heartbeat loop renews the lease every `heartbeat_interval` and reads the job's requests. A graceful cancel or
pause, or a job that is no longer running, stops the handler: its task is cancelled with the reason recorded on
the context. When the handler has ended, the outcome is reported: a result completes the job; after a stop for
cancel or pause the job is cancelled or paused hard; any other error fails it with its code. A job found lost is not
reported at all (someone else has decided its fate).
"""

import asyncio
import logging
from enum import Enum
from typing import Any, Awaitable, Callable, Optional, Tuple

from ..backoff import Backoff
from ..client import Docket
from ..errors import DocketError, ErrorCode
from ..models import Job, JobStatus
from ..operations.jobs import Jobs
from ..values import encode_line
from .context import JobContext, JobFailure, JobResult, StopReason

Handler = Callable[[JobContext], Awaitable[Any]]

#: Heartbeat refusals that mean the job is no longer this worker's.
LOST_CODES = frozenset({ErrorCode.JOB_NOT_FOUND.value, ErrorCode.INVALID_TRANSITION.value,
                        ErrorCode.PERMISSION_DENIED.value})

#: The error codes the runtime itself fails jobs with.
HANDLER_ERROR = "HANDLER_ERROR"
WORKER_SHUTDOWN = "WORKER_SHUTDOWN"
UNKNOWN_KIND = "UNKNOWN_KIND"


class Outcome(str, Enum):
    """How a run ended, as the worker reported it."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"
    LOST = "lost"


class JobRun:
    """One claimed job being run by `handler` (None when the worker has no handler for its kind)."""

    def __init__(self, context: JobContext, handler: Optional[Handler], docket: Docket, *, lease_seconds: int,
                 heartbeat_interval: float, logger: logging.Logger) -> None:
        self.context = context
        self._handler = handler
        self._docket = docket
        self._lease_seconds = lease_seconds
        self._heartbeat_interval = heartbeat_interval
        self._logger = logger
        self._task: Optional["asyncio.Future[Any]"] = None

    async def run(self) -> Outcome:
        """Runs the handler with its heartbeats and reports how it ended."""
        job = self.context.job
        if self._handler is None:
            # Claims name only the worker's kinds, so this job's kind changed under it: hand it back failed.
            reported = await self._report(lambda jobs: jobs.fail(
                job.id, error_code=UNKNOWN_KIND, error_message=f"no handler for kind {job.kind!r}",
                tenant_id=job.tenant_id))
            return Outcome.FAILED if reported else Outcome.LOST
        self._task = asyncio.ensure_future(self._invoke(self._handler))
        heartbeats = asyncio.ensure_future(self._heartbeats())
        try:
            await asyncio.wait({self._task})
        finally:
            heartbeats.cancel()
            if not self._task.done():
                self._task.cancel()  # the run itself was cancelled: abandon the job to its lease
        await asyncio.gather(heartbeats, return_exceptions=True)
        return await self._finish()

    async def _invoke(self, handler: Handler) -> Any:
        # Inside the task, so that a handler that is not a coroutine function fails the job instead of the run.
        return await handler(self.context)

    def stop(self, reason: StopReason) -> bool:
        """Stops the handler for `reason` unless another reason came first: its task is cancelled."""
        if not self.context._stop(reason):
            return False
        if self._task is not None:
            self._task.cancel()
        return True

    async def _heartbeats(self) -> None:
        context = self.context
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            try:
                beat = await self._docket.jobs.heartbeat(
                    context.job.id, execution_context=context._take_execution_context(),
                    lease_seconds=self._lease_seconds, tenant_id=context.job.tenant_id)
            except DocketError as error:
                if error.code in LOST_CODES:
                    self.stop(StopReason.LOST)
                    return
                self._logger.warning("heartbeat of job %s failed: %s", context.job.id, error)
                continue
            if beat.status != JobStatus.RUNNING:
                self.stop(StopReason.LOST)
                return
            if beat.is_cancel_requested and self.stop(StopReason.CANCEL):
                return
            if beat.pause_requested and self.stop(StopReason.PAUSE):
                return

    async def _finish(self) -> Outcome:
        job = self.context.job
        stop = self.context.stop_reason
        if stop == StopReason.LOST:
            return Outcome.LOST
        task = self._task
        assert task is not None
        error: Optional[BaseException] = asyncio.CancelledError() if task.cancelled() else task.exception()
        if error is None:
            result = task.result()
            result = result if isinstance(result, JobResult) else JobResult(output=result)
            try:
                encode_line(result.output)
            except (TypeError, ValueError) as unencodable:
                error = JobFailure(HANDLER_ERROR, f"the handler's output is not JSON: {unencodable}")
            else:
                reported = await self._report(lambda jobs: jobs.complete(
                    job.id, output=result.output, actual_cost=result.actual_cost, result_summary=result.summary,
                    tenant_id=job.tenant_id))
                return Outcome.COMPLETED if reported else Outcome.LOST
        if stop == StopReason.CANCEL:
            reported = await self._report(lambda jobs: jobs.cancel(
                job.id, reason="cancel requested", mode="hard", tenant_id=job.tenant_id))
            return Outcome.CANCELLED if reported else Outcome.LOST
        if stop == StopReason.PAUSE:
            reported = await self._report(lambda jobs: jobs.pause(job.id, mode="hard", tenant_id=job.tenant_id))
            return Outcome.PAUSED if reported else Outcome.LOST
        code, message, output, cost = failure(error, shutdown=stop == StopReason.SHUTDOWN)
        if code == HANDLER_ERROR:
            self._logger.warning("handler of job %s (%s) raised", job.id, job.kind, exc_info=error)
        reported = await self._report(lambda jobs: jobs.fail(
            job.id, error_code=code, error_message=message, actual_cost=cost, output=output, tenant_id=job.tenant_id))
        return Outcome.FAILED if reported else Outcome.LOST

    async def _report(self, send: Callable[[Jobs], Awaitable[Job]]) -> bool:
        """Sends a run's report, again while docketd is unavailable (for up to a lease); False when it was refused
        (the job was no longer this worker's to report)."""
        backoff = Backoff(0.1, 2.0, float(self._lease_seconds))
        while True:
            try:
                await send(self._docket.jobs)
                return True
            except DocketError as error:
                if error.code == ErrorCode.UNAVAILABLE and await backoff.wait():
                    continue
                self._logger.warning("report of job %s refused: %s", self.context.job.id, error)
                return False


def failure(error: BaseException, *, shutdown: bool) -> Tuple[str, str, Any, Any]:
    """The code, message, output and cost a handler's error fails its job with."""
    if isinstance(error, JobFailure):
        return error.code, error.message, error.output, error.actual_cost
    if isinstance(error, DocketError):
        return error.code, error.message, None, None
    if isinstance(error, asyncio.CancelledError):
        return WORKER_SHUTDOWN, "the worker stopped before the handler finished", None, None
    code = WORKER_SHUTDOWN if shutdown else HANDLER_ERROR
    return code, f"{type(error).__name__}: {error}"[:2000], None, None
