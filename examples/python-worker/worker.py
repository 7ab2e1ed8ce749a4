#!/usr/bin/env python3
"""A Docket worker in Python: demonstration handlers by kind, run until SIGTERM or Ctrl-C (which let running jobs
finish first).

    python3 examples/python-worker/worker.py --port 7420 --token dk_… --kinds hello,report

Options: --host (default 127.0.0.1), --port (default 7420), --token (else env DOCKET_TOKEN, else the admin key in
.docket/admin.key, or in $DOCKET_DATA_DIR), --tenant (needed with the admin key), --kinds a,b (default hello), --name,
--concurrency, --heartbeat seconds, --lease seconds. Every handler
does the same work: it sleeps `args.sleep_ms` in 10 ms steps from its last checkpoint, saving a checkpoint every 10
steps (and when it is stopped), and answers {worker, runtime, kind, n}.

`docket_client` comes from the installed package (`pip install ./clients/python`), else from this checkout.
"""

import argparse
import asyncio
import logging
import os
import sys

try:
    import docket_client
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python", "src"))
    import docket_client

from docket_client.worker import JobContext, Worker

STEP_SECONDS = 0.01


def demo(kind: str, name: str):
    """The demonstration handler for `kind`."""
    async def handle(context: JobContext):
        steps = int(context.args.get("sleep_ms", 0)) // 10
        step = context.checkpoint_step or 0
        try:
            while step < steps:
                await asyncio.sleep(STEP_SECONDS)
                step += 1
                if step % 10 == 0:
                    await context.checkpoint(step, {"step": step})
        except asyncio.CancelledError:
            # Stopped (a graceful cancel or pause, or the shutdown deadline): save where it got to.
            await context.checkpoint(step, {"step": step})
            raise
        return {"worker": name, "runtime": "python", "kind": kind, "n": context.args.get("n")}
    return handle


def admin_key():
    """The bootstrap admin key docketd saved in its data folder (a system key: pass --tenant with it), if any."""
    path = os.path.join(os.environ.get("DOCKET_DATA_DIR", ".docket"), "admin.key")
    try:
        with open(path) as key:
            return key.read().strip() or None
    except OSError:
        return None


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A Docket worker running demonstration handlers.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7420)
    parser.add_argument("--token", default=os.environ.get("DOCKET_TOKEN") or admin_key(),
                        help="API key (default: env DOCKET_TOKEN, else the data folder's admin.key)")
    parser.add_argument("--tenant", help="the tenant to work for (needed with a system key)")
    parser.add_argument("--kinds", default="hello", help="comma-separated kinds to take")
    parser.add_argument("--name", default=f"python-{os.getpid()}", help="the agent name claims carry")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats")
    parser.add_argument("--lease", type=int, default=60, help="lease seconds per claim and heartbeat")
    options = parser.parse_args()
    if not options.token:
        parser.error("no API key: pass --token, set DOCKET_TOKEN, or run where .docket/admin.key exists")
    return options


async def main() -> int:
    options = arguments()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    kinds = [kind for kind in options.kinds.split(",") if kind]
    try:
        docket = await docket_client.Docket.connect(options.host, options.port, options.token, tenant_id=options.tenant)
    except docket_client.DocketError as error:
        print(f"worker: {error}", file=sys.stderr)
        return 1
    worker = Worker(docket, {kind: demo(kind, options.name) for kind in kinds}, concurrency=options.concurrency,
                    heartbeat_interval=options.heartbeat, lease_seconds=options.lease, agent=options.name,
                    tenant_id=options.tenant, install_signal_handlers=True,
                    on_ready=lambda: print(f"worker {options.name} ready", flush=True))
    try:
        await worker.run()
    finally:
        await docket.close()
    counts = worker.statistics
    print(f"worker {options.name} stopped: completed {counts.completed}, failed {counts.failed}, "
          f"cancelled {counts.cancelled}, paused {counts.paused}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
