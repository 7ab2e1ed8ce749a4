"""The worker runtime: `Worker` runs claimed jobs with `async` handlers registered by kind.

    from docket_client.worker import JobFailure, Worker

    async def resize(context):
        if "url" not in context.args:
            raise JobFailure("BAD_INPUT", "no url")
        return {"done": context.args["url"]}

    worker = Worker(docket, {"resize": resize}, concurrency=4, install_signal_handlers=True)
    await worker.run()
"""

from .context import JobContext, JobFailure, JobResult, StopReason
from .execute import HANDLER_ERROR, UNKNOWN_KIND, WORKER_SHUTDOWN, Handler, Outcome
from .runtime import WAKE_TOPICS, Worker, WorkerStatistics

__all__ = [
    "HANDLER_ERROR", "UNKNOWN_KIND", "WAKE_TOPICS", "WORKER_SHUTDOWN", "Handler", "JobContext", "JobFailure",
    "JobResult", "Outcome", "StopReason", "Worker", "WorkerStatistics",
]
