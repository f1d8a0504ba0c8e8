"""Trail objects and LookupEvents strings to ``TrailEvent``s, never failing on one bad record.

An object (an S3 trail file, gzip or plain) holds ``{"Records": [...]}`` or a JSON array of
records. What it decodes to is defined by the stdlib path (``zlib`` + ``json`` +
``stdlib_model``); the fast path (``isal`` + ``msgspec`` typed Structs, ``fast_model``) is an
optimisation that returns the same events and errors: it types whole objects in C and hands
anything unusual to the stdlib code — a record its typed decoder rejects (per record), an
object it cannot split into records (whole object). It checks UTF-8 itself first, because
its typed decoder does not look inside the fields it skips.

Object-level problems (not gzip or JSON, truncated or corrupt gzip, larger than
``max_decompressed_bytes`` once inflated, not UTF-8, malformed JSON, no ``Records`` list)
raise ``TrailObjectError`` naming the object; record-level problems become entries of
``DecodedObject.errors`` and the other records are kept.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, NoReturn

from ..fastpath import import_optional
from .events import TrailEvent
from .fast_model import DECODERS, FastDecoders
from .stdlib_model import RecordError, event_from_mapping

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "DecodedObject",
    "RecordError",
    "TrailDecoder",
    "TrailObjectError",
    "decode_event_json",
    "decode_trail_object",
    "default_decoder",
    "gunzip",
    "gunzip_presized",
]

GZIP_MAGIC: Final = b"\x1f\x8b"
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 512 * 1024 * 1024
_WHITESPACE: Final = b" \t\r\n"


class TrailObjectError(ValueError):
    """A whole object cannot be decoded; the message names it and the problem."""


@dataclass(slots=True)
class DecodedObject:
    """The events of one object, and one message per record that could not be used."""

    name: str
    events: list[TrailEvent]
    errors: list[str] = field(default_factory=list)
    decompressed_bytes: int = 0

    @property
    def records(self) -> int:
        return len(self.events) + len(self.errors)


Inflater = Callable[..., Any]


def gunzip(data: bytes, *, name: str, limit: int, decompressobj: Inflater) -> bytes:
    """Inflate every gzip member of ``data``, refusing more than ``limit`` bytes of output.

    The size the last member's trailer claims (ISIZE) only sizes the first output buffer —
    one allocation instead of repeated growth, which doubles isal's speed; the cap never
    trusts it (a truncated or hostile object can claim anything).
    """
    parts: list[bytes] = []
    total = 0
    rest = data
    while True:
        inflater = decompressobj(wbits=31)
        try:
            chunk = inflater.decompress(rest, _first_output_size(rest, limit - total))
            parts.append(chunk)
            total += len(chunk)
            while not inflater.eof and total <= limit:
                tail = inflater.unconsumed_tail
                if not tail:
                    break  # input exhausted: truncated
                chunk = inflater.decompress(tail, limit - total + 1)
                if not chunk and len(inflater.unconsumed_tail) >= len(tail):
                    break  # no progress
                parts.append(chunk)
                total += len(chunk)
        except Exception as error:  # zlib.error / isal_zlib.error: corrupt deflate data
            raise TrailObjectError(f"{name}: gzip data is corrupt ({error})") from None
        following = _next_member(inflater, name=name, total=total, limit=limit)
        if following is None:
            return parts[0] if len(parts) == 1 else b"".join(parts)
        rest = following


def gunzip_presized(data: bytes, *, name: str, limit: int, decompressor: Inflater) -> bytes:
    """``gunzip`` with ``isal``'s ``IgzipDecompressor`` (``decompressor()`` builds one):
    the same members, cap, errors and output, in one output buffer per member.

    ``IgzipDecompressor.decompress(data, max_length)`` allocates ``max_length`` (at most
    16 MB) up front, where a zlib-style ``decompressobj`` starts at 16 kB and doubles
    with ``realloc``. Sized from the trailer, a trail file inflates into one buffer: no
    copies — which in a long-lived process whose heap is not empty (the resolver's)
    cost as much as a third of inflating (measured with cachegrind).
    """
    parts: list[bytes] = []
    total = 0
    rest = data
    while True:
        inflater = decompressor()
        try:
            chunk = inflater.decompress(rest, _first_output_size(rest, limit - total))
            parts.append(chunk)
            total += len(chunk)
            while not inflater.eof and not inflater.needs_input and total <= limit:
                chunk = inflater.decompress(b"", limit - total + 1)
                if not chunk:
                    break  # no progress
                parts.append(chunk)
                total += len(chunk)
        except Exception as error:  # isal's IsalError: corrupt deflate data
            raise TrailObjectError(f"{name}: gzip data is corrupt ({error})") from None
        following = _next_member(inflater, name=name, total=total, limit=limit)
        if following is None:
            return parts[0] if len(parts) == 1 else b"".join(parts)
        rest = following


def _first_output_size(member: bytes, room: int) -> int:
    """How much output to ask for first: the size the member's trailer claims (ISIZE), when
    it fits in ``room``; else ``room``. Plus one byte, so output past the cap shows."""
    claimed = int.from_bytes(member[-4:], "little") if len(member) >= 18 else 0
    return (claimed if 0 < claimed <= room else room) + 1


def _next_member(inflater: Any, *, name: str, total: int, limit: int) -> bytes | None:
    """After a member: the bytes of the next one, None at the end, or the object's error."""
    if total > limit:
        _too_big(name, limit)
    if not inflater.eof:
        raise TrailObjectError(f"{name}: gzip data is truncated")
    rest: bytes = inflater.unused_data
    if not rest.strip(b"\0"):
        return None
    if rest[:2] != GZIP_MAGIC:
        raise TrailObjectError(f"{name}: unexpected bytes after the gzip data")
    return rest


def _too_big(name: str, limit: int) -> NoReturn:
    raise TrailObjectError(
        f"{name}: inflates to more than {limit} bytes (max_decompressed_bytes); "
        "raise the limit only if the object is a genuine trail file"
    )


class TrailDecoder:
    """Decodes trail objects with the fast path when available (``fast=None``) or as told."""

    def __init__(self, *, fast: bool | None = None) -> None:
        if fast and DECODERS is None:
            raise RuntimeError("the msgspec fast path is not available (or AWS_RSI_FASTPATH=0)")
        self.fast: FastDecoders | None = DECODERS if fast is not False else None
        # msgspec refuses str input it cannot encode (lone surrogates) with UnicodeError.
        self._text_errors: tuple[type[Exception], ...] = (
            (*self.fast.errors, UnicodeError) if self.fast is not None else ()
        )
        igzip = import_optional("isal.igzip_lib") if self.fast is not None else None
        self._igzip: Inflater | None = (
            partial(igzip.IgzipDecompressor, flag=igzip.DECOMP_GZIP) if igzip is not None else None
        )

    @property
    def uses_fast_path(self) -> bool:
        return self.fast is not None

    def payload(self, data: bytes, *, name: str, max_decompressed_bytes: int) -> bytes:
        """The JSON bytes of an object: inflated when gzip, size-capped either way."""
        if data[:2] == GZIP_MAGIC:
            if self._igzip is not None:
                return gunzip_presized(
                    data, name=name, limit=max_decompressed_bytes, decompressor=self._igzip
                )
            return gunzip(
                data, name=name, limit=max_decompressed_bytes, decompressobj=zlib.decompressobj
            )
        if len(data) > max_decompressed_bytes:
            raise TrailObjectError(
                f"{name}: {len(data)} bytes exceed max_decompressed_bytes "
                f"({max_decompressed_bytes})"
            )
        start = data.lstrip(_WHITESPACE)[:1]
        if start not in (b"{", b"["):
            what = "is empty" if not start else "is neither gzip nor JSON"
            raise TrailObjectError(f"{name}: {what}")
        return data

    def decode_object(
        self,
        data: bytes,
        *,
        name: str,
        max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    ) -> DecodedObject:
        """The events of one trail object (see the module docstring for what fails how)."""
        payload = self.payload(data, name=name, max_decompressed_bytes=max_decompressed_bytes)
        if self.fast is not None:
            decoded = self._fast_object(self.fast, payload, name)
        else:
            decoded = _stdlib_object(payload, name)
        decoded.decompressed_bytes = len(payload)
        return decoded

    def decode_event_json(self, text: str | bytes) -> TrailEvent:
        """One event from a LookupEvents ``CloudTrailEvent`` string; ``RecordError`` if unusable."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RecordError(f"CloudTrailEvent is not UTF-8 (byte {error.start})") from None
        if self.fast is not None:
            try:
                event: TrailEvent = self.fast.event.decode(text)
                return event
            except self._text_errors:
                pass
        try:
            record = _json_loads(text)
        except (ValueError, RecursionError) as error:
            raise RecordError(f"CloudTrailEvent is not valid JSON ({_brief(error)})") from None
        return event_from_mapping(record)

    def _fast_object(self, fast: FastDecoders, payload: bytes, name: str) -> DecodedObject:
        if not payload.isascii():
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as error:
                _not_utf8(name, error)
        is_array = payload.lstrip(_WHITESPACE)[:1] == b"["
        try:
            if is_array:
                return DecodedObject(name, fast.array.decode(payload))
            return DecodedObject(name, fast.file.decode(payload).Records)
        except fast.errors:
            pass
        try:
            raws = fast.raw_array.decode(payload) if is_array else fast.raw_file.decode(payload)
        except fast.errors:
            return _stdlib_object(payload, name)
        events: list[TrailEvent] = []
        errors: list[str] = []
        typed = fast.event.decode
        for index, raw in enumerate(raws if is_array else raws.Records):
            try:
                events.append(typed(raw))
                continue
            except fast.errors:
                pass
            try:
                events.append(event_from_mapping(_json_loads(bytes(raw).decode("utf-8"))))
            except RecordError as error:
                errors.append(f"{name}: record {index}: {error}")
            except (ValueError, RecursionError) as error:
                errors.append(f"{name}: record {index}: malformed JSON ({_brief(error)})")
        return DecodedObject(name, events, errors)


def _stdlib_object(payload: bytes, name: str) -> DecodedObject:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        _not_utf8(name, error)
    try:
        document = _json_loads(text)
    except (ValueError, RecursionError) as error:
        raise TrailObjectError(f"{name}: malformed JSON ({_brief(error)})") from None
    if type(document) is dict:
        records = document.get("Records")
        if type(records) is not list:
            raise TrailObjectError(f'{name}: not a CloudTrail object (no "Records" list)')
    elif type(document) is list:
        records = document
    else:
        raise TrailObjectError(f"{name}: not a CloudTrail object (a JSON scalar)")
    events: list[TrailEvent] = []
    errors: list[str] = []
    append = events.append
    for index, record in enumerate(records):
        try:
            append(event_from_mapping(record))
        except RecordError as error:
            errors.append(f"{name}: record {index}: {error}")
    return DecodedObject(name, events, errors)


def _reject_constant(token: str) -> NoReturn:
    raise ValueError(f"{token} is not JSON")


def _json_loads(text: str) -> Any:
    """``json.loads`` as strict as msgspec: ``NaN``/``Infinity`` are not JSON."""
    return json.loads(text, parse_constant=_reject_constant)


def _not_utf8(name: str, error: UnicodeDecodeError) -> NoReturn:
    raise TrailObjectError(f"{name}: not UTF-8 text (byte {error.start}); the object is corrupt")


def _brief(error: BaseException) -> str:
    return str(error).splitlines()[0][:160] if str(error) else type(error).__name__


_DEFAULT: list[TrailDecoder] = []


def default_decoder() -> TrailDecoder:
    """The process-wide decoder (fast path when available), built on first use."""
    if not _DEFAULT:
        _DEFAULT.append(TrailDecoder())
    return _DEFAULT[0]


def decode_trail_object(
    data: bytes, *, name: str, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
) -> DecodedObject:
    """The events of one trail object (S3 key or file path in ``name``)."""
    return default_decoder().decode_object(
        data, name=name, max_decompressed_bytes=max_decompressed_bytes
    )


def decode_event_json(text: str | bytes) -> TrailEvent:
    """One event from a LookupEvents ``CloudTrailEvent`` JSON string."""
    return default_decoder().decode_event_json(text)
