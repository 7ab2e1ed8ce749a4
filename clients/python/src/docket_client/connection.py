"""One TCP connection to docketd speaking the line protocol (docs/protocol.md, "Framing").

Any number of calls may be in flight at once: each request line carries a fresh integer id and its answer, which may
come in any order, resolves the call with that id. Lines the server pushes (subscription events, a `dropped` notice)
go to a listener. When the connection ends, every call still waiting fails with `UNAVAILABLE`: whether the server
applied it is unknown, so it is never resent here.
"""

import asyncio
import json
from typing import Any, Callable, Dict, Optional, Tuple

from .errors import DocketError, ErrorCode
from .values import encode_line

#: The longest request line docketd reads by default (`max-line-bytes`); a longer one could never be matched to its
#: answer (the server cannot read its id), so it is refused before sending.
MAX_LINE_BYTES = 1 << 20

#: The longest answer line this client reads.
MAX_ANSWER_BYTES = 64 << 20

#: Called with a successful answer's data by the reader itself, before it reads the next line.
AnswerHook = Callable[[Any], None]


class PushListener:
    """Receives what a connection is sent without asking, and its end. The methods run in the connection's reader,
    in arrival order, and must not block."""

    def pushed(self, connection: "Connection", subscription: str, event: Any) -> None:
        """An event envelope for the server-side subscription `subscription`."""

    def dropped(self, connection: "Connection", subscription: str, error: DocketError) -> None:
        """The server ended that subscription (it fell behind: `details.last_seq` is where to resume)."""

    def ended(self, connection: "Connection", error: DocketError) -> None:
        """The connection is gone; nothing more will arrive on it."""


class Connection:
    """A connected (and, given a token, authenticated) protocol connection. Make one with `Connection.open`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 listener: Optional[PushListener]) -> None:
        self._reader = reader
        self._writer = writer
        self._listener = listener
        self._pending: Dict[int, Tuple["asyncio.Future[Any]", Optional[AnswerHook]]] = {}
        self._last_id = 0
        self._ended: Optional[DocketError] = None
        # Python 3.9's StreamWriter.drain cannot be awaited by two tasks at once while the transport is paused.
        self._drain_lock = asyncio.Lock()
        self._read_task = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def open(cls, host: str, port: int, *, token: Optional[str] = None, connect_timeout: float = 5.0,
                   listener: Optional[PushListener] = None) -> "Connection":
        """Connects and, when `token` is given, authenticates; `UNAVAILABLE` when docketd cannot be reached."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=MAX_ANSWER_BYTES), connect_timeout)
        except (OSError, asyncio.TimeoutError) as error:
            reason = str(error) or "timed out"
            raise DocketError(ErrorCode.UNAVAILABLE, f"cannot connect to docketd at {host}:{port}: {reason}") from None
        connection = cls(reader, writer, listener)
        if token is not None:
            try:
                await connection.call("auth", {"token": token})
            except BaseException:
                await connection.close()
                raise
        return connection

    @property
    def closed(self) -> bool:
        """Whether the connection has ended (every call on it now fails with `UNAVAILABLE`)."""
        return self._ended is not None

    async def call(self, op: str, args: Optional[Dict[str, Any]] = None,
                   on_answer: Optional[AnswerHook] = None) -> Any:
        """Sends one request and returns its answer's `data`, or raises the server's `DocketError`.

        `on_answer` runs with the data as soon as the answer is read, before any later line is handled: `subscribe`
        registers its subscription there, so no event pushed right after the answer can pass it by.
        """
        if self._ended is not None:
            raise DocketError(ErrorCode.UNAVAILABLE, self._ended.message)
        self._last_id += 1
        ident = self._last_id
        message: Dict[str, Any] = {"id": ident, "op": op}
        if args is not None:
            message["args"] = args
        try:
            line = encode_line(message)
        except (TypeError, ValueError) as error:
            raise DocketError(ErrorCode.VALIDATION_ERROR, f"the arguments of {op} are not JSON: {error}") from None
        if len(line) > MAX_LINE_BYTES + 1:
            raise DocketError(ErrorCode.LINE_TOO_LONG,
                              f"the request is {len(line)} bytes; docketd reads lines of at most {MAX_LINE_BYTES}")
        future = asyncio.get_running_loop().create_future()
        self._pending[ident] = (future, on_answer)
        try:
            self._writer.write(line)
            async with self._drain_lock:
                await self._writer.drain()
            return await future
        except (OSError, RuntimeError) as error:
            raise DocketError(ErrorCode.UNAVAILABLE, f"cannot send to docketd: {error}") from None
        finally:
            self._pending.pop(ident, None)

    async def close(self) -> None:
        """Ends the connection; calls in flight fail with `UNAVAILABLE`."""
        self._end(DocketError(ErrorCode.UNAVAILABLE, "the connection to docketd was closed by the client"))
        self._writer.close()
        self._read_task.cancel()
        try:
            await self._read_task
        except asyncio.CancelledError:
            pass
        try:
            await self._writer.wait_closed()
        except OSError:
            pass

    async def _read_loop(self) -> None:
        ending = DocketError(ErrorCode.UNAVAILABLE, "the connection to docketd closed")
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                self._receive(line)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            ending = DocketError(ErrorCode.UNAVAILABLE, f"the connection to docketd failed: {error}")
        finally:
            self._end(ending)
            self._writer.close()

    def _receive(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if "event" in message:
            if self._listener is not None:
                self._listener.pushed(self, str(message.get("subscription")), message["event"])
            return
        if message.get("dropped") is True:
            if self._listener is not None:
                error = DocketError.from_wire(message.get("error"))
                self._listener.dropped(self, str(message.get("subscription")), error)
            return
        ident = message.get("id")
        entry = self._pending.get(ident) if type(ident) is int else None
        if entry is None:
            return
        future, on_answer = entry
        if future.done():
            return
        if message.get("ok") is not True:
            future.set_exception(DocketError.from_wire(message.get("error")))
            return
        data = message.get("data")
        if on_answer is not None:
            try:
                on_answer(data)
            except DocketError as error:
                future.set_exception(error)
                return
        future.set_result(data)

    def _end(self, error: DocketError) -> None:
        """Fails every waiting call and tells the listener, once."""
        if self._ended is not None:
            return
        self._ended = error
        in_flight = DocketError(ErrorCode.UNAVAILABLE, f"{error.message} while the call was in flight; "
                                "it was not resent (whether docketd applied it is unknown)")
        for future, _ in list(self._pending.values()):
            if not future.done():
                future.set_exception(in_flight)
        if self._listener is not None:
            self._listener.ended(self, error)
