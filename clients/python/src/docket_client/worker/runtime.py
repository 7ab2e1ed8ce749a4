"""`Worker`: claims jobs of its kinds and runs them with their handlers until it is shut down.

It claims in batches up to its free slots (only the kinds it has handlers for, from its queues), woken by a
subscription to the topics that make jobs claimable, with a slow poll as the fallback. Each job runs in a task of its
own beside its heartbeat loop (see `execute`). Graceful shutdown stops claiming, lets running handlers finish within
`shutdown_deadline`, then cancels them (their jobs fail with `WORKER_SHUTDOWN`, and their retry policy decides).
"""

import asyncio
import logging
import os
import signal
import socket
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Mapping, Optional, Sequence

from ..client import Docket
from ..errors import DocketError
from ..models import Job
from .context import JobContext, StopReason
from .execute import Handler, JobRun, Outcome

#: The topics whose events can make a job claimable.
WAKE_TOPICS = ("job.created", "job.scheduled", "job.retried", "job.resumed", "queue.resumed", "queue.updated")


@dataclass
class WorkerStatistics:
    """A worker's counts so far."""

    running: int = 0
    claimed: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    paused: int = 0
    #: Runs given up without a report (the job was no longer this worker's).
    lost: int = 0
    #: Claim calls answered.
    claims: int = 0


class Worker:
    """Runs jobs with `handlers` by kind: `await worker.run()` until `worker.shutdown()` (or SIGTERM/SIGINT with
    `install_signal_handlers=True`). A worker runs once.

    `queues`: the queues it claims from (None: every queue). `concurrency`: jobs at once. `lease_seconds`: the lease
    each claim and heartbeat asks for. `heartbeat_interval`: how often a running job's lease is renewed and its cancel
    or pause request read (at most half the lease). `poll_interval`: the slowest claim loop, when no event wakes it.
    `shutdown_deadline`: how long shutdown lets handlers finish. `agent`: the name claims carry (`claimed_by`;
    default `worker-<host>-<pid>`). `tenant_id`: the tenant it works for, needed with a system actor's key.
    `on_ready`: called once its first claim has been answered (its wake subscription is in place by then).
    """

    def __init__(self, docket: Docket, handlers: Mapping[str, Handler], *, queues: Optional[Sequence[str]] = None,
                 concurrency: int = 10, lease_seconds: int = 60, heartbeat_interval: float = 10.0,
                 poll_interval: float = 5.0, shutdown_deadline: float = 30.0, agent: Optional[str] = None,
                 tenant_id: Optional[str] = None, install_signal_handlers: bool = False,
                 on_ready: Optional[Callable[[], None]] = None, logger: Optional[logging.Logger] = None) -> None:
        self.agent = agent if agent is not None else f"worker-{socket.gethostname()}-{os.getpid()}"
        _check(bool(handlers), "handlers", "a worker needs at least one handler")
        _check(1 <= concurrency <= 1000, "concurrency", f"must be 1–1000, got {concurrency}")
        _check(1 <= lease_seconds <= 86_400, "lease_seconds", f"must be 1–86400, got {lease_seconds}")
        _check(0 < heartbeat_interval <= lease_seconds / 2, "heartbeat_interval",
               f"must be above 0 and at most half the lease ({lease_seconds} s), got {heartbeat_interval}")
        _check(poll_interval > 0, "poll_interval", "must be above 0")
        _check(shutdown_deadline >= 0, "shutdown_deadline", "must not be negative")
        _check(0 < len(self.agent) <= 500, "agent", "must be 1–500 characters")
        self.docket = docket
        self.handlers: Dict[str, Handler] = dict(handlers)
        self.queues: Optional[List[str]] = None if queues is None else list(queues)
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.heartbeat_interval = heartbeat_interval
        self.poll_interval = poll_interval
        self.shutdown_deadline = shutdown_deadline
        self.tenant_id = tenant_id
        self.install_signal_handlers = install_signal_handlers
        self._on_ready = on_ready
        self._logger = logger or logging.getLogger("docket_client.worker")
        self._statistics = WorkerStatistics()
        self._runs: Dict["asyncio.Future[Outcome]", JobRun] = {}
        self._stopping = False
        self._started = False
        self._wake: Optional[asyncio.Event] = None

    @property
    def kinds(self) -> List[str]:
        """The kinds it takes: those it has handlers for."""
        return sorted(self.handlers)

    @property
    def statistics(self) -> WorkerStatistics:
        """A snapshot of its counts."""
        return replace(self._statistics)

    def shutdown(self) -> None:
        """Asks `run()` to stop claiming, drain the running jobs and return. Safe to call from a signal handler."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Claims and runs jobs until shut down; returns once every job it took has ended and been reported.

        Cancelling `run()` instead abandons the running jobs to their leases.
        """
        if self._started:
            raise RuntimeError("a Worker runs once; make a new one")
        self._started = True
        self._wake = asyncio.Event()
        listening = asyncio.Event()
        listener = asyncio.ensure_future(self._listen(listening))
        signals = self._install_signals()
        try:
            await self._claim_loop(listening)
            await self._drain()
        finally:
            for task in list(self._runs):
                task.cancel()
            listener.cancel()
            await asyncio.gather(listener, *self._runs, return_exceptions=True)
            for number in signals:
                asyncio.get_running_loop().remove_signal_handler(number)

    async def _claim_loop(self, listening: asyncio.Event) -> None:
        # Claiming before the wake subscription is in place could miss the event of a job created meanwhile.
        try:
            await asyncio.wait_for(listening.wait(), self.poll_interval)
        except asyncio.TimeoutError:
            pass
        retry_pause = 0.1
        ready = False
        while not self._stopping:
            free = self.concurrency - len(self._runs)
            if free <= 0:
                await self._sleep(self.poll_interval)
                continue
            try:
                jobs: Optional[List[Job]] = await self.docket.jobs.claim(
                    limit=free, queues=self.queues, kinds=self.kinds, agent=self.agent,
                    lease_seconds=self.lease_seconds, tenant_id=self.tenant_id)
            except DocketError as error:
                self._logger.warning("claim failed: %s", error)
                jobs = None
            if not ready:
                ready = True
                if self._on_ready is not None:
                    self._on_ready()
            if jobs is None:
                await self._sleep(retry_pause)
                retry_pause = min(retry_pause * 2, self.poll_interval)
                continue
            retry_pause = 0.1
            self._statistics.claims += 1
            self._statistics.claimed += len(jobs)
            for job in jobs:
                self._start(job)
            if len(jobs) == free:
                continue  # a full batch: more may be waiting, claim again at once
            await self._sleep(self.poll_interval)

    def _start(self, job: Job) -> None:
        run = JobRun(JobContext(job, self.docket), self.handlers.get(job.kind or ""), self.docket,
                     lease_seconds=self.lease_seconds, heartbeat_interval=self.heartbeat_interval,
                     logger=self._logger)
        task = asyncio.ensure_future(run.run())
        self._runs[task] = run
        self._statistics.running += 1
        task.add_done_callback(self._finished)

    def _finished(self, task: "asyncio.Future[Outcome]") -> None:
        self._runs.pop(task, None)
        self._statistics.running -= 1
        if not task.cancelled() and task.exception() is None:
            outcome = task.result()
        else:
            outcome = Outcome.LOST
            if not task.cancelled():
                self._logger.error("running a job failed", exc_info=task.exception())
        counter = outcome.value  # each outcome has the statistics field of its name
        setattr(self._statistics, counter, getattr(self._statistics, counter) + 1)
        if self._wake is not None:
            self._wake.set()  # a slot is free

    async def _drain(self) -> None:
        """Lets the running jobs end within the deadline, then stops their handlers and waits for the reports."""
        if not self._runs:
            return
        _, late = await asyncio.wait(set(self._runs), timeout=self.shutdown_deadline)
        if late:
            self._logger.warning("shutdown deadline passed; stopping %d running handler(s)", len(late))
            for task in late:
                self._runs[task].stop(StopReason.SHUTDOWN)
            await asyncio.wait(late)

    async def _listen(self, listening: asyncio.Event) -> None:
        """Fires the wake signal at each event of the wake topics, resubscribing after a failure (the poll covers
        the gap), until cancelled."""
        assert self._wake is not None
        while True:
            try:
                subscription = await self.docket.subscribe(WAKE_TOPICS, tenant_id=self.tenant_id)
            except DocketError as error:
                self._logger.warning("cannot subscribe to wake-ups: %s", error)
                listening.set()
                await asyncio.sleep(self.poll_interval)
                continue
            listening.set()
            try:
                async for _ in subscription:
                    self._wake.set()
            except DocketError as error:
                self._logger.warning("wake subscription ended: %s", error)
            finally:
                await subscription.cancel()
            await asyncio.sleep(self.poll_interval)

    async def _sleep(self, seconds: float) -> None:
        """Waits until the wake signal fires or `seconds` pass, then resets it."""
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    def _install_signals(self) -> List[int]:
        if not self.install_signal_handlers:
            return []
        loop = asyncio.get_running_loop()
        installed = []
        for number in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(number, self.shutdown)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or a platform without them
            installed.append(number)
        return installed


def _check(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{field}: {message}")
