"""`Docket`: the typed asyncio client, with a connection that comes back by itself.

A call that finds the connection gone reconnects first (backoff with jitter, for up to `reconnect_timeout` seconds)
and authenticates again with the same key. A call whose connection dropped while it was in flight fails with
`UNAVAILABLE` and is not resent: whether docketd applied it is unknown, so the caller decides (an `idempotency_key`
makes a create safe to send again). Subscriptions resume by themselves (see `subscription`).
"""

import asyncio
from typing import Any, Dict, Optional, Sequence, Tuple

from .backoff import Backoff
from .connection import Connection
from .errors import DocketError, ErrorCode
from .models import Actor, EventPage, ServerInfo
from .operations.admin import Admin
from .operations.jobs import Jobs
from .operations.queues import Queues
from .operations.tasks import Tasks
from .subscription import Subscription, SubscriptionRouter


class Docket:
    """A client of one docketd. Make one with `await Docket.connect(...)`; use it as `async with` or `close()` it.

    The namespaces hold one typed method per operation: `jobs` (`job.*`), `tasks` (`task.*`), `queues`
    (`queue.*`) and `admin` (`budget.*`, `cluster.status`); `hello`, `ping`, `whoami` (`auth`), `events`
    (`events.list`) and `subscribe` are methods of the client itself, and `call` sends any operation untyped.

    `tenant_id` is sent with every tenant-scoped typed call that names none: a system actor (the admin key) must
    name a tenant, a tenant's own key may leave it out.
    """

    def __init__(self, host: str, port: int, token: Optional[str], *, tenant_id: Optional[str],
                 connect_timeout: float, reconnect_timeout: float, backoff: Tuple[float, float]) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.tenant_id = tenant_id
        self.connect_timeout = connect_timeout
        self.reconnect_timeout = reconnect_timeout
        self.backoff = backoff
        self.jobs = Jobs(self)
        self.tasks = Tasks(self)
        self.queues = Queues(self)
        self.admin = Admin(self)
        self._router = SubscriptionRouter()
        self._current: Optional[Connection] = None
        self._connect_lock = asyncio.Lock()
        self._closed = False
        self._connects = 0

    @classmethod
    async def connect(cls, host: str = "127.0.0.1", port: int = 7420, token: Optional[str] = None, *,
                      tenant_id: Optional[str] = None, reconnect_timeout: float = 30.0, connect_timeout: float = 5.0,
                      backoff: Tuple[float, float] = (0.05, 2.0)) -> "Docket":
        """Connects (and authenticates when `token` is given); fails at once when that first attempt does.

        `backoff` is the first and the longest pause between two connection attempts (doubling, with jitter).
        Without a token only `hello` and `ping` work.
        """
        docket = cls(host, port, token, tenant_id=tenant_id, connect_timeout=connect_timeout,
                     reconnect_timeout=reconnect_timeout, backoff=backoff)
        await docket._connection(0.0)
        return docket

    @property
    def connection_count(self) -> int:
        """How many connections this client has made; more than one means it reconnected."""
        return self._connects

    async def call(self, op: str, args: Optional[Dict[str, Any]] = None) -> Any:
        """Sends one operation as given, on the live connection (reconnecting first when there is none), and returns
        its answer's `data`: the untyped form every typed method uses."""
        connection = await self._connection(self.reconnect_timeout)
        return await connection.call(op, args)

    async def close(self) -> None:
        """Ends the connection: later calls fail with `UNAVAILABLE`, subscriptions end their iteration."""
        self._closed = True
        self._router.close_all()
        connection, self._current = self._current, None
        if connection is not None:
            await connection.close()

    async def __aenter__(self) -> "Docket":
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.close()

    async def hello(self) -> ServerInfo:
        """Who the server is (`hello`)."""
        return ServerInfo.from_wire(await self.call("hello"))

    async def ping(self) -> str:
        """The id of the instance that answered (`ping`)."""
        answer = await self.call("ping")
        return str(answer.get("instance_id", "")) if isinstance(answer, dict) else ""

    async def whoami(self) -> Actor:
        """Who this client acts as (`auth` with its key once more; the client authenticates by itself)."""
        if self.token is None:
            raise DocketError(ErrorCode.UNAUTHENTICATED, "the client has no API key")
        answer = await self.call("auth", {"token": self.token})
        return Actor.from_wire(answer.get("actor") if isinstance(answer, dict) else None)

    async def events(self, after_seq: int = 0, *, topics: Optional[Sequence[str]] = None, limit: Optional[int] = None,
                     tenant_id: Optional[str] = None) -> EventPage:
        """Stored events after `after_seq`, oldest first (`events.list`); page on with `next_after_seq`."""
        args: Dict[str, Any] = {"after_seq": after_seq}
        if topics is not None:
            args["topics"] = list(topics)
        if limit is not None:
            args["limit"] = limit
        return EventPage.from_wire(await self.call("events.list", self._scoped(args, tenant_id)))

    async def subscribe(self, topics: Sequence[str], after_seq: Optional[int] = None,
                        tenant_id: Optional[str] = None) -> Subscription:
        """Subscribes to events of these topics (`job.*`, `task.completed`, `*`, …) and returns the subscription to
        iterate. With `after_seq`, the stored events after that `seq` come first; without, the live ones from now.
        Raises at once when the server refuses it (or cannot be reached within `reconnect_timeout`)."""
        if isinstance(topics, str):
            topics = [topics]
        subscription = Subscription(self, topics, tenant_id, after_seq)
        self._router.track(subscription)
        try:
            await subscription._subscribe(resuming=False)
        except BaseException:
            self._router.forget(subscription)
            raise
        return subscription

    def _scoped(self, args: Dict[str, Any], tenant_id: Optional[str]) -> Dict[str, Any]:
        """`args` with the tenant: the one named, else the client's default, else none."""
        tenant = tenant_id if tenant_id is not None else self.tenant_id
        if tenant is not None:
            args["tenant_id"] = tenant
        return args

    async def _connection(self, waiting: float) -> Connection:
        """The live connection, made anew when the last one ended; tries until `waiting` seconds have passed."""
        backoff = Backoff(self.backoff[0], self.backoff[1], waiting)
        while True:
            if self._closed:
                raise DocketError(ErrorCode.UNAVAILABLE, "the client is closed")
            current = self._current
            if current is not None and not current.closed:
                return current
            async with self._connect_lock:
                current = self._current
                if current is not None and not current.closed:
                    return current  # another call reconnected while this one waited for the lock
                try:
                    fresh = await Connection.open(self.host, self.port, token=self.token,
                                                  connect_timeout=self.connect_timeout, listener=self._router)
                except DocketError as error:
                    if error.code != ErrorCode.UNAVAILABLE:
                        raise
                    failure = error
                else:
                    if self._closed:
                        await fresh.close()
                        raise DocketError(ErrorCode.UNAVAILABLE, "the client is closed")
                    self._current = fresh
                    self._connects += 1
                    return fresh
            if not await backoff.wait():
                raise failure
