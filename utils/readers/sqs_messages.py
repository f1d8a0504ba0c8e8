"""What an SQS message body announces: a pure parser that never raises.

Anyone allowed to ``sqs:SendMessage`` on the queue writes these bodies, so every level is
checked for its type before it is used and every failure becomes ``ParsedMessage.error``:
a short sentence naming *where* the body is wrong (``Records[3].s3.object.key``) and
*what* it found (a type name, a count, a size), never the offending value itself.

Shapes understood (each possibly wrapped in an SNS ``Notification`` envelope):
S3 event notifications (``Records[].s3``; keys URL-encoded, ``+`` is a space), EventBridge
``Object Created`` events (keys as-is), and CloudTrail's own SNS notification
(``s3Bucket`` + ``s3ObjectKey`` list). ``s3:TestEvent`` messages announce nothing.
Records of other S3 events (``ObjectRemoved:*``) are ignored, not errors: a queue
subscribed to every event of the bucket is a legitimate set-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from ..json_kind import json_kind as _kind
from .layout import REGION

MAX_BODY_CHARS = 1_048_576  # SQS's own maximum message size (1 MiB)
MAX_OBJECTS_PER_MESSAGE = 100  # S3 sends 1 record per message; CloudTrail a few keys
MAX_KEY_BYTES = 1_024  # S3's maximum key length
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_SHOWN_CHARS = 256


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One S3 object a notification announces. ``alternates`` are other spellings of the
    key tried if the first is missing (S3 notifications URL-encode keys, EventBridge does
    not; trying the other form costs one call and only on a miss). ``region`` is the
    bucket's Region when the message names a well-formed one ("" otherwise)."""

    bucket: str
    key: str
    alternates: tuple[str, ...] = ()
    region: str = ""
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    objects: tuple[ObjectRef, ...] = ()
    test_event: bool = False
    ignored: tuple[str, ...] = ()  # reasons for records that announce nothing to read
    error: str = ""  # why the body is not a notification this reader understands


class _Malformed(Exception):
    """A wrong shape somewhere in the body (the message is the ``ParsedMessage.error``)."""


def parse_message_body(body: object) -> ParsedMessage:
    """What an SQS message body announces. Total: any input gives a ``ParsedMessage``."""
    try:
        text = _body_text(body)
        doc = _json(text, "the message body")
        if isinstance(doc, dict) and doc.get("Type") == "Notification" and "Message" in doc:
            inner = doc["Message"]
            if not isinstance(inner, str):
                raise _Malformed(f"the SNS envelope's Message is {_kind(inner)}, expected a string")
            doc = _json(inner, "the SNS envelope's Message")
        return _notification(doc)
    except _Malformed as error:
        return ParsedMessage(error=str(error))


def _body_text(body: object) -> str:
    if isinstance(body, bytes | bytearray):
        if len(body) > MAX_BODY_CHARS:
            raise _Malformed(f"the message body is {len(body)} bytes, over {MAX_BODY_CHARS}")
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise _Malformed("the message body is not valid UTF-8") from None
    if not isinstance(body, str):
        raise _Malformed(f"the message body is {_kind(body)}, expected text")
    if len(body) > MAX_BODY_CHARS:
        raise _Malformed(f"the message body is {len(body)} characters, over {MAX_BODY_CHARS}")
    return body


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise _Malformed(f"{what} is JSON nested too deeply to read") from None
    except ValueError:  # includes JSONDecodeError and over-long integer literals
        raise _Malformed(f"{what} is not JSON") from None


def _notification(doc: Any) -> ParsedMessage:
    if not isinstance(doc, dict):
        raise _Malformed(f"the message is {_kind(doc)}, expected a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return ParsedMessage(test_event=True)
    if "Records" in doc:
        return _s3_event(doc["Records"])
    if doc.get("detail-type") == "Object Created" and doc.get("source") == "aws.s3":
        return _eventbridge(doc)
    if "s3Bucket" in doc or "s3ObjectKey" in doc:
        return _cloudtrail(doc)
    raise _Malformed(
        "the message is not an S3 object notification (no Records, EventBridge detail or "
        "s3ObjectKey)"
    )


def _s3_event(records: Any) -> ParsedMessage:
    records = _list(records, "Records")
    objects: list[ObjectRef] = []
    ignored: list[str] = []
    for i, item in enumerate(records):
        where = f"Records[{i}]"
        record = _object(item, where)
        event_name = record.get("eventName", "")
        if not isinstance(event_name, str):
            raise _Malformed(f"{where}.eventName is {_kind(event_name)}, expected a string")
        s3 = _object(record.get("s3"), f"{where}.s3")
        if not event_name.startswith("ObjectCreated"):
            ignored.append("not_object_created")
            continue
        bucket_doc = _object(s3.get("bucket"), f"{where}.s3.bucket")
        bucket = _bucket(bucket_doc.get("name"), f"{where}.s3.bucket.name")
        obj = _object(s3.get("object"), f"{where}.s3.object")
        raw_key = _key(obj.get("key"), f"{where}.s3.object.key")
        key = unquote_plus(raw_key)  # documented: URL-encoded, "+" for space
        _key(key, f"{where}.s3.object.key (decoded)")
        objects.append(
            ObjectRef(
                bucket,
                key,
                alternates=(raw_key,) if raw_key != key else (),
                region=_region(record.get("awsRegion")),
                size=_size(obj.get("size")),
            )
        )
    return ParsedMessage(objects=tuple(objects), ignored=tuple(ignored))


def _eventbridge(doc: dict[str, Any]) -> ParsedMessage:
    detail = _object(doc.get("detail"), "detail")
    bucket = _bucket(
        _object(detail.get("bucket"), "detail.bucket").get("name"), "detail.bucket.name"
    )
    obj = _object(detail.get("object"), "detail.object")
    key = _key(obj.get("key"), "detail.object.key")
    decoded = unquote_plus(key)
    return ParsedMessage(
        objects=(
            ObjectRef(
                bucket,
                key,
                alternates=(decoded,) if decoded != key and _valid_key(decoded) else (),
                region=_region(doc.get("region")),
                size=_size(obj.get("size")),
            ),
        )
    )


def _cloudtrail(doc: dict[str, Any]) -> ParsedMessage:
    bucket = _bucket(doc.get("s3Bucket"), "s3Bucket")
    keys = _list(doc.get("s3ObjectKey"), "s3ObjectKey")
    return ParsedMessage(
        objects=tuple(ObjectRef(bucket, _key(k, f"s3ObjectKey[{i}]")) for i, k in enumerate(keys))
    )


# ------------------------------------------------------------------ shape checks


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{where} is {_kind(value)}, expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(f"{where} is {_kind(value)}, expected a list")
    if len(value) > MAX_OBJECTS_PER_MESSAGE:
        raise _Malformed(
            f"{where} has {len(value)} entries, over the {MAX_OBJECTS_PER_MESSAGE} one "
            "message may announce"
        )
    return value


def _bucket(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{where} is {_kind(value)}, expected a string")
    if not 3 <= len(value) <= 63 or not _BUCKET_CHARS.issuperset(value):
        raise _Malformed(f"{where} is not a valid S3 bucket name")
    return value


def _valid_key(value: str) -> bool:
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: S3 could not have written this key
        return False
    return 0 < size <= MAX_KEY_BYTES


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{where} is {_kind(value)}, expected a string")
    if not value:
        raise _Malformed(f"{where} is empty")
    if len(value) > MAX_KEY_BYTES or not _valid_key(value):
        raise _Malformed(f"{where} is not a valid S3 key (1-{MAX_KEY_BYTES} bytes of UTF-8)")
    return value


def _region(value: Any) -> str:
    """The Region a message names, only when well formed: it picks an S3 endpoint."""
    if isinstance(value, str) and len(value) <= 32 and REGION.match(value):
        return value
    return ""


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def shown(text: str, limit: int = _SHOWN_CHARS) -> str:
    """``text`` fit for a problem message: control, format (bidi) and surrogate characters
    escaped, at most ``limit`` characters (then an ellipsis). Object keys and message ids
    are chosen by whoever writes to the bucket or queue."""
    out: list[str] = []
    for ch in text[: limit + 1]:
        out.append(ch if ch.isprintable() else f"\\u{ord(ch):04x}")
    clipped = "".join(out)
    if len(text) > limit or len(clipped) > limit:
        return clipped[:limit] + "…"
    return clipped
