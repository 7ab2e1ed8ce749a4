"""The typed client against a real docketd: every documented operation, a job's life, errors and pipelining."""

import asyncio
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import List, Set
from unittest import mock

from docket_client import (ClusterStatus, Connection, DocketError, ErrorCode, Event, Job, JobStatus, Page, Queue,
                           RateLimit, TaskStatus, WorkTask, once, run_now)
from support import REPO, DocketdTestCase, eventually, unique


def documented_operations() -> Set[str]:
    """The operations docs/protocol.md documents: the backticked names in the first column of its tables (as the
    server's OperationTableTests read them)."""
    operation = re.compile(r"^(hello|ping|auth|subscribe|unsubscribe|[a-z]+\.[a-z_]+)$")
    names = set()
    for line in (REPO / "docs" / "protocol.md").read_text().splitlines():
        if line.startswith("| `"):
            first_cell = line[2:].split("|", 1)[0]
            names.update(name for name in re.findall(r"`([^`]+)`", first_cell) if operation.match(name))
    return names


class OperationsTests(DocketdTestCase):
    def test_the_docs_table_is_read(self) -> None:
        documented = documented_operations()
        self.assertGreater(len(documented), 50)
        self.assertLessEqual({"hello", "job.claim", "task.by_job", "queue.update", "budget.set", "events.list"},
                             documented)

    async def test_every_documented_operation_has_a_typed_method(self) -> None:
        """Runs each operation of the docs through its typed method against the server, recording what went on the
        wire, and checks every documented operation was among them."""
        sent: List[str] = []
        original = Connection.call

        async def recording(connection, op, args=None, on_answer=None):
            sent.append(op)
            return await original(connection, op, args, on_answer)

        with mock.patch.object(Connection, "call", recording):
            await self._exercise_every_operation()
        documented = documented_operations()
        self.assertEqual(set(), documented - set(sent), "documented operations no typed method sent")
        self.assertEqual(set(), set(sent) - documented, "operations sent that the docs do not list")

    async def _exercise_every_operation(self) -> None:
        docket = self.docket
        info = await docket.hello()
        self.assertEqual((info.server, info.protocol), ("docketd", 1))
        self.assertEqual(await docket.ping(), info.instance_id)
        actor = await docket.whoami()
        self.assertEqual((actor.id, actor.tenant_id), ("app", self.tenant))

        jobs = docket.jobs
        job = await jobs.create("ops", kind=unique("k"), args={"n": 1}, priority="HIGH", estimated_cost="1.50",
                                metadata={"suite": "ops"})
        self.assertEqual((job.status, job.priority, job.estimated_cost), (JobStatus.DRAFT, 75, Decimal("1.50")))
        self.assertEqual((await jobs.get(job.id)).name, "ops")
        updated = await jobs.update(job.id, name="ops-renamed", description=None, expected_version=job.version)
        self.assertEqual((updated.name, updated.version), ("ops-renamed", job.version + 1))
        listed = await jobs.list(status="draft", metadata={"suite": "ops"})
        self.assertIsInstance(listed, Page)
        self.assertIn(job.id, [item.id for item in listed.items])
        batch = await jobs.create_many([{"name": "b1"}, {"name": "b2", "estimated_cost": Decimal("2")}])
        self.assertEqual([item.name for item in batch], ["b1", "b2"])
        later = await jobs.schedule(batch[0].id, once(datetime.now(timezone.utc) + timedelta(hours=1)))
        self.assertEqual(later.status, JobStatus.SCHEDULED)
        self.assertIn(later.id, [item.id for item in (await jobs.pending(limit=100)).items])
        await jobs.delete(batch[1].id)

        started = await jobs.start(job.id)
        self.assertEqual(started.status, JobStatus.RUNNING)
        self.assertIn(job.id, [item.id for item in (await jobs.running(limit=100)).items])
        saved = await jobs.checkpoint(job.id, 2, step_name="two", state={"at": 2})
        self.assertEqual((saved.checkpoint_step, saved.checkpoint_state), (2, {"at": 2}))
        beat = await jobs.heartbeat(job.id, lease_seconds=30, execution_context={"progress": 0.5})
        self.assertEqual((beat.status, beat.pause_requested, beat.is_cancel_requested),
                         (JobStatus.RUNNING, False, False))
        self.assertEqual((await jobs.record_metrics(job.id, ttft_ns=5, total_duration_ns=9)).ttft_ns, 5)
        handed = await jobs.assign_agent(job.id, "agent-2", reason="load")
        self.assertEqual(handed.assigned_agent, "agent-2")

        tasks = docket.tasks
        task = await tasks.create("write", priority=60, metadata={"m": 1})
        self.assertEqual(task.status, TaskStatus.PENDING)
        linked = await jobs.link_task(job.id, task.id, relationship_type="supporting")
        self.assertEqual(linked.id, job.id)
        self.assertEqual([(item.task_id, item.relationship_type) for item in await jobs.linked_tasks(job.id)],
                         [(task.id, "supporting")])
        self.assertIn(task.id, [item.id for item in await tasks.by_job(job.id)])
        await jobs.unlink_task(job.id, task.id)
        done = await jobs.complete(job.id, output={"ok": True}, actual_cost="0.25", result_summary="fine")
        self.assertEqual((done.status, done.output, done.actual_cost),
                         (JobStatus.SUCCEEDED, {"ok": True}, Decimal("0.25")))
        runs = await jobs.history(job.id)
        self.assertEqual([(run.run_number, run.status, run.actual_cost) for run in runs],
                         [(1, "succeeded", Decimal("0.25"))])

        flaky = await jobs.create("flaky")
        await jobs.start(flaky.id)
        failed = await jobs.fail(flaky.id, error_code="E_ONE", error_message="first")
        self.assertEqual((failed.status, failed.error_code), (JobStatus.FAILED, "E_ONE"))
        again = await jobs.retry(flaky.id)
        self.assertEqual((again.status, again.attempt), (JobStatus.RUNNING, 2))
        self.assertEqual((await jobs.pause(flaky.id, mode="hard")).status, JobStatus.PAUSED)
        self.assertEqual((await jobs.resume(flaky.id)).status, JobStatus.RUNNING)
        self.assertEqual((await jobs.cancel(flaky.id, reason="enough", mode="hard")).status, JobStatus.CANCELLED)

        kind = unique("claimable")
        due = await jobs.create("due", kind=kind, schedule=run_now())

        async def claimed() -> List[Job]:
            return await jobs.claim(limit=5, kinds=[kind], agent="agent-ops", lease_seconds=30)

        taken = await eventually(claimed, what="a claim of the due job")
        self.assertEqual([(item.id, item.claimed_by) for item in taken], [(due.id, "agent-ops")])

        self.assertEqual((await tasks.get(task.id)).title, "write")
        renamed = await tasks.update(task.id, title="write it", description="now", expected_version=task.version)
        self.assertEqual(renamed.title, "write it")
        self.assertIn(task.id, [item.id for item in (await tasks.list(status=["pending"], priority_min=50)).items])
        self.assertIn(task.id, [item.id for item in (await tasks.pending(limit=100)).items])
        self.assertEqual((await tasks.start(task.id)).status, TaskStatus.IN_PROGRESS)
        self.assertIn(task.id, [item.id for item in (await tasks.in_progress(limit=100)).items])
        completed = await tasks.complete(task.id, completion_notes="done", actual_cost=1)
        self.assertEqual((completed.status, completed.actual_cost), (TaskStatus.COMPLETED, Decimal(1)))
        self.assertEqual((await tasks.reopen(task.id)).status, TaskStatus.PENDING)
        self.assertEqual((await tasks.assign(task.id, "someone", assignee_type="user")).assignee_id, "someone")
        child = await tasks.create_subtask(task.id, "part")
        self.assertEqual(child.parent_id, task.id)
        self.assertEqual([item.id for item in await tasks.subtasks(task.id)], [child.id])
        other = await tasks.create("prerequisite")
        blocked = await tasks.add_dependency(child.id, other.id)
        self.assertEqual(blocked.status, TaskStatus.BLOCKED)
        self.assertEqual([(edge.task_id, edge.depends_on_id) for edge in await tasks.dependencies(child.id)],
                         [(child.id, other.id)])
        self.assertFalse((await tasks.dependencies_complete(child.id)).complete)
        self.assertEqual((await tasks.remove_dependency(child.id, other.id)).status, TaskStatus.PENDING)
        merged = await tasks.update_context(child.id, {"outline": {"sections": 3}})
        self.assertEqual(merged.execution_context, {"outline": {"sections": 3}})
        self.assertEqual((await tasks.set_priority(child.id, "CRITICAL")).priority, 100)
        self.assertEqual((await tasks.cancel(other.id, reason="no")).status, TaskStatus.CANCELLED)
        await tasks.delete(task.id, cascade=True)

        queue = unique("q")
        changed = await docket.queues.update(queue, concurrency=5, rate_limit=RateLimit(count=10, per_seconds=1),
                                             weight=3)
        self.assertEqual((changed.concurrency, changed.rate_limit.count, changed.weight), (5, 10, 3))
        cleared = await docket.queues.update(queue, concurrency=None)
        self.assertEqual((cleared.concurrency, cleared.weight), (None, 3))
        self.assertIsInstance(await docket.queues.get(queue), Queue)
        self.assertIn(queue, [item.queue for item in await docket.queues.list()])
        self.assertTrue((await docket.queues.pause(queue)).paused)
        self.assertFalse((await docket.queues.resume(queue)).paused)

        budget = await docket.admin.set_budget(Decimal("100.00"), "month")
        self.assertEqual((budget.limit, budget.period), (Decimal("100.00"), "month"))
        self.assertEqual((await docket.admin.budget()).limit, Decimal("100.00"))
        status = await docket.admin.cluster_status()
        self.assertIsInstance(status, ClusterStatus)
        self.assertEqual(status.this_instance.id, info.instance_id)

        page = await docket.events(0, topics=["job.*"], limit=5)
        self.assertTrue(page.events and all(isinstance(event, Event) for event in page.events))
        subscription = await docket.subscribe(["task.*"])
        await subscription.cancel()

    async def test_a_job_life_through_typed_methods(self) -> None:
        jobs = self.docket.jobs
        job = await jobs.create("life", kind="report", args={"day": "mon"}, retry_policy={"max_attempts": 3},
                                estimated_cost=Decimal("1.00"))
        self.assertIsInstance(job.id, uuid.UUID)
        self.assertIsInstance(job.created_at, datetime)
        self.assertEqual(job.created_at.tzinfo, timezone.utc)
        running = await jobs.start(job.id)
        self.assertEqual((running.status, running.attempt), (JobStatus.RUNNING, 1))
        failed = await jobs.fail(job.id, error_code="FLAKY", actual_cost="0.10")
        self.assertEqual((failed.status, failed.actual_cost), (JobStatus.FAILED, Decimal("0.10")))
        retried = await jobs.retry(job.id)
        self.assertEqual((retried.status, retried.attempt), (JobStatus.RUNNING, 2))
        done = await jobs.complete(job.id, output={"rows": 3}, actual_cost=0.2)
        self.assertEqual((done.status, done.output), (JobStatus.SUCCEEDED, {"rows": 3}))
        self.assertEqual(done.actual_cost, Decimal("0.30"))  # exactly: 0.10 + 0.20
        runs = await jobs.history(job.id)
        self.assertEqual([(run.attempt, run.status, run.error_code) for run in runs],
                         [(1, "failed", "FLAKY"), (2, "succeeded", None)])
        events = await self.docket.events(0, topics=["job.*"], limit=1000)
        mine = [event.topic for event in events.events if event.entity_id == str(job.id)]
        self.assertEqual(mine[0], "job.created")
        self.assertIn("job.retried", mine)
        self.assertEqual(mine[-1], "job.succeeded")

    async def test_errors_carry_the_protocol_code(self) -> None:
        jobs = self.docket.jobs
        with self.assertRaises(DocketError) as missing:
            await jobs.get(uuid.uuid4())
        self.assertEqual(missing.exception.code, "JOB_NOT_FOUND")
        self.assertEqual(missing.exception.code, ErrorCode.JOB_NOT_FOUND)
        self.assertIs(type(missing.exception.code), str)

        with self.assertRaises(DocketError) as invalid:
            await jobs.create("bad", priority=500)
        self.assertEqual((invalid.exception.code, invalid.exception.details.get("field")),
                         ("VALIDATION_ERROR", "priority"))

        draft = await jobs.create("draft")
        with self.assertRaises(DocketError) as transition:
            await jobs.complete(draft.id)
        self.assertEqual(transition.exception.code, ErrorCode.INVALID_TRANSITION)

        with self.assertRaises(DocketError) as schedule:
            await jobs.create("cron", schedule={"kind": "cron", "expression": "0 9 * * *", "timezone": "PST"})
        self.assertEqual((schedule.exception.code, schedule.exception.details.get("field")),
                         ("SCHEDULE_ERROR", "timezone"))

        with self.assertRaises(DocketError) as stale:
            await jobs.update(draft.id, name="x", expected_version=draft.version + 5)
        self.assertEqual(stale.exception.code, ErrorCode.CONCURRENCY_ERROR)

        first = await self.docket.tasks.create("a")
        second = await self.docket.tasks.create("b")
        await self.docket.tasks.add_dependency(first.id, second.id)
        with self.assertRaises(DocketError) as cycle:
            await self.docket.tasks.add_dependency(second.id, first.id)
        self.assertEqual(cycle.exception.code, ErrorCode.CIRCULAR_DEPENDENCY)
        self.assertEqual(cycle.exception.details["path"], [str(second.id), str(first.id), str(second.id)])

        with self.assertRaises(DocketError) as unknown:
            await self.docket.call("job.nonexistent")
        self.assertEqual(unknown.exception.code, ErrorCode.UNKNOWN_OP)
        with self.assertRaises(DocketError) as extra:
            await self.docket.call("job.get", {"job_id": str(draft.id), "bogus": 1})
        self.assertEqual((extra.exception.code, extra.exception.details), ("VALIDATION_ERROR", {"field": "bogus"}))
        # The connection is still usable after every refusal.
        self.assertEqual((await jobs.get(draft.id)).id, draft.id)

    async def test_untyped_call_returns_the_wire_data(self) -> None:
        when = datetime(2030, 1, 2, tzinfo=timezone.utc)
        job = await self.docket.call("job.create", {"name": "raw", "args": {"when": when}})
        self.assertEqual(job["args"], {"when": "2030-01-02T00:00:00.000000Z"})
        self.assertIsInstance(job["id"], str)

    async def test_many_calls_in_flight_on_one_connection(self) -> None:
        created = await asyncio.gather(*(self.docket.jobs.create(f"p{index}", args={"i": index})
                                         for index in range(60)))
        fetched = await asyncio.gather(*(self.docket.jobs.get(job.id) for job in created))
        self.assertEqual([job.args["i"] for job in fetched], list(range(60)))
        self.assertEqual(self.docket.connection_count, 1)

    async def test_a_system_key_names_its_tenant_through_the_client_default(self) -> None:
        key_file = Path(self.server.data_dir, "admin.key")
        if not key_file.exists():
            self.skipTest("this database's admin key was written by another docketd")
        admin_key = key_file.read_text().strip()
        admin = await type(self.docket).connect("127.0.0.1", self.server.port, admin_key, tenant_id=self.tenant)
        try:
            job = await admin.jobs.create("by-admin")
            self.assertEqual(job.tenant_id, self.tenant)
            self.assertEqual((await self.docket.jobs.get(job.id)).created_by, "admin")
        finally:
            await admin.close()

    async def test_results_are_dataclasses_of_the_wire_objects(self) -> None:
        task = await self.docket.tasks.create("typed", estimated_cost="3.5")
        self.assertIsInstance(task, WorkTask)
        self.assertEqual(task.estimated_cost, Decimal("3.50"))
        self.assertEqual(task.to_wire()["title"], "typed")
