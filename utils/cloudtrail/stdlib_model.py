"""The event model over ``json.loads`` output: lazy, read-only views (stdlib only).

Why views and not copies: building objects for every declared field costs about as much as
``json.loads`` itself, while the resolver reads five fields of most events. A view checks the
few fields that decide whether a record is usable when it is built (``event_from_mapping``)
and every other field when it is read, where a value of the wrong type reads as ``None`` —
the same answer the fast path's typed decoder gives, since it hands every record it cannot
type to this module.
"""

from __future__ import annotations

import json
import marshal
from typing import Any, Final, cast

from .events import (
    REQUIRED_FIELDS,
    Addendum,
    Field,
    Model,
    TrailEvent,
    UserIdentity,
    fields_of,
)


class RecordError(ValueError):
    """A record cannot be used; the message names the field (never a value)."""


class View:
    """Base of the generated views: one slot holding the record's (sub-)dict."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data


def _scalar_reader(name: str, scalar: type) -> property:
    def read(self: View) -> Any:
        value = self._data.get(name)
        return value if type(value) is scalar else None

    return property(read, doc=f"``{name}`` ({scalar.__name__}), or None when absent or mistyped")


def _part_reader(name: str, view: type[View]) -> property:
    def read(self: View) -> Any:
        value = self._data.get(name)
        return view(value) if type(value) is dict else None

    return property(read, doc=f"``{name}`` as a view, or None when absent or not an object")


def _parts_reader(name: str, view: type[View]) -> property:
    def read(self: View) -> Any:
        value = self._data.get(name)
        if type(value) is not list:
            return None
        return [view(item) for item in value if type(item) is dict]

    return property(read, doc=f"``{name}`` as a list of views (objects only), or None")


def parts_from_json(text: bytes, part: type[Model]) -> list[Any] | None:
    """A JSON list of ``part`` as a view reads it: its objects, as views; None when it is
    not a list (or not JSON)."""
    try:
        value = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if type(value) is not list:
        return None
    view = view_class(part)
    return [view(item) for item in value if type(item) is dict]


def _install_readers(cls: type, fields: tuple[Field, ...]) -> None:
    for field in fields:
        if field.part is not None and field.many:
            setattr(cls, field.name, _parts_reader(field.name, view_class(field.part)))
        elif field.part is not None:
            setattr(cls, field.name, _part_reader(field.name, view_class(field.part)))
        elif field.scalar is not None:
            setattr(cls, field.name, _scalar_reader(field.name, field.scalar))


_VIEWS: dict[type[Model], type[View]] = {}


def view_class(part: type[Model]) -> type[View]:
    """The view class implementing the declaration ``part`` (built once)."""
    view = _VIEWS.get(part)
    if view is None:
        view = type(f"{part.__name__}View", (part, View), {"__slots__": ()})
        _install_readers(view, fields_of(part))
        _VIEWS[part] = view
    return view


class _UserIdentityView(UserIdentity, View):
    """The identity view; ``accessKeyId`` (read for every event) is resolved when built."""

    __slots__ = ("accessKeyId",)

    def __init__(self, data: dict[str, Any], access_key_id: str | None) -> None:
        self._data = data
        self.accessKeyId = access_key_id


_install_readers(
    _UserIdentityView,
    tuple(f for f in fields_of(UserIdentity) if f.name not in _UserIdentityView.__slots__),
)
_VIEWS[UserIdentity] = _UserIdentityView
_AddendumView: Final = view_class(Addendum)


class _EventView(TrailEvent, View):
    """The event view; the fields read for every event are resolved once, when built."""

    __slots__ = ("addendum", "eventID", "eventName", "eventSource", "eventTime", "userIdentity")

    def __init__(
        self,
        data: dict[str, Any],
        event_id: str,
        event_name: str,
        event_source: str,
        event_time: str,
        identity: UserIdentity | None,
        addendum: Addendum | None,
    ) -> None:
        self._data = data
        self.eventID = event_id
        self.eventName = event_name
        self.eventSource = event_source
        self.eventTime = event_time
        self.userIdentity = identity
        self.addendum = addendum


_install_readers(
    _EventView,
    tuple(f for f in fields_of(TrailEvent) if f.name not in _EventView.__slots__),
)
_VIEWS[TrailEvent] = _EventView


def event_from_mapping(record: object) -> TrailEvent:
    """The event of one decoded record, or ``RecordError`` naming what makes it unusable."""
    if type(record) is not dict:
        raise RecordError(f"is a JSON {_json_kind(record)}, not an object")
    get = record.get
    event_id = get("eventID")
    name = get("eventName")
    source = get("eventSource")
    time = get("eventTime")
    if type(event_id) is not str or type(name) is not str or type(source) is not str:
        raise RecordError(_required_problem(record))
    if type(time) is not str:
        raise RecordError(_required_problem(record))
    data = get("userIdentity")
    identity: UserIdentity | None = None
    if data is not None:
        if type(data) is not dict:
            raise RecordError(f"event {_shown(event_id)}: userIdentity is not an object")
        key = data.get("accessKeyId")
        identity = _UserIdentityView(data, key if type(key) is str else None)
    correction = get("addendum")
    addendum = cast(Addendum, _AddendumView(correction)) if type(correction) is dict else None
    return _EventView(record, event_id, name, source, time, identity, addendum)


def _required_problem(record: dict[str, Any]) -> str:
    event_id = record.get("eventID")
    where = f"event {_shown(event_id)}" if type(event_id) is str else "record"
    for name in REQUIRED_FIELDS:
        value = record.get(name)
        if value is None:
            return f"{where}: {name} is missing"
        if type(value) is not str:
            return f"{where}: {name} is a JSON {_json_kind(value)}, not a string"
    return f"{where}: unusable"  # pragma: no cover - callers only come here with a problem


def _shown(event_id: str) -> str:
    return repr(event_id[:64])


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def pack_held(event: TrailEvent) -> TrailEvent | bytes:
    """A held event as one ``marshal`` buffer, when it is a view (others are kept as is).

    A view keeps its record's whole ``json.loads`` tree alive: some seventy small dicts,
    lists and strings allocated among the other records of its trail file. Held for one
    file or an hour, they pin the allocator's pools all over the heap, and every later
    ``json.loads`` allocates into scattered holes: measured in one process, holding 5 % of
    records for two files and 1 % for an hour made ``json.loads`` 20-40 % slower, and
    freeing and collecting each file's objects slower still. One buffer (over 512 bytes:
    it lives outside those pools) pins nothing, and it holds only the declared fields, as a
    Struct does (about half a record's bytes: a churn-heavy trail holds thousands at once).
    ``marshal`` because it copies a JSON tree (dicts, lists, strings, numbers, booleans,
    None) in C at a third of ``json``'s cost;
    the buffer never leaves this process and is read back only by ``unpack_held``.
    Structs (the msgspec path) are kept as they are: packing them cost more than it saved.
    """
    if type(event) is _EventView:
        return marshal.dumps(_declared(event._data, _DECLARED_EVENT))
    return event


_Declared = dict[str, "_Declared | None"]


def _declared_names(part: type[Model]) -> _Declared:
    """Each declared field of ``part``: None for a scalar, its own names for a nested part."""
    return {f.name: None if f.part is None else _declared_names(f.part) for f in fields_of(part)}


def _declared(data: dict[str, Any], names: _Declared) -> dict[str, Any]:
    """``data`` less what the model does not declare (at every level): what a held event
    keeps, as the typed decoder keeps only declared fields. Undeclared values (request
    details, TLS details, resources) are most of a record's bytes."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in names:
            nested = names[key]
            if nested is not None and type(value) is dict:
                out[key] = _declared(value, nested)
            elif nested is not None and type(value) is list:  # a list of parts
                out[key] = [_declared(x, nested) if type(x) is dict else x for x in value]
            else:
                out[key] = value
    return out


_DECLARED_EVENT: Final = _declared_names(TrailEvent)


def unpack_held(item: TrailEvent | bytes) -> TrailEvent:
    """The event ``pack_held`` kept."""
    if type(item) is bytes:
        # Only buffers pack_held made in this process, never outside input.
        return event_from_mapping(marshal.loads(item))  # noqa: S302  # nosec B302
    return cast(TrailEvent, item)
