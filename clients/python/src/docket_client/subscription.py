"""Event subscriptions that outlive their connection.

A `Subscription` is an async iterator of `Event`s in `seq` order. The server-side subscription it reads lives on one
connection; when that connection is lost, or the server drops the subscription because it fell behind, the iterator
subscribes again with `from_seq` set to the last `seq` it delivered, and skips any event at or below that `seq`.
So across reconnects nothing is missed (the server replays what was stored meanwhile) and nothing comes twice.

The `SubscriptionRouter` hands each connection's pushes to the subscription they belong to. A subscription's route
is registered by the connection's reader the moment the `subscribe` answer is read, before the next line, so the
events that follow the answer at once are never dropped for want of a route.
"""

import asyncio
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Set, Tuple

from .backoff import Backoff
from .connection import Connection, PushListener
from .errors import DocketError, ErrorCode
from .models import Event

if TYPE_CHECKING:
    from .client import Docket

_EVENT = "event"    # an envelope from the current server-side subscription
_ENDED = "ended"    # that server-side subscription is gone (lost connection, or dropped): subscribe again
_CLOSED = "closed"  # the subscription was cancelled or the client closed: iteration ends


class Subscription:
    """An open subscription: `async for event in subscription`. Made by `Docket.subscribe`.

    Iteration ends when `cancel()` is called or the client is closed; it raises `DocketError` when docketd cannot be
    reached again within the client's `reconnect_timeout`, or refuses the renewed subscription.
    """

    def __init__(self, docket: "Docket", topics: Sequence[str], tenant_id: Optional[str],
                 after_seq: Optional[int]) -> None:
        self._docket = docket
        self.topics: List[str] = list(topics)
        self.tenant_id = tenant_id
        self._last_seq = after_seq
        self._server_id: Optional[str] = None
        self._connection: Optional[Connection] = None
        self._signals: "asyncio.Queue[Tuple[str, Any]]" = asyncio.Queue()
        self._finished = False
        #: How many times it subscribed again after losing its connection or being dropped.
        self.resumes = 0

    @property
    def last_seq(self) -> int:
        """The `seq` of the last event delivered (or where the stream started)."""
        return self._last_seq or 0

    @property
    def id(self) -> Optional[str]:
        """The current server-side subscription id (it changes with every resume)."""
        return self._server_id

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._finished and self._signals.empty():
                raise StopAsyncIteration
            kind, value = await self._signals.get()
            if kind == _EVENT:
                event = Event.from_wire(value)
                if self._last_seq is not None and event.seq <= self._last_seq:
                    continue
                self._last_seq = event.seq
                return event
            if kind == _ENDED and not self._finished:
                await self._subscribe(resuming=True)

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.cancel()

    async def cancel(self) -> None:
        """Stops the subscription: the server is told (when its connection is still up) and iteration ends."""
        if self._finished:
            return
        self._finish()
        router = self._docket._router
        router.forget(self)
        if self._server_id is not None and self._connection is not None and not self._connection.closed:
            router.remove(self._server_id)
            try:
                await self._connection.call("unsubscribe", {"subscription_id": self._server_id})
            except DocketError:
                pass  # the connection went meanwhile: the server ended the subscription with it

    def _signal(self, kind: str, value: Any = None) -> None:
        self._signals.put_nowait((kind, value))

    def _finish(self) -> None:
        self._finished = True
        self._signal(_CLOSED)

    async def _subscribe(self, resuming: bool) -> None:
        """Subscribes from the last delivered `seq`; when resuming, keeps trying through `UNAVAILABLE` until the
        client's `reconnect_timeout` has passed."""
        docket = self._docket
        backoff = Backoff(docket.backoff[0], docket.backoff[1], docket.reconnect_timeout)
        while not self._finished:
            try:
                await self._subscribe_once()
            except DocketError as error:
                if self._finished:
                    return
                if not resuming or error.code != ErrorCode.UNAVAILABLE or not await backoff.wait():
                    raise
                continue
            if resuming:
                self.resumes += 1
            return

    async def _subscribe_once(self) -> None:
        connection = await self._docket._connection(self._docket.reconnect_timeout)
        args: Dict[str, Any] = {"topics": self.topics}
        if self._last_seq is not None:
            args["from_seq"] = self._last_seq
        tenant = self.tenant_id or self._docket.tenant_id
        if tenant is not None:
            args["tenant_id"] = tenant

        def registered(data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("subscription_id"), str):
                raise DocketError(ErrorCode.INTERNAL, "subscribe answered without a subscription_id")
            self._server_id = data["subscription_id"]
            self._connection = connection
            if self._last_seq is None and isinstance(data.get("last_seq"), int):
                self._last_seq = data["last_seq"]
            self._docket._router.register(self._server_id, connection, self)

        await connection.call("subscribe", args, on_answer=registered)


class SubscriptionRouter(PushListener):
    """Routes every connection's pushes to their subscriptions and tells each one when its server-side subscription
    ends; closes them all when the client closes."""

    def __init__(self) -> None:
        self._routes: Dict[str, Tuple[Connection, Subscription]] = {}
        self._open: Set[Subscription] = set()

    def track(self, subscription: Subscription) -> None:
        self._open.add(subscription)

    def forget(self, subscription: Subscription) -> None:
        self._open.discard(subscription)

    def register(self, server_id: str, connection: Connection, subscription: Subscription) -> None:
        self._routes[server_id] = (connection, subscription)

    def remove(self, server_id: str) -> None:
        self._routes.pop(server_id, None)

    def pushed(self, connection: Connection, subscription: str, event: Any) -> None:
        route = self._routes.get(subscription)
        if route is not None and route[0] is connection:
            route[1]._signal(_EVENT, event)

    def dropped(self, connection: Connection, subscription: str, error: DocketError) -> None:
        route = self._routes.get(subscription)
        if route is not None and route[0] is connection:
            del self._routes[subscription]
            route[1]._signal(_ENDED, error)

    def ended(self, connection: Connection, error: DocketError) -> None:
        for server_id, (owner, subscription) in list(self._routes.items()):
            if owner is connection:
                del self._routes[server_id]
                subscription._signal(_ENDED, error)

    def close_all(self) -> None:
        for subscription in list(self._open):
            subscription._finish()
        self._open.clear()
        self._routes.clear()
