"""The one error type of the client: what docketd refused, or why it could not be asked.

Every failure a call can meet, whether the server answered `ok: false` or the connection could not carry the
request, is a `DocketError` with the protocol's code string, so callers branch on `.code` alone.
"""

from enum import Enum
from typing import Any, Dict, Mapping, Optional


class ErrorCode(str, Enum):
    """The error codes docs/protocol.md documents. Members compare equal to their strings."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    JOB_NOT_FOUND = "JOB_NOT_FOUND"
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    DEPENDENCY_ERROR = "DEPENDENCY_ERROR"
    CIRCULAR_DEPENDENCY = "CIRCULAR_DEPENDENCY"
    SUBTASK_ERROR = "SUBTASK_ERROR"
    CONCURRENCY_ERROR = "CONCURRENCY_ERROR"
    SCHEDULE_ERROR = "SCHEDULE_ERROR"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    BAD_REQUEST = "BAD_REQUEST"
    UNKNOWN_OP = "UNKNOWN_OP"
    LINE_TOO_LONG = "LINE_TOO_LONG"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class DocketError(Exception):
    """A refused or failed call.

    `code` is the protocol's code as a plain string (compare it with `ErrorCode` members or literals; a code this
    version does not know is kept as sent), `message` the server's text, `details` its structured details
    (`field`, `path`, `index`, …; empty when none were sent).
    """

    def __init__(self, code: str, message: str, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(code, message, details)
        self.code: str = code.value if isinstance(code, ErrorCode) else str(code)
        self.message = message
        self.details: Dict[str, Any] = dict(details or {})

    @classmethod
    def from_wire(cls, error: Any) -> "DocketError":
        """Builds the error from an answer's `error` member, tolerating a malformed one."""
        if not isinstance(error, dict):
            return cls(ErrorCode.INTERNAL, "docketd answered ok: false without an error object")
        details = error.get("details")
        return cls(str(error.get("code") or ErrorCode.INTERNAL.value), str(error.get("message") or ""),
                   details if isinstance(details, dict) else None)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"DocketError({self.code!r}, {self.message!r}, {self.details!r})"
