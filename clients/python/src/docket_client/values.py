"""The wire forms of Docket's values and their Python forms.

Times are RFC 3339 strings (UTC with microseconds on output; any offset on input) and become aware `datetime`s;
money is a decimal string and becomes `decimal.Decimal` (never a float, which would round it); ids stay strings or
become `uuid.UUID`. `encode_line` is the one place a request is turned into bytes, so every value a caller passes
(a `Decimal`, a `datetime`, a `UUID`, a model) is written in its wire form wherever it sits in the arguments.
"""

import json
import re
from dataclasses import fields, is_dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Optional, Type, TypeVar, Union
from uuid import UUID

Money = Union[Decimal, str, int, float]
Id = Union[str, UUID]

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$")


def parse_time(text: str) -> datetime:
    """Reads an RFC 3339 time (`2026-11-23T08:36:07.340203Z`, or with an offset) as an aware UTC `datetime`.

    Written by hand because `datetime.fromisoformat` of Python 3.9 and 3.10 refuses `Z` and fractions that are not
    3 or 6 digits long.
    """
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_hours, off_minutes = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    zone = timezone.utc
    if not zulu:
        offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
        zone = timezone(-offset if sign == "-" else offset)
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone)
    return moment.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """Writes a `datetime` as docketd writes times: UTC, microseconds, `Z`. A naive `datetime` is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{moment.microsecond:06d}Z")


def now() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(timezone.utc)


def parse_money(value: Any) -> Decimal:
    """Reads a money value (a decimal string on the wire) exactly."""
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None


def money_arg(value: Optional[Money]) -> Optional[str]:
    """The wire form of a money argument: a plain decimal string (`Decimal("1E+1")` is sent as `"10"`).

    A float is converted through its shortest repr (`1.1` → `"1.1"`), so what was typed is what is sent.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("money must be a Decimal, int, float or decimal string, not bool")
    amount = value if isinstance(value, Decimal) else parse_money(value)
    if not amount.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    return format(amount, "f")


E = TypeVar("E", bound=Enum)


def enum_or_text(kind: Type[E]):
    """A reader that gives the `kind` member for a known value and keeps an unknown (newer) value as its string."""
    def read(value: Any) -> Union[E, str]:
        try:
            return kind(value)
        except ValueError:
            return value
    return read


def _wire_default(value: Any) -> Any:
    """`json.dumps`'s fallback: the wire form of the Python values the client accepts."""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Decimal):
        return money_arg(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and hasattr(value, "to_wire"):
        return value.to_wire()
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def encode_line(message: Any) -> bytes:
    """One request line: compact JSON text in UTF-8 ending in a newline (NaN and infinities are refused)."""
    return (json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                       default=_wire_default) + "\n").encode("utf-8")


def model_to_wire(model: Any) -> Any:
    """A model's fields (and the unknown ones it kept) as a JSON object, for `to_wire` of a dataclass model."""
    out = dict(getattr(model, "extra", {}) or {})
    for item in fields(model):
        if item.name != "extra":
            out[item.name] = getattr(model, item.name)
    return out
