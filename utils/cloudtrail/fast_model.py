"""The event model as ``msgspec`` Structs (optional fast path).

Each Struct is derived from its declaration in ``events`` and subclasses it, so a decoded
Struct *is* a ``TrailEvent`` (``isinstance`` holds, type hints apply) with no per-record
Python copy: msgspec decodes the declared fields in C and skips the rest. A record the typed
decoder rejects goes to the stdlib view instead (``decode``), so both paths agree.

``STRUCTS`` is None when msgspec is absent or disabled (``AWS_RSI_FASTPATH=0``).
"""

from __future__ import annotations

from types import GenericAlias, ModuleType
from typing import Any, Final

from ..fastpath import import_optional
from .events import Model, TrailEvent, fields_of
from .stdlib_model import parts_from_json


class FastDecoders:
    """The typed msgspec decoders the fast path uses (built once per process)."""

    def __init__(self, msgspec: ModuleType) -> None:
        self.msgspec = msgspec
        self._structs: dict[type[Model], Any] = {}
        self._lazy: dict[Any, tuple[str, ...]] = {}  # Struct class → its raw JSON fields
        self.errors: tuple[type[Exception], ...] = (msgspec.ValidationError, msgspec.DecodeError)
        event = self.struct_for(TrailEvent)
        events = GenericAlias(list, (event,))
        raws = GenericAlias(list, (msgspec.Raw,))
        defstruct = msgspec.defstruct
        trail_file = defstruct("TrailFile", [("Records", events)], gc=False)
        raw_file = defstruct("RawTrailFile", [("Records", raws)], gc=False)
        # What makes a document not typed here: its own errors, or nesting past the
        # interpreter's recursion limit (msgspec recurses per level, skipped fields too).
        self.untyped: tuple[type[Exception], ...] = (*self.errors, RecursionError)
        self.event = msgspec.json.Decoder(event)
        self.file = msgspec.json.Decoder(trail_file)
        self.array = msgspec.json.Decoder(events)
        self.raw_file = msgspec.json.Decoder(raw_file)
        self.raw_array = msgspec.json.Decoder(raws)

    def struct_for(self, part: type[Model]) -> Any:
        """The Struct class implementing the declaration ``part``.

        A list of parts (``resources``) is kept as the raw JSON of the list and decoded when
        read (a property of the same name): most events' resources are never read (only
        activity alerts name them), and decoding a list per record costs a tracked list
        each, which in a process holding a large index makes the garbage collector run
        more (measured: about a tenth of the resolver's time on a churn-heavy trail). The
        raw JSON is a slice of the trail file's buffer, so an event kept beyond its file
        goes through ``detach`` first.
        """
        struct = self._structs.get(part)
        if struct is not None:
            return struct
        fields: list[tuple[Any, ...]] = []
        rename: dict[str, str] = {}
        namespace: dict[str, Any] = {}
        for field in fields_of(part):
            if field.part is not None and field.many:
                stored = f"{field.name}_json"
                rename[stored] = field.name
                fields.append((stored, self.msgspec.Raw, None))  # null: Raw(b"null")
                namespace[field.name] = self._parts_property(stored, field.part)
            elif field.part is not None:
                fields.append((field.name, self.struct_for(field.part) | None, None))
            elif field.required:
                fields.append((field.name, field.scalar))
            else:
                fields.append((field.name, field.scalar | None, None))  # type: ignore[operator]
        struct = self.msgspec.defstruct(
            part.__name__,
            fields,
            bases=(part,),
            kw_only=True,
            gc=False,
            repr_omit_defaults=True,
            module=__name__,
            rename=rename or None,
            namespace=namespace or None,
        )
        self._structs[part] = struct
        if rename:
            self._lazy[struct] = tuple(rename)
        return struct

    def _parts_property(self, stored: str, part: type[Model]) -> property:
        """Read a raw JSON list of ``part`` as the stdlib view reads it: a list of the
        objects among its items (others dropped), None when it is not a list."""
        typed = self.msgspec.json.Decoder(GenericAlias(list, (self.struct_for(part),)))
        errors = self.errors

        def read(event: Any) -> Any:
            raw = getattr(event, stored)
            if raw is None:
                return None
            try:
                return typed.decode(raw)
            except errors:  # an odd list: read as the stdlib view reads it
                return parts_from_json(bytes(raw), part)

        return property(read, doc=f"the list of {part.__name__} (decoded when read)")

    def detach(self, event: Any) -> Any:
        """``event`` holding no slice of its trail file's buffer (kept beyond its file, a
        slice would keep the whole file in memory)."""
        for stored in self._lazy.get(type(event), ()):
            raw = getattr(event, stored)
            if raw is not None:
                setattr(event, stored, raw.copy())
        return event


def _build() -> FastDecoders | None:
    return build_decoders(import_optional("msgspec"))


def build_decoders(msgspec: ModuleType | None) -> FastDecoders | None:
    """The fast path's decoders, or None for the stdlib path: when msgspec is absent, or
    when the copy found (the CE image's wins over the vendored one) is too old for what
    they use (``defstruct``'s ``rename`` and ``namespace``, ``Raw.copy``)."""
    if msgspec is None:
        return None
    if not hasattr(getattr(msgspec, "Raw", None), "copy"):
        return None
    try:
        return FastDecoders(msgspec)
    except (TypeError, AttributeError, ValueError):
        return None


DECODERS: Final = _build()
