"""Subscriptions against a real docketd: replay, and surviving a restart of docketd with no gap and no duplicate."""

import asyncio
from typing import List

from docket_client import Docket, Event, Subscription
from support import DocketdTestCase, eventually


async def stored_events(docket: Docket, after_seq: int, up_to: int) -> List[Event]:
    """Every stored `job.*` event with `after_seq < seq <= up_to`, paging through `events.list`."""
    events: List[Event] = []
    while after_seq < up_to:
        page = await docket.events(after_seq, topics=["job.*"], limit=1000)
        events.extend(event for event in page.events if event.seq <= up_to)
        if page.next_after_seq <= after_seq:
            break
        after_seq = page.next_after_seq
    return events


async def take(subscription: Subscription, count: int, timeout: float = 15.0) -> List[Event]:
    return [await asyncio.wait_for(subscription.__anext__(), timeout) for _ in range(count)]


class SubscriptionTests(DocketdTestCase):
    async def test_a_replay_from_the_start_equals_events_list(self) -> None:
        jobs = {str((await self.docket.jobs.create(f"replayed-{index}")).id) for index in range(5)}

        async def all_stored() -> List[Event]:
            # events.list reads up to the bus horizon: the newest creates may take a moment to show.
            events = await stored_events(self.docket, 0, 1 << 62)
            return events if jobs <= {event.entity_id for event in events} else []

        stored = await eventually(all_stored, what="the creates in events.list")
        async with await self.docket.subscribe(["job.*"], after_seq=0) as replay:
            received = await take(replay, len(stored))
        self.assertEqual([(event.seq, event.id) for event in received], [(event.seq, event.id) for event in stored])

    async def test_a_subscription_survives_a_docketd_restart(self) -> None:
        docket = await self.connect(reconnect_timeout=90.0)
        self.addAsyncCleanup(docket.close)
        subscription = await docket.subscribe(["job.*"])
        start = subscription.last_seq
        received: List[Event] = []

        async def consume() -> None:
            async for event in subscription:
                received.append(event)

        consumer = asyncio.ensure_future(consume())
        self.addAsyncCleanup(self._stop_consumer, consumer, subscription)

        def created(jobs: List[str]):
            async def probe() -> bool:
                seen = {event.entity_id for event in received if event.topic == "job.created"}
                self.assertFalse(consumer.done() and consumer.exception(), "the subscription failed")
                return set(jobs) <= seen
            return probe

        before = [str((await docket.jobs.create(f"before-{index}")).id) for index in range(3)]
        await eventually(created(before), what="the events before the restart")

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.server.stop)
        await loop.run_in_executor(None, self.server.start)

        # The first call after the restart finds the connection gone: it reconnects and authenticates again.
        after = [str((await docket.jobs.create(f"after-{index}")).id) for index in range(3)]
        await eventually(created(before + after), timeout=60.0, what="the events after the restart")

        seqs = [event.seq for event in received]
        self.assertEqual(seqs, sorted(set(seqs)), "events came out of order or twice")
        stored = await stored_events(docket, start, seqs[-1])
        self.assertEqual([(event.seq, event.id, event.topic) for event in received],
                         [(event.seq, event.id, event.topic) for event in stored])
        self.assertGreaterEqual(subscription.resumes, 1)
        self.assertGreaterEqual(docket.connection_count, 2)

    async def _stop_consumer(self, consumer: "asyncio.Future[None]", subscription: Subscription) -> None:
        await subscription.cancel()
        await asyncio.wait_for(consumer, 10)
