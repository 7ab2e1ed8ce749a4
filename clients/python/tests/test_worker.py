"""The worker runtime against a real docketd: runs, results, failures, graceful cancel and pause, resume from a
checkpoint, lost jobs, and shutdown."""

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any, Dict, List, Optional

from docket_client import DocketError, Job, JobStatus, run_now
from docket_client.worker import JobContext, JobFailure, JobResult, StopReason, Worker
from support import DocketdTestCase, eventually, unique

HEARTBEAT = 1.0


class WorkerTests(DocketdTestCase):
    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self.workers: List[asyncio.Future] = []

    async def asyncTearDown(self) -> None:
        for task in self.workers:
            task.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        await super().asyncTearDown()

    async def start_worker(self, handlers: Dict[str, Any], **options: Any) -> Worker:
        """A worker running in the background; it is ready once its first claim has been answered."""
        ready = asyncio.Event()
        settings = dict(heartbeat_interval=HEARTBEAT, poll_interval=1.0, lease_seconds=10, agent=unique("agent"))
        settings.update(options)
        worker = Worker(self.docket, handlers, on_ready=ready.set, **settings)
        self.workers.append(asyncio.ensure_future(worker.run()))
        await asyncio.wait_for(ready.wait(), 15)
        return worker

    async def stop_worker(self, worker: Worker, timeout: float = 30.0) -> None:
        worker.shutdown()
        await asyncio.wait_for(self.workers[-1], timeout)

    async def finished(self, job: Job, status: Optional[str] = None, timeout: float = 20.0) -> Job:
        """The job once it reached a final status (or `status`)."""
        final = {status} if status else {"succeeded", "failed", "cancelled", "paused"}

        async def probe() -> Optional[Job]:
            current = await self.docket.jobs.get(job.id)
            return current if current.status in final else None

        return await eventually(probe, timeout=timeout, what=f"job {job.name} ending")

    def stepper(self, seen: Dict[str, Any]):
        """A handler that works in 10 ms steps from its checkpoint, checkpointing every 10 steps and when stopped."""
        async def handler(context: JobContext) -> Any:
            steps = int(context.args.get("steps", 0))
            step = context.checkpoint_step or 0
            seen.setdefault("starts", []).append(step)
            seen["running"].set()
            try:
                while step < steps:
                    await asyncio.sleep(0.01)
                    step += 1
                    if step % 10 == 0:
                        await context.checkpoint(step, {"step": step})
            except asyncio.CancelledError:
                seen["stop_reason"] = context.stop_reason
                seen["stopped_at"] = step
                await context.checkpoint(step, {"step": step}, name="stopped")
                raise
            return {"started_at": seen["starts"][-1], "steps": steps}
        return handler

    async def test_each_job_runs_once_and_its_result_completes_it(self) -> None:
        kind = unique("echo")
        runs: Counter = Counter()

        async def echo(context: JobContext) -> Any:
            runs[str(context.id)] += 1
            await asyncio.sleep(0.05)
            if context.args["n"] == 0:
                return JobResult(output={"n": 0}, actual_cost=Decimal("0.50"), summary="zero")
            return {"n": context.args["n"]}

        worker = await self.start_worker({kind: echo}, concurrency=4)
        jobs = [await self.docket.jobs.create(f"echo-{n}", kind=kind, args={"n": n}, schedule=run_now())
                for n in range(12)]
        done = [await self.finished(job, "succeeded") for job in jobs]
        self.assertEqual([job.output for job in done], [{"n": n} for n in range(12)])
        self.assertEqual((done[0].actual_cost, done[0].result_summary), (Decimal("0.50"), "zero"))
        self.assertEqual(dict(runs), {str(job.id): 1 for job in jobs})
        await self.stop_worker(worker)
        counts = worker.statistics
        self.assertEqual((counts.claimed, counts.completed, counts.failed, counts.running), (12, 12, 0, 0))
        for job in done:
            self.assertEqual([run.claimed_by for run in await self.docket.jobs.history(job.id)], [worker.agent])

    async def test_failures_carry_their_codes(self) -> None:
        kind = unique("failing")

        async def failing(context: JobContext) -> Any:
            how = context.args["how"]
            if how == "job_failure":
                raise JobFailure("BAD_INPUT", "no url given", output={"hint": "url"})
            if how == "docket_error":
                raise DocketError("CONCURRENCY_ERROR", "raced")
            if how == "not_json":
                return {"value": object()}
            raise RuntimeError("boom")

        worker = await self.start_worker({kind: failing})
        expected = {"job_failure": "BAD_INPUT", "docket_error": "CONCURRENCY_ERROR", "crash": "HANDLER_ERROR",
                    "not_json": "HANDLER_ERROR"}
        with self.assertLogs("docket_client.worker", "WARNING") as logged:
            jobs = {how: await self.docket.jobs.create(how, kind=kind, args={"how": how}, schedule=run_now())
                    for how in expected}
            for how, code in expected.items():
                failed = await self.finished(jobs[how], "failed")
                self.assertEqual(failed.error_code, code, how)
        self.assertEqual(sum("raised" in line for line in logged.output), 2)  # the crash and the output not JSON
        self.assertEqual((await self.docket.jobs.get(jobs["job_failure"].id)).output, {"hint": "url"})
        self.assertIn("RuntimeError: boom", (await self.docket.jobs.get(jobs["crash"].id)).error_message)
        await self.stop_worker(worker)
        self.assertEqual(worker.statistics.failed, 4)

    async def test_a_graceful_cancel_is_honoured_within_a_heartbeat(self) -> None:
        kind = unique("long")
        seen: Dict[str, Any] = {"running": asyncio.Event()}
        worker = await self.start_worker({kind: self.stepper(seen)})
        job = await self.docket.jobs.create("long", kind=kind, args={"steps": 3000}, schedule=run_now())
        await asyncio.wait_for(seen["running"].wait(), 15)
        await asyncio.sleep(0.3)
        requested = await self.docket.jobs.cancel(job.id, reason="changed my mind")
        self.assertEqual((requested.status, requested.is_cancel_requested), (JobStatus.RUNNING, True))
        cancelled = await self.finished(job, "cancelled", timeout=HEARTBEAT + 10)
        asked_at = requested.updated_at
        self.assertLessEqual((cancelled.finished_at - asked_at).total_seconds(), HEARTBEAT + 1.0)
        self.assertEqual(seen["stop_reason"], StopReason.CANCEL)
        self.assertEqual(cancelled.checkpoint_step, seen["stopped_at"])
        await self.stop_worker(worker)
        self.assertEqual(worker.statistics.cancelled, 1)

    async def test_a_graceful_pause_is_honoured_and_resume_continues_from_the_checkpoint(self) -> None:
        kind = unique("pausable")
        seen: Dict[str, Any] = {"running": asyncio.Event()}
        worker = await self.start_worker({kind: self.stepper(seen)})
        job = await self.docket.jobs.create("pausable", kind=kind, args={"steps": 150}, schedule=run_now())
        await asyncio.wait_for(seen["running"].wait(), 15)
        await asyncio.sleep(0.4)
        requested = await self.docket.jobs.pause(job.id)
        self.assertTrue(requested.pause_requested)
        paused = await self.finished(job, "paused", timeout=HEARTBEAT + 10)
        self.assertLessEqual((paused.updated_at - requested.updated_at).total_seconds(), HEARTBEAT + 1.0)
        self.assertEqual(seen["stop_reason"], "pause")
        saved = paused.checkpoint_step
        self.assertEqual((saved, paused.checkpoint_state), (seen["stopped_at"], {"step": seen["stopped_at"]}))
        self.assertGreater(saved, 0)
        self.assertLess(saved, 150)

        seen["running"].clear()
        await self.docket.jobs.resume(job.id)
        done = await self.finished(job, "succeeded")
        self.assertEqual(done.output, {"started_at": saved, "steps": 150})
        self.assertEqual(seen["starts"], [0, saved])
        await self.stop_worker(worker)
        counts = worker.statistics
        self.assertEqual((counts.paused, counts.completed, counts.claimed), (1, 1, 2))

    async def test_a_job_taken_away_is_given_up_without_a_report(self) -> None:
        kind = unique("taken")
        running = asyncio.Event()
        reasons: List[Any] = []

        async def sleeper(context: JobContext) -> Any:
            running.set()
            try:
                await asyncio.sleep(60)
            finally:
                reasons.append(context.stop_reason)

        worker = await self.start_worker({kind: sleeper})
        job = await self.docket.jobs.create("taken", kind=kind, schedule=run_now())
        await asyncio.wait_for(running.wait(), 15)
        await self.docket.jobs.cancel(job.id, mode="hard", reason="now")

        async def lost() -> bool:
            return worker.statistics.lost == 1

        await eventually(lost, timeout=HEARTBEAT + 5, what="the worker giving the job up")
        self.assertEqual(reasons, [StopReason.LOST])
        final = await self.docket.jobs.get(job.id)
        self.assertEqual((final.status, final.error_code), (JobStatus.CANCELLED, None))
        await self.stop_worker(worker)

    async def test_reported_context_goes_with_the_next_heartbeat(self) -> None:
        kind = unique("reporting")
        reported = asyncio.Event()

        async def reporting(context: JobContext) -> Any:
            context.report({"progress": 0.5})
            await asyncio.sleep(HEARTBEAT * 1.5)
            reported.set()
            return None

        worker = await self.start_worker({kind: reporting})
        job = await self.docket.jobs.create("reporting", kind=kind, schedule=run_now())
        done = await self.finished(job, "succeeded")
        self.assertEqual(done.execution_context.get("progress"), 0.5)
        await self.stop_worker(worker)

    async def test_shutdown_lets_a_running_handler_finish_and_claims_nothing_more(self) -> None:
        kind = unique("drain")
        running = asyncio.Event()

        async def slow(context: JobContext) -> Any:
            running.set()
            await asyncio.sleep(1.5)
            return {"finished": True}

        worker = await self.start_worker({kind: slow}, concurrency=2)
        first = await self.docket.jobs.create("first", kind=kind, schedule=run_now())
        await asyncio.wait_for(running.wait(), 15)
        await asyncio.sleep(0.3)  # let any claim already in flight be answered
        worker.shutdown()
        second = await self.docket.jobs.create("second", kind=kind, schedule=run_now())
        await asyncio.wait_for(self.workers[-1], 15)
        self.assertEqual((await self.docket.jobs.get(first.id)).output, {"finished": True})
        await asyncio.sleep(1.0)
        # The leader's sweep may start the due job (running, claimed by nobody): no worker may hold it.
        self.assertIsNone((await self.docket.jobs.get(second.id)).claimed_by)
        counts = worker.statistics
        self.assertEqual((counts.claimed, counts.completed, counts.running), (1, 1, 0))

    async def test_past_the_shutdown_deadline_handlers_are_stopped_and_fail(self) -> None:
        kind = unique("stuck")
        running = asyncio.Event()
        reasons: List[Any] = []

        async def stuck(context: JobContext) -> Any:
            running.set()
            try:
                await asyncio.sleep(60)
            finally:
                reasons.append(context.stop_reason)

        worker = await self.start_worker({kind: stuck}, shutdown_deadline=0.5)
        job = await self.docket.jobs.create("stuck", kind=kind, schedule=run_now())
        await asyncio.wait_for(running.wait(), 15)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with self.assertLogs("docket_client.worker", "WARNING") as logged:
            await self.stop_worker(worker, timeout=10)
        self.assertLess(loop.time() - started, 5)
        self.assertIn("shutdown deadline passed", logged.output[0])
        failed = await self.docket.jobs.get(job.id)
        self.assertEqual((failed.status, failed.error_code), (JobStatus.FAILED, "WORKER_SHUTDOWN"))
        self.assertEqual(reasons, [StopReason.SHUTDOWN])
