"""CE's database as plugins reach it: ``DBConnector().collection(Collections.X).find(query)``.

CE keeps its state in MongoDB; a few official plugins query it directly (``logs_itsm`` pulls
CE's own log documents). The stand-in is an in-memory store per process with the query
operators those plugins use (``$and``, ``$or``, ``$in``, ``$gte``, ``$lte``, ``$gt``,
``$lt``, ``$eq``, ``$ne``, plain equality), so such plugins run unmodified.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from typing import Any, ClassVar


class Collections(str, Enum):  # noqa: UP042 - CE's enums are (str, Enum), not StrEnum
    """Collection names plugins refer to."""

    LOGS = "logs"
    NOTIFICATIONS = "notifications"
    ITSM_ALERTS = "itsm_alerts"
    ITSM_TASKS = "itsm_tasks"
    ITSM_CONFIGURATIONS = "itsm_configurations"


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda v, x: v == x,
    "$ne": lambda v, x: v != x,
    "$in": lambda v, x: v in x,
    "$nin": lambda v, x: v not in x,
    "$gte": lambda v, x: v is not None and v >= x,
    "$gt": lambda v, x: v is not None and v > x,
    "$lte": lambda v, x: v is not None and v <= x,
    "$lt": lambda v, x: v is not None and v < x,
}


def matches(document: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    """Whether ``document`` satisfies a MongoDB-style ``query`` (the subset above)."""
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(document, part) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(document, part) for part in condition):
                return False
        elif (
            isinstance(condition, Mapping)
            and condition
            and all(str(op).startswith("$") for op in condition)
        ):
            value = document.get(key)
            for op, operand in condition.items():
                test = _COMPARE.get(op)
                if test is None:
                    raise ValueError(f"query operator {op} is not supported by the stand-in")
                if not test(value, operand):
                    return False
        elif document.get(key) != condition:
            return False
    return True


class Collection:
    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def insert_one(self, document: Mapping[str, Any]) -> str:
        stored = dict(document)
        stored.setdefault("_id", f"{next(self._ids):024x}")
        self.documents.append(stored)
        return str(stored["_id"])

    def find(self, query: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        return (dict(d) for d in self.documents if matches(d, query or {}))

    def find_one(self, query: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        return next(self.find(query), None)

    def delete_many(self, query: Mapping[str, Any] | None = None) -> int:
        before = len(self.documents)
        self.documents = [d for d in self.documents if not matches(d, query or {})]
        return before - len(self.documents)


class DBConnector:
    """All connectors of a process share one database, as CE's do."""

    _collections: ClassVar[dict[str, Collection]] = {}

    def collection(self, name: str | Collections) -> Collection:
        key = name.value if isinstance(name, Collections) else str(name)
        return self._collections.setdefault(key, Collection())

    @classmethod
    def reset(cls) -> None:
        cls._collections.clear()
