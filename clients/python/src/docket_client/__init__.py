"""docket_client: an asyncio client for Docket's docketd, and a worker runtime (`docket_client.worker`).

    from docket_client import Docket, DocketError, ErrorCode, run_now

    async with await Docket.connect("127.0.0.1", 7420, token) as docket:
        job = await docket.jobs.create("report", kind="email", args={"to": "ops"}, schedule=run_now())
        async for event in await docket.subscribe(["job.*"]):
            ...

Pure standard library; Python 3.9 or newer.
"""

from .client import Docket
from .connection import Connection
from .errors import DocketError, ErrorCode
from .models import (Actor, Budget, ClusterStatus, Dependency, DependencyCheck, Event, EventPage, Heartbeat,
                     Instance, Job, JobStatus, Leader, LinkedTask, Model, Page, Queue, QueueCounts, RateLimit, Run,
                     ServerInfo, Sweep, TaskStatus, ThisInstance, WorkTask)
from .operations import UNSET
from .schedules import cron, interval, once, run_now
from .subscription import Subscription
from .values import format_time, parse_time

__version__ = "0.1.0"

__all__ = [
    "Actor", "Budget", "ClusterStatus", "Connection", "Dependency", "DependencyCheck", "Docket", "DocketError",
    "ErrorCode", "Event", "EventPage", "Heartbeat", "Instance", "Job", "JobStatus", "Leader", "LinkedTask", "Model",
    "Page", "Queue", "QueueCounts", "RateLimit", "Run", "ServerInfo", "Subscription", "Sweep", "TaskStatus",
    "ThisInstance", "UNSET", "WorkTask", "cron", "format_time", "interval", "once", "parse_time", "run_now",
]
