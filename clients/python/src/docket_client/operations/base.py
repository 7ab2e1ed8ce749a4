"""What the typed operation namespaces share: building arguments and sending them.

Python keyword names are the wire's argument names, so a typed method's keywords go to the wire as they are. Left at
None, an argument is not sent and the server's default applies; update methods use `UNSET` instead, so that None
can mean "clear this field" (sent as JSON null).
"""

from typing import TYPE_CHECKING, Any, Dict, Optional

from ..values import money_arg

if TYPE_CHECKING:
    from ..client import Docket

#: The arguments that are money, sent as decimal strings whatever numeric type the caller passed (`budget.set`'s
#: `limit` is converted by its method: elsewhere `limit` is a page size).
MONEY_FIELDS = frozenset({"estimated_cost", "actual_cost"})


class _Unset:
    """The default of an update method's fields: leave the field as it is."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _wire_value(name: str, value: Any) -> Any:
    return money_arg(value) if name in MONEY_FIELDS and value is not None else value


def present(**fields: Any) -> Dict[str, Any]:
    """The fields that are not None, in wire form."""
    return {name: _wire_value(name, value) for name, value in fields.items() if value is not None}


def changes(**fields: Any) -> Dict[str, Any]:
    """The fields that are not `UNSET`, in wire form (None is kept: it clears the field)."""
    return {name: _wire_value(name, value) for name, value in fields.items() if value is not UNSET}


class Namespace:
    """A group of typed operations bound to one client."""

    def __init__(self, docket: "Docket") -> None:
        self._docket = docket

    async def _send(self, op: str, args: Dict[str, Any], tenant_id: Optional[str] = None) -> Any:
        """Sends `op` with `args` and the tenant (the one named, else the client's default)."""
        return await self._docket.call(op, self._docket._scoped(args, tenant_id))
