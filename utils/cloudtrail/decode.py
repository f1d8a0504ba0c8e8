"""Trail objects and LookupEvents strings to ``TrailEvent``s, never failing on one bad record.

An object (an S3 trail file, gzip or plain) holds ``{"Records": [...]}`` or a JSON array of
records. What it decodes to is defined by the stdlib path (``zlib`` + ``json`` +
``stdlib_model``); the fast path (``isal`` + ``msgspec`` typed Structs, ``fast_model``) is an
optimisation that returns the same events and errors: it types whole objects in C and hands
anything unusual to the stdlib code — a record its typed decoder rejects (per record), an
object it cannot split into records (whole object). It checks UTF-8 itself first, because
its typed decoder does not look inside the fields it skips.

Object-level problems (not gzip or JSON, truncated or corrupt gzip, larger than
``max_decompressed_bytes`` once inflated, more records than ``max_records``, more memory to
decode than ``max_decode_bytes``, not UTF-8, malformed JSON, nesting deeper than the parsers
allow, no ``Records`` list) raise ``TrailObjectError`` naming the object; record-level
problems (including a record nested too deeply, on the fast path) become entries of
``DecodedObject.errors`` and the other records are kept. Nothing else escapes: an object is
written by whoever can write to the trail bucket, and one object must never fail a pull.

Memory: the inflated bytes are capped while inflating (a gzip bomb stops at the cap), and
what decoding will allocate is bounded *before* it allocates. What a JSON document costs in
Python depends on its shape more than its size (``[0,0,0,…]`` costs 32 times its bytes as
``msgspec.Raw`` items; a record of four one-character fields costs five times its bytes as a
Struct), so a large object is costed from counts of its structural bytes (``{``, ``,`` and
``"``, each a C-speed ``bytes.count``): an estimate that is an upper bound for the shapes
each path builds, rejected over ``max_decode_bytes``. Objects that cannot exceed the budget
whatever their shape skip the counting: under ``_UNCOSTED_BYTES`` on the stdlib path, and
on the typed path whenever their length times ``_TYPED_MAX_PER_BYTE`` is within it (typed
decoding builds only declared fields, so its worst cost per byte is small and bounded).
"""

from __future__ import annotations

import json
import re
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
    "DEFAULT_MAX_DECODE_BYTES",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "DEFAULT_MAX_RECORDS",
    "DecodeLimits",
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
# Defaults that keep one object's decoding, inflated bytes included, under ~150 MB whatever
# it holds (measured in tests/cloudtrail/test_decode_bounds.py). Real trail files are a few
# MB: CloudTrail writes one per account, Region and about five minutes, and more when busy.
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 48 * 1024 * 1024
DEFAULT_MAX_RECORDS: Final = 100_000
DEFAULT_MAX_DECODE_BYTES: Final = 96 * 1024 * 1024
# Under this many bytes no shape can cost more than DEFAULT_MAX_DECODE_BYTES on the stdlib
# or split paths (the worst is 32 bytes per byte, ``msgspec.Raw`` items or stdlib
# containers): no counting.
_UNCOSTED_BYTES: Final = 2 * 1024 * 1024
# What typed decoding can cost per byte of text, whatever the text: every Struct it builds
# needs its key (``"requestParameters":{}`` is 23 bytes for a 216-byte Struct), a record its
# four required strings, each part and declared field appears once per object (a repeated
# key replaces, and frees, the value before), one-character strings are shared, and lists
# of parts stay raw JSON. Measured worst, adversarial shapes: 4.4 bytes per byte
# (``tests/cloudtrail/test_decode_hostile.py`` keeps it under this bound). Under the
# default budget a file of up to 12 MB is decoded without counting its braces.
_TYPED_MAX_PER_BYTE: Final = 8
# What one structural byte can cost once decoded, at most (CPython 3.11, 64-bit): a Struct of
# the model (the widest, TrailEvent, is 168 bytes) or a dict (232) per "{"; a list slot and a
# Raw or boxed number per ","; a str header (49) per two '"' of a declared value, each
# value having a key too.
_TYPED_PER_BRACE: Final = 200
_TYPED_PER_QUOTE: Final = 13
_LOADED_PER_BRACE: Final = 240
_LOADED_PER_COMMA: Final = 64
_WHITESPACE: Final = b" \t\r\n"


class TrailObjectError(ValueError):
    """A whole object cannot be decoded; the message names it and the problem."""


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """What one object may cost: inflated bytes, records, and memory to decode it."""

    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_records: int = DEFAULT_MAX_RECORDS
    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES


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
        max_records: int = DEFAULT_MAX_RECORDS,
        max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
    ) -> DecodedObject:
        """The events of one trail object (see the module docstring for what fails how)."""
        limits = DecodeLimits(max_decompressed_bytes, max_records, max_decode_bytes)
        payload = self.payload(data, name=name, max_decompressed_bytes=max_decompressed_bytes)
        try:
            if self.fast is not None:
                decoded = self._fast_object(self.fast, payload, name, limits)
            else:
                decoded = _stdlib_object(payload, name, limits)
        except TrailObjectError:
            raise
        except RecursionError:
            raise TrailObjectError(f"{name}: JSON nested too deeply to decode") from None
        except MemoryError:
            raise TrailObjectError(f"{name}: out of memory while decoding") from None
        if decoded.records > max_records:
            _too_many(name, decoded.records, max_records)
        decoded.decompressed_bytes = len(payload)
        return decoded

    def decode_event_json(self, text: str | bytes) -> TrailEvent:
        """One event from a LookupEvents ``CloudTrailEvent`` string; ``RecordError`` if unusable."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RecordError(f"CloudTrailEvent is not UTF-8 (byte {error.start})") from None
        if len(text) > _MAX_EVENT_CHARS:
            raise RecordError(f"CloudTrailEvent is {len(text)} characters, over {_MAX_EVENT_CHARS}")
        if self.fast is not None:
            try:
                event: TrailEvent = self.fast.event.decode(text)
                return event
            except self._text_errors:
                pass
            except RecursionError:
                raise RecordError("CloudTrailEvent is nested too deeply") from None
        try:
            record = _json_loads(text)
        except RecursionError:
            raise RecordError("CloudTrailEvent is nested too deeply") from None
        except ValueError as error:
            raise RecordError(f"CloudTrailEvent is not valid JSON ({_brief(error)})") from None
        return event_from_mapping(record)

    def _fast_object(
        self, fast: FastDecoders, payload: bytes, name: str, limits: DecodeLimits
    ) -> DecodedObject:
        if not payload.isascii():
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as error:
                _not_utf8(name, error)
        if len(payload) * _TYPED_MAX_PER_BYTE > limits.max_decode_bytes:
            # Quotes are at most the bytes: count them only when that bound is not enough
            # (each ``count`` is a pass over the text, about a tenth of decoding it).
            braces = payload.count(b"{") * _TYPED_PER_BRACE
            if braces + len(payload) * _TYPED_PER_QUOTE > limits.max_decode_bytes:
                _within_budget(name, braces + payload.count(b'"') * _TYPED_PER_QUOTE, limits)
        is_array = payload.lstrip(_WHITESPACE)[:1] == b"["
        try:
            if is_array:
                return DecodedObject(name, fast.array.decode(payload))
            return DecodedObject(name, fast.file.decode(payload).Records)
        except fast.untyped:
            pass
        # Some record is not typed: split the object into records and decode each alone.
        # Splitting and the stdlib fallback build what the typed decoder did not: costed.
        _within_budget(name, _loaded_cost(payload), limits)
        records: list[Any]
        try:
            raws = fast.raw_array.decode(payload) if is_array else fast.raw_file.decode(payload)
            records = raws if is_array else raws.Records
        except RecursionError:  # a record nested too deeply: split without recursing
            spans = _split_records(payload)
            if spans is None:
                raise TrailObjectError(f"{name}: JSON nested too deeply to decode") from None
            records = spans
        except fast.errors:
            return _stdlib_object(payload, name, None)
        if len(records) > limits.max_records:
            _too_many(name, len(records), limits.max_records)
        events: list[TrailEvent] = []
        errors: list[str] = []
        typed = fast.event.decode
        for index, raw in enumerate(records):
            try:
                events.append(typed(raw))
                continue
            except fast.untyped:
                pass
            try:
                events.append(event_from_mapping(_json_loads(bytes(raw).decode("utf-8"))))
            except RecordError as error:
                errors.append(f"{name}: record {index}: {error}")
            except RecursionError:
                errors.append(f"{name}: record {index}: nested too deeply")
            except ValueError as error:
                errors.append(f"{name}: record {index}: malformed JSON ({_brief(error)})")
        return DecodedObject(name, events, errors)


def _loaded_cost(payload: bytes, copies: int = 1) -> int:
    """At most what ``json.loads`` (or splitting into ``msgspec.Raw`` items) allocates;
    ``copies``: how many times the text is held at once (the stdlib path holds the
    payload, its str, and the parsed strings: a 40 MB userAgent is 120 MB at the peak)."""
    return (
        payload.count(b"{") * _LOADED_PER_BRACE
        + (payload.count(b",") + 1) * _LOADED_PER_COMMA
        + len(payload) * copies
    )


def _within_budget(name: str, cost: int, limits: DecodeLimits) -> None:
    if cost > limits.max_decode_bytes:
        raise TrailObjectError(
            f"{name}: decoding would take about {cost // 1_000_000} MB, over the "
            f"{limits.max_decode_bytes // 1_000_000} MB allowed for one object (max_decode_bytes)"
        )


def _too_many(name: str, records: int, limit: int) -> NoReturn:
    raise TrailObjectError(
        f"{name}: holds {records} records, over the {limit} allowed in one object (max_records)"
    )


def _stdlib_object(payload: bytes, name: str, limits: DecodeLimits | None = None) -> DecodedObject:
    if limits is not None and len(payload) > _UNCOSTED_BYTES:
        _within_budget(name, _loaded_cost(payload, copies=3), limits)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        _not_utf8(name, error)
    try:
        document = _json_loads(text)
    except RecursionError:
        return _split_stdlib_object(payload, name)
    except ValueError as error:
        raise TrailObjectError(f"{name}: malformed JSON ({_brief(error)})") from None
    if type(document) is dict:
        records = document.get("Records")
        if type(records) is not list:
            raise TrailObjectError(f'{name}: not a CloudTrail object (no "Records" list)')
    elif type(document) is list:
        records = document
    else:
        raise TrailObjectError(f"{name}: not a CloudTrail object (a JSON scalar)")
    if limits is not None and len(records) > limits.max_records:
        _too_many(name, len(records), limits.max_records)
    events: list[TrailEvent] = []
    errors: list[str] = []
    append = events.append
    for index, record in enumerate(records):
        try:
            append(event_from_mapping(record))
        except RecordError as error:
            errors.append(f"{name}: record {index}: {error}")
    return DecodedObject(name, events, errors)


# Splitting an object into its records without a recursive parser, for the rare object with
# a record nested deeper than the parsers allow: only that record is lost. Linear: each
# step jumps to the next structural byte, strings in one match (no backtracking: the string
# pattern's alternatives never overlap).
_RECORDS_OPENING: Final = re.compile(
    rb'[ \t\r\n]*(?:\{[ \t\r\n]*"Records"[ \t\r\n]*:[ \t\r\n]*)?\['
)
_STRUCTURAL: Final = re.compile(rb'["\[\]{},]')
_STRING_REST: Final = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)
_CLOSING: Final = re.compile(rb"[ \t\r\n]*(?:\}[ \t\r\n]*)?")


def _split_records(payload: bytes) -> list[bytes] | None:
    """The records of ``[...]`` or ``{"Records": [...]}`` as byte strings, found by depth
    counting alone; None when the object is not of that form."""
    opening = _RECORDS_OPENING.match(payload)
    if opening is None:
        return None
    is_object = payload[opening.start() : opening.end()].lstrip(_WHITESPACE)[:1] == b"{"
    records: list[bytes] = []
    start = pos = opening.end()
    depth = 0
    while True:
        found = _STRUCTURAL.search(payload, pos)
        if found is None:
            return None
        at = found.start()
        byte = payload[at]
        pos = at + 1
        if byte == 0x22:  # '"': skip the whole string
            rest = _STRING_REST.match(payload, pos)
            if rest is None:
                return None
            pos = rest.end()
        elif byte in (0x5B, 0x7B):  # '[' '{'
            depth += 1
        elif byte in (0x5D, 0x7D):  # ']' '}'
            if depth:
                depth -= 1
                continue
            if byte != 0x5D:
                return None
            if payload[start:at].strip(_WHITESPACE) or records:
                records.append(payload[start:at])
            tail = _CLOSING.match(payload, pos)
            end = tail.end() if tail is not None else pos
            closed = payload[pos:end].strip(_WHITESPACE) == (b"}" if is_object else b"")
            return records if closed and end == len(payload) else None
        elif depth == 0:  # ',' between records
            records.append(payload[start:at])
            start = pos


def _split_stdlib_object(payload: bytes, name: str) -> DecodedObject:
    """The stdlib path for an object ``json.loads`` cannot parse for its nesting."""
    records = _split_records(payload)
    if records is None:
        raise TrailObjectError(f"{name}: JSON nested too deeply to decode")
    events: list[TrailEvent] = []
    errors: list[str] = []
    for index, raw in enumerate(records):
        try:
            events.append(event_from_mapping(_json_loads(raw.decode("utf-8"))))
        except RecordError as error:
            errors.append(f"{name}: record {index}: {error}")
        except RecursionError:
            errors.append(f"{name}: record {index}: nested too deeply")
        except ValueError as error:
            errors.append(f"{name}: record {index}: malformed JSON ({_brief(error)})")
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


# A LookupEvents CloudTrailEvent is one record; CloudTrail caps a record at 256 KB, a
# LookupEvents page holds 50: anything far larger is not an event.
_MAX_EVENT_CHARS: Final = 1024 * 1024

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
