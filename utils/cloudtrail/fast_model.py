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


class FastDecoders:
    """The typed msgspec decoders the fast path uses (built once per process)."""

    def __init__(self, msgspec: ModuleType) -> None:
        self.msgspec = msgspec
        self._structs: dict[type[Model], Any] = {}
        event = self.struct_for(TrailEvent)
        events = GenericAlias(list, (event,))
        raws = GenericAlias(list, (msgspec.Raw,))
        defstruct = msgspec.defstruct
        trail_file = defstruct("TrailFile", [("Records", events)], gc=False)
        raw_file = defstruct("RawTrailFile", [("Records", raws)], gc=False)
        self.errors: tuple[type[Exception], ...] = (msgspec.ValidationError, msgspec.DecodeError)
        # What makes a document not typed here: its own errors, or nesting past the
        # interpreter's recursion limit (msgspec recurses per level, skipped fields too).
        self.untyped: tuple[type[Exception], ...] = (*self.errors, RecursionError)
        self.event = msgspec.json.Decoder(event)
        self.file = msgspec.json.Decoder(trail_file)
        self.array = msgspec.json.Decoder(events)
        self.raw_file = msgspec.json.Decoder(raw_file)
        self.raw_array = msgspec.json.Decoder(raws)

    def struct_for(self, part: type[Model]) -> Any:
        """The Struct class implementing the declaration ``part``."""
        struct = self._structs.get(part)
        if struct is not None:
            return struct
        fields: list[tuple[Any, ...]] = []
        for field in fields_of(part):
            if field.part is not None:
                struct = self.struct_for(field.part)
                typed = GenericAlias(list, (struct,)) if field.many else struct
                fields.append((field.name, typed | None, None))
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
        )
        self._structs[part] = struct
        return struct


def _build() -> FastDecoders | None:
    msgspec = import_optional("msgspec")
    return FastDecoders(msgspec) if msgspec is not None else None


DECODERS: Final = _build()
