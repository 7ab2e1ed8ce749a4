"""The client's own logic, without docketd: wire values, models, and connection and subscription behaviour against
a scripted stand-in server (a dropped connection mid-call, a `dropped` push, replayed duplicates)."""

import asyncio
import json
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Awaitable, Callable, Dict, List, Optional

from docket_client import Docket, DocketError, ErrorCode, Job, JobStatus, format_time, parse_time, run_now
from docket_client.values import money_arg
from docket_client.worker import JobFailure, Worker
from docket_client.worker.execute import failure


class ValueTests(unittest.TestCase):
    def test_times_read_every_offset_and_fraction(self) -> None:
        self.assertEqual(parse_time("2026-11-23T08:36:07.340203Z"),
                         datetime(2026, 11, 23, 8, 36, 7, 340203, tzinfo=timezone.utc))
        self.assertEqual(parse_time("2026-11-23T09:36:07.5+01:00"),
                         datetime(2026, 11, 23, 8, 36, 7, 500000, tzinfo=timezone.utc))
        self.assertEqual(parse_time("0001-01-01T00:00:00Z").year, 1)
        for bad in ("2026-11-23", "2026-11-23T08:36:07", "yesterday"):
            with self.assertRaises(ValueError):
                parse_time(bad)

    def test_times_are_written_in_utc_with_microseconds(self) -> None:
        berlin = timezone(timedelta(hours=1))
        self.assertEqual(format_time(datetime(2026, 1, 2, 4, 5, 6, 7, tzinfo=berlin)), "2026-01-02T03:05:06.000007Z")
        self.assertEqual(format_time(datetime(1, 1, 1)), "0001-01-01T00:00:00.000000Z")

    def test_money_is_sent_as_a_plain_decimal_string(self) -> None:
        self.assertEqual(money_arg(Decimal("1E+1")), "10")
        self.assertEqual(money_arg(1.1), "1.1")
        self.assertEqual(money_arg("0.30"), "0.30")
        self.assertEqual(money_arg(3), "3")
        with self.assertRaises(TypeError):
            money_arg(True)
        with self.assertRaises(ValueError):
            money_arg("NaN")

    def test_models_keep_unknown_fields_and_statuses(self) -> None:
        job = Job.from_wire({"id": "b441c308-71b5-45e5-a0d0-f4b58ebe293b", "status": "hibernating", "priority": 75,
                             "estimated_cost": "1.50", "created_at": "2026-11-23T08:36:07.340203Z",
                             "checkpoint_data": {"step_index": 4, "state": {"i": 4}}, "from_the_future": [1]})
        self.assertEqual(job.status, "hibernating")
        self.assertEqual(job.extra, {"from_the_future": [1]})
        self.assertEqual((job.estimated_cost, job.checkpoint_step, job.checkpoint_state),
                         (Decimal("1.50"), 4, {"i": 4}))
        self.assertIs(Job.from_wire({"status": "running"}).status, JobStatus.RUNNING)
        with self.assertRaises(DocketError) as bad:
            Job.from_wire({"created_at": "not a time"})
        self.assertEqual(bad.exception.code, ErrorCode.INTERNAL)

    def test_errors_read_from_the_wire(self) -> None:
        error = DocketError.from_wire({"code": "SCHEDULE_ERROR", "message": "bad", "details": {"field": "hour"}})
        self.assertEqual((error.code, error.message, error.details), ("SCHEDULE_ERROR", "bad", {"field": "hour"}))
        self.assertEqual(str(error), "SCHEDULE_ERROR: bad")
        self.assertEqual(DocketError.from_wire("nonsense").code, "INTERNAL")
        self.assertEqual(DocketError(ErrorCode.NOT_FOUND, "x").code, "NOT_FOUND")

    def test_run_now_is_due_now(self) -> None:
        schedule = run_now()
        self.assertEqual(schedule["kind"], "once")
        self.assertLess(abs(parse_time(schedule["run_at"]) - datetime.now(timezone.utc)), timedelta(seconds=2))

    def test_handler_errors_map_to_job_failures(self) -> None:
        self.assertEqual(failure(JobFailure("BAD_INPUT", "no", output={"x": 1}), shutdown=False)[:3],
                         ("BAD_INPUT", "no", {"x": 1}))
        self.assertEqual(failure(DocketError("CONCURRENCY_ERROR", "raced"), shutdown=False)[:2],
                         ("CONCURRENCY_ERROR", "raced"))
        self.assertEqual(failure(RuntimeError("boom"), shutdown=False)[:2], ("HANDLER_ERROR", "RuntimeError: boom"))
        self.assertEqual(failure(RuntimeError("boom"), shutdown=True)[0], "WORKER_SHUTDOWN")
        self.assertEqual(failure(asyncio.CancelledError(), shutdown=False)[0], "WORKER_SHUTDOWN")

    def test_worker_settings_are_checked(self) -> None:
        async def handler(context: Any) -> None:
            return None

        with self.assertRaises(ValueError):
            Worker(object(), {})  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            Worker(object(), {"k": handler}, lease_seconds=10, heartbeat_interval=6)  # type: ignore[arg-type]
        self.assertEqual(Worker(object(), {"b": handler, "a": handler}).kinds, ["a", "b"])  # type: ignore[arg-type]


Respond = Callable[["FakeSession", Dict[str, Any]], Awaitable[None]]


class FakeSession:
    """One connection to the stand-in server."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def send(self, *messages: Dict[str, Any]) -> None:
        """Writes these lines in one write (one TCP segment, as a busy server would)."""
        self._writer.write(b"".join(json.dumps(message).encode() + b"\n" for message in messages))

    def close(self) -> None:
        self._writer.close()


class FakeDocketd:
    """A scripted stand-in for docketd: accepts any `auth` (or refuses all), and hands every other request to
    `respond`. It records every request and counts connections."""

    def __init__(self, respond: Respond, accept_auth: bool = True) -> None:
        self.respond = respond
        self.accept_auth = accept_auth
        self.requests: List[Dict[str, Any]] = []
        self.connections = 0
        self.sessions: List[FakeSession] = []
        self._server: Optional[asyncio.AbstractServer] = None
        self.port = 0

    async def start(self) -> "FakeDocketd":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for session in self.sessions:
            session.close()
        await self._server.wait_closed()

    def ops(self, op: str) -> List[Dict[str, Any]]:
        return [request for request in self.requests if request["op"] == op]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        session = FakeSession(writer)
        self.sessions.append(session)
        while True:
            line = await reader.readline()
            if not line:
                break
            request = json.loads(line)
            self.requests.append(request)
            if request["op"] == "auth":
                if self.accept_auth:
                    session.send({"id": request["id"], "ok": True, "data": {"actor": {"id": "a", "type": "service"}}})
                else:
                    session.send({"id": request["id"], "ok": False,
                                  "error": {"code": "UNAUTHENTICATED", "message": "bad key"}})
                continue
            await self.respond(session, request)
        writer.close()


def answer(request: Dict[str, Any], data: Any) -> Dict[str, Any]:
    return {"id": request["id"], "ok": True, "data": data}


def event(seq: int, subscription: str) -> Dict[str, Any]:
    return {"subscription": subscription, "event": {"seq": seq, "id": "00000000-0000-0000-0000-%012d" % seq,
                                                    "topic": "job.created", "entity_type": "job",
                                                    "occurred_at": "2026-11-23T12:00:01.123456Z", "data": {}}}


class FakeServerTests(unittest.IsolatedAsyncioTestCase):
    async def serve(self, respond: Respond, **options: Any) -> FakeDocketd:
        server = await FakeDocketd(respond, **options).start()
        self.addAsyncCleanup(server.stop)
        return server

    async def client(self, server: FakeDocketd, **options: Any) -> Docket:
        docket = await Docket.connect("127.0.0.1", server.port, "dk_test", **options)
        self.addAsyncCleanup(docket.close)
        return docket

    async def test_a_call_in_flight_when_the_connection_drops_fails_unavailable_and_is_not_resent(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            if len(server.ops("job.get")) == 1:
                session.close()  # the first job.get never gets its answer
            else:
                session.send(answer(request, {"id": request["args"]["job_id"], "name": "second"}))

        server = await self.serve(respond)
        docket = await self.client(server)
        first, second = uuid.uuid4(), uuid.uuid4()
        with self.assertRaises(DocketError) as lost:
            await docket.jobs.get(first)
        self.assertEqual(lost.exception.code, ErrorCode.UNAVAILABLE)
        self.assertIn("in flight", lost.exception.message)
        job = await docket.jobs.get(second)  # reconnects and authenticates again first
        self.assertEqual((job.id, job.name), (second, "second"))
        self.assertEqual([request["args"]["job_id"] for request in server.ops("job.get")], [str(first), str(second)])
        self.assertEqual((len(server.ops("auth")), server.connections, docket.connection_count), (2, 2, 2))

    async def test_a_call_waits_for_the_server_to_come_back_only_up_to_the_reconnect_timeout(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            session.send(answer(request, {"pong": True, "instance_id": "i"}))

        server = await self.serve(respond)
        docket = await self.client(server, reconnect_timeout=0.6)
        await server.stop()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with self.assertRaises(DocketError) as gone:
            await docket.ping()
        self.assertEqual(gone.exception.code, ErrorCode.UNAVAILABLE)
        self.assertLess(loop.time() - started, 2.0)

    async def test_a_refused_key_fails_at_once(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            raise AssertionError("nothing but auth should arrive")

        server = await self.serve(respond, accept_auth=False)
        with self.assertRaises(DocketError) as refused:
            await Docket.connect("127.0.0.1", server.port, "dk_bad", reconnect_timeout=5)
        self.assertEqual(refused.exception.code, ErrorCode.UNAUTHENTICATED)
        self.assertEqual(len(server.ops("auth")), 1)

    async def test_a_line_past_the_server_limit_is_refused_before_sending(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            session.send(answer(request, {}))

        server = await self.serve(respond)
        docket = await self.client(server)
        with self.assertRaises(DocketError) as long_line:
            await docket.jobs.create("big", args={"blob": "x" * (1 << 20)})
        self.assertEqual(long_line.exception.code, ErrorCode.LINE_TOO_LONG)
        self.assertEqual(server.ops("job.create"), [])

    async def test_events_written_together_with_the_subscribe_answer_are_delivered(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            if request["op"] == "subscribe":
                session.send(answer(request, {"subscription_id": "s1", "last_seq": 4}),
                             event(5, "s1"), event(6, "s1"), event(7, "s1"))

        server = await self.serve(respond)
        docket = await self.client(server)
        subscription = await docket.subscribe(["job.*"])
        self.assertEqual([(await subscription.__anext__()).seq for _ in range(3)], [5, 6, 7])

    async def test_a_dropped_subscription_resumes_from_the_last_delivered_seq_without_duplicates(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            if request["op"] != "subscribe":
                return
            if len(server.ops("subscribe")) == 1:
                session.send(answer(request, {"subscription_id": "s1", "last_seq": 10}), event(11, "s1"),
                             event(12, "s1"),
                             {"subscription": "s1", "dropped": True,
                              "error": {"code": "RATE_LIMITED", "message": "behind", "details": {"last_seq": 12}}},
                             event(13, "s1"))  # after the drop: not of any live subscription, ignored
            else:
                session.send(answer(request, {"subscription_id": "s2", "last_seq": 14}), event(11, "s2"),
                             event(12, "s2"), event(13, "s2"), event(14, "s2"))

        server = await self.serve(respond)
        docket = await self.client(server)
        subscription = await docket.subscribe(["job.*"])
        seqs = [(await subscription.__anext__()).seq for _ in range(4)]
        self.assertEqual(seqs, [11, 12, 13, 14])
        self.assertEqual([request["args"].get("from_seq") for request in server.ops("subscribe")], [None, 12])
        self.assertEqual((subscription.resumes, subscription.last_seq, subscription.id), (1, 14, "s2"))

    async def test_a_subscription_resumes_on_a_new_connection_after_a_loss(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            if request["op"] != "subscribe":
                return
            if len(server.ops("subscribe")) == 1:
                session.send(answer(request, {"subscription_id": "s1", "last_seq": 0}), event(1, "s1"), event(2, "s1"))
                session.close()
            else:
                session.send(answer(request, {"subscription_id": "s2", "last_seq": 3}), event(2, "s2"), event(3, "s2"))

        server = await self.serve(respond)
        docket = await self.client(server)
        subscription = await docket.subscribe(["job.*"], after_seq=0)
        self.assertEqual([(await subscription.__anext__()).seq for _ in range(3)], [1, 2, 3])
        self.assertEqual([request["args"].get("from_seq") for request in server.ops("subscribe")], [0, 2])
        self.assertEqual(len(server.ops("auth")), 2)

    async def test_cancel_and_close_end_iteration(self) -> None:
        async def respond(session: FakeSession, request: Dict[str, Any]) -> None:
            if request["op"] == "subscribe":
                session.send(answer(request, {"subscription_id": f"s{len(server.ops('subscribe'))}", "last_seq": 0}))
            elif request["op"] == "unsubscribe":
                session.send(answer(request, {"subscription_id": request["args"]["subscription_id"],
                                              "unsubscribed": True}))

        server = await self.serve(respond)
        docket = await self.client(server)
        first = await docket.subscribe(["job.*"])
        second = await docket.subscribe(["task.*"])
        await first.cancel()
        self.assertEqual([event async for event in first], [])
        self.assertEqual([request["args"] for request in server.ops("unsubscribe")], [{"subscription_id": "s1"}])
        waiting = asyncio.ensure_future(second.__anext__())
        await asyncio.sleep(0.05)
        await docket.close()
        with self.assertRaises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 2)
        with self.assertRaises(DocketError) as closed:
            await docket.ping()
        self.assertEqual(closed.exception.code, ErrorCode.UNAVAILABLE)
