"""What the tests share: a real docketd on its embedded PostgreSQL, a test case that starts one per class, and
small async helpers.

`DOCKETD_BIN` names the server (default: the package's `.build/debug/docketd`), `DOCKET_BIN` the CLI (default:
beside docketd). Without `DOCKET_TEST_DATABASE_URL` docketd uses the embedded PostgreSQL of its data folder, which
it starts itself and stops when it exits as the folder's last user; `close()` makes sure of that (it runs
`docket db stop` when the folder's `postmaster.pid` is still there) and removes the folder. Should the test process
be killed before it can, a watchdog process (watchdog.py) does the same.
"""

import asyncio
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, List, Optional

from docket_client import Docket

REPO = Path(__file__).resolve().parents[3]
DOCKETD_BIN = os.environ.get("DOCKETD_BIN") or str(REPO / ".build" / "debug" / "docketd")
DOCKET_BIN = os.environ.get("DOCKET_BIN") or str(Path(DOCKETD_BIN).with_name("docket"))
DATABASE_URL = os.environ.get("DOCKET_TEST_DATABASE_URL") or None

#: Every scope a test's key needs: jobs, tasks, queues, budgets and the cluster.
SCOPES = "job:admin,task:admin,cluster:admin"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _child_environment() -> dict:
    """This process's environment without `DOCKET_*` settings, so only the flags given decide how docketd and the
    CLI run."""
    return {name: value for name, value in os.environ.items() if not name.startswith("DOCKET_")}


class DocketdServer:
    """One docketd process on fixed free ports and its own data folder; it can be stopped and started again on both."""

    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix="docket-py-test-")
        # The embedded PostgreSQL runs as the `postgres` user when we are root: it must be able to traverse here.
        os.chmod(self.root, 0o711)
        self.data_dir = os.path.join(self.root, "data")
        self.port = free_port()
        self.http_port = free_port()
        self.process: Optional[subprocess.Popen] = None
        self._reader: Optional[threading.Thread] = None
        self._watchdog: Optional[subprocess.Popen] = None
        self.output: List[str] = []
        self._listening = threading.Event()
        self._closed = False
        atexit.register(self.close)

    def _database_flags(self) -> List[str]:
        return ["--database-url", DATABASE_URL] if DATABASE_URL else []

    def start(self, timeout: float = 90.0) -> None:
        """Starts docketd and waits for its `docketd listening on` line."""
        self._listening.clear()
        self.process = subprocess.Popen(
            [DOCKETD_BIN, "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}",
             "--http", f"127.0.0.1:{self.http_port}", "--log-level", "warning", *self._database_flags()],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_child_environment())
        self._reader = threading.Thread(target=self._read_output, args=(self.process,), daemon=True)
        self._reader.start()
        self._watchdog = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("watchdog.py")), str(self.process.pid), self.root,
             self.data_dir, "" if DATABASE_URL else DOCKET_BIN],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        if not self._listening.wait(timeout):
            self.stop()
            raise RuntimeError("docketd did not start:\n" + "\n".join(self.output))
        if self.process.poll() is not None:
            raise RuntimeError("docketd exited at start:\n" + "\n".join(self.output))

    def _read_output(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.output.append(line)
            if line.startswith("docketd listening on "):
                self._listening.set()
        self._listening.set()  # it ended: wake start() to report it

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds; waits until it has exited."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(5)
        assert process.stdout is not None
        process.stdout.close()
        if self._watchdog is not None:  # it ends by itself once docketd is gone (reaped above)
            try:
                self._watchdog.wait(5)
            except subprocess.TimeoutExpired:
                self._watchdog.kill()
                self._watchdog.wait()

    def cli(self, *args: str) -> str:
        """Runs the `docket` CLI on this server's database and returns what it printed."""
        folder = [] if DATABASE_URL else ["--data-dir", self.data_dir]
        done = subprocess.run([DOCKET_BIN, *args, *folder, *self._database_flags()], capture_output=True,
                              env=_child_environment(), timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"docket {' '.join(args)} failed: {done.stdout!r} {done.stderr!r}")
        return done.stdout.decode()

    def create_key(self, tenant: str, actor: str = "app", scopes: str = SCOPES) -> str:
        """A new API key for `actor` in `tenant`; its token."""
        answer = json.loads(self.cli("keys", "create", "--actor", actor, "--tenant", tenant, "--scopes", scopes,
                                     "--json"))
        return answer["token"]

    def _postmaster_pid_file(self) -> Path:
        pointer = Path(self.data_dir, "postgres.location")
        root = Path(pointer.read_text().strip()) if pointer.exists() else Path(self.data_dir, "postgres")
        return root / "data" / "postmaster.pid"

    def close(self) -> None:
        """Stops docketd and the embedded PostgreSQL it started, and removes the data folder."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        if not DATABASE_URL and self._postmaster_pid_file().exists():
            try:
                self.cli("db", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                self._kill_postmaster()
        pointer = Path(self.data_dir, "postgres.location")
        if pointer.exists():
            shutil.rmtree(pointer.read_text().strip(), ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        """The last resort when `docket db stop` failed: the postmaster named by the pid file gets SIGKILL."""
        try:
            pid = int(self._postmaster_pid_file().read_text().split("\n", 1)[0])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


class DocketdTestCase(unittest.IsolatedAsyncioTestCase):
    """Starts one docketd for the class and a tenant key for it; each test gets a connected `self.docket`."""

    server: DocketdServer
    tenant: str
    token: str

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = DocketdServer()
        cls.addClassCleanup(cls.server.close)
        cls.server.start()
        cls.tenant = "t" + uuid.uuid4().hex[:12]
        cls.token = cls.server.create_key(cls.tenant)

    async def asyncSetUp(self) -> None:
        self.docket = await self.connect()

    async def asyncTearDown(self) -> None:
        await self.docket.close()

    async def connect(self, **options: Any) -> Docket:
        return await Docket.connect("127.0.0.1", self.server.port, self.token, **options)


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = 15.0, interval: float = 0.05,
                     what: str = "the condition") -> Any:
    """Awaits `probe()` until it gives a true value (returned), failing the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {value!r})")
        await asyncio.sleep(interval)


def unique(prefix: str) -> str:
    """A name no other test uses (kinds, queues), so tests sharing a server never take each other's jobs."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
