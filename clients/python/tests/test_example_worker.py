"""examples/python-worker/worker.py as a process: it says when it is ready, runs jobs of its kinds with the demo
output, checkpoints, and drains on SIGTERM."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
from typing import List, Optional

from docket_client import Job, JobStatus, run_now
from support import REPO, DocketdTestCase, eventually, unique

WORKER = REPO / "examples" / "python-worker" / "worker.py"


class ExampleProcess:
    """The example worker running as a child process, its output collected line by line."""

    def __init__(self, *args: str, token: str) -> None:
        environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
        environment["DOCKET_TOKEN"] = token  # the token from the environment, not the command line
        self.process = subprocess.Popen([sys.executable, str(WORKER), *args], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment)
        self.lines: List[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float = 30.0) -> Optional[str]:
        with self._changed:
            self._changed.wait_for(lambda: any(text in line for line in self.lines) or self.process.poll() is not None,
                                   timeout)
            return next((line for line in self.lines if text in line), None)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


class ExampleWorkerTests(DocketdTestCase):
    async def test_it_runs_its_kinds_and_drains_on_sigterm(self) -> None:
        name, first, second = unique("py"), unique("a"), unique("b")
        worker = ExampleProcess("--port", str(self.server.port), "--kinds", f"{first},{second}", "--name", name,
                                "--concurrency", "4", "--heartbeat", "1", "--lease", "10", token=self.token)
        self.addCleanup(worker.stop)
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, worker.wait_for_line, f"worker {name} ready")
        self.assertEqual(ready, f"worker {name} ready", "\n".join(worker.lines))

        jobs = [await self.docket.jobs.create("quick", kind=kind, args={"n": n, "sleep_ms": 50}, schedule=run_now())
                for n, kind in enumerate([first, second, first])]
        for n, (job, kind) in enumerate(zip(jobs, [first, second, first])):
            done = await self.finished(job)
            self.assertEqual((done.status, done.output), ("succeeded", {"worker": name, "runtime": "python",
                                                                         "kind": kind, "n": n}))

        long = await self.docket.jobs.create("long", kind=first, args={"n": 9, "sleep_ms": 2500}, schedule=run_now())

        async def checkpointed() -> bool:
            current = await self.docket.jobs.get(long.id)
            return current.claimed_by == name and (current.checkpoint_step or 0) >= 10

        await eventually(checkpointed, what="the long job running and checkpointing")
        code = await loop.run_in_executor(None, worker.stop)
        self.assertEqual(code, 0, "\n".join(worker.lines))
        drained = await self.docket.jobs.get(long.id)
        self.assertEqual((drained.status, drained.output["n"]), (JobStatus.SUCCEEDED, 9))
        self.assertIn(f"worker {name} stopped: completed 4, failed 0, cancelled 0, paused 0", worker.lines)

    async def finished(self, job: Job) -> Job:
        async def probe() -> Optional[Job]:
            current = await self.docket.jobs.get(job.id)
            return current if current.status in ("succeeded", "failed", "cancelled") else None
        return await eventually(probe, what=f"job {job.name} ending")
