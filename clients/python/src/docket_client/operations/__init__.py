"""The typed operations, one namespace per family: `jobs`, `tasks`, `queues`, `admin`."""

from .base import UNSET

__all__ = ["UNSET"]
