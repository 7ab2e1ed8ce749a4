"""Schedule objects for `jobs.create(schedule=...)` and `jobs.schedule` (docs/protocol.md, "Schedules").

Each returns the plain JSON object the protocol takes, so it can be inspected, stored or changed before sending.
`run_now()` is the common case: a job a worker may take as soon as it is created.
"""

from datetime import datetime
from typing import Any, Dict, Optional

from .values import format_time, now


def _common(schedule: Dict[str, Any], end_at: Optional[datetime], max_runs: Optional[int],
            misfire: Optional[str]) -> Dict[str, Any]:
    if end_at is not None:
        schedule["end_at"] = format_time(end_at)
    if max_runs is not None:
        schedule["max_runs"] = max_runs
    if misfire is not None:
        schedule["misfire"] = misfire
    return schedule


def run_now() -> Dict[str, Any]:
    """Once, due now: `{"kind": "once", "run_at": <now>}`."""
    return once(now())


def once(run_at: datetime, *, misfire: Optional[str] = None) -> Dict[str, Any]:
    """Once, at `run_at` (a naive `datetime` is taken as UTC)."""
    return _common({"kind": "once", "run_at": format_time(run_at)}, None, None, misfire)


def interval(every_seconds: int, *, start_at: Optional[datetime] = None, end_at: Optional[datetime] = None,
             max_runs: Optional[int] = None, misfire: Optional[str] = None) -> Dict[str, Any]:
    """Every `every_seconds`, from `start_at` (default: now)."""
    schedule: Dict[str, Any] = {"kind": "interval", "every_seconds": every_seconds}
    if start_at is not None:
        schedule["start_at"] = format_time(start_at)
    return _common(schedule, end_at, max_runs, misfire)


def cron(expression: str, *, timezone: str = "UTC", end_at: Optional[datetime] = None,
         max_runs: Optional[int] = None, misfire: Optional[str] = None) -> Dict[str, Any]:
    """At the times a five-field cron `expression` names, in `timezone` (`UTC` or an IANA `Area/Location`)."""
    return _common({"kind": "cron", "expression": expression, "timezone": timezone}, end_at, max_runs, misfire)
