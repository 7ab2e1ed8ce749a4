"""Stops a test's docketd, and the embedded PostgreSQL it started, when the test process dies without doing so (it
was killed): `support.DocketdServer` starts one beside each docketd. It exits by itself once that docketd is gone.

usage: watchdog.py DOCKETD_PID ROOT DATA_DIR DOCKET_BIN   (DOCKET_BIN empty: docketd uses an external database)
"""

import os
import shutil
import signal
import subprocess
import sys
import time


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(pid: int, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def main() -> None:
    docketd, root, data_dir, docket_bin = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    test_process = os.getppid()
    while alive(docketd):
        if os.getppid() != test_process:  # the test process is gone: this process was handed to another parent
            stop(docketd)
            if docket_bin and os.path.exists(os.path.join(data_dir, "postgres", "data", "postmaster.pid")):
                subprocess.run([docket_bin, "db", "stop", "--data-dir", data_dir], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            shutil.rmtree(root, ignore_errors=True)
            return
        time.sleep(0.5)


if __name__ == "__main__":
    main()
