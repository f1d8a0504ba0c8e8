"""A Splunk HTTP Event Collector on 127.0.0.1, answering like Splunk does.

- ``POST /services/collector/event`` (also ``/services/collector`` and ``.../event/1.0``):
  token auth (``Authorization: Splunk <token>``), HEC's batch format (JSON objects
  concatenated, whitespace allowed between them), Splunk's status codes and bodies. Like
  Splunk it streams: the events before a bad one are kept, and the bad one is named by
  ``invalid-event-number``. For ``Incorrect index`` (code 7) Splunk reports that position one
  higher than for other codes (a one-event index probe gets ``invalid-event-number: 1`` in
  Splunk Connect for Syslog's startup checks); the emulator reproduces it.
- ``POST /services/collector/ack``: indexer acknowledgement per channel
  (``X-Splunk-Request-Channel`` header or ``channel`` query); acks become true after
  ``ack_delay`` seconds (``None`` = never, to test timeouts).
- ``GET /services/collector/health``: ``HEC is healthy`` (code 17).
- Per-token settings: allowed indexes, default index, acknowledgement, disabled.
- Faults (besides ``status``, ``slow``, ``drop``): ``busy`` (503, code 9), ``throttle``
  (429 with ``Retry-After``), ``invalid_event`` (code 6 at ``position``), ``unhealthy``
  (health 503, code 18).
- Inspection: ``GET /_emulator/events`` (what was indexed, token shown by name only),
  ``POST /_emulator/config`` (``{"ack_delay": seconds or null}``).

Run it alone: ``python -m devkit.emulators.hec --port 8088 --token <value>``.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from devkit.emulators.base import (
    Emulator,
    Fault,
    Request,
    Response,
    first,
    serve_until_interrupted,
    server_arguments,
    server_options,
)
from devkit.loader import plugin_module

hec = plugin_module("utils.splunk.hec_protocol")

EVENT_PATHS = (hec.EVENT_PATH, hec.EVENT_PATH + "/1.0", "/services/collector")
HEALTH_PATHS = (hec.HEALTH_PATH, hec.HEALTH_PATH + "/1.0")
NOT_FOUND = {"text": "The requested URL was not found on this server.", "code": 404}


@dataclass(frozen=True)
class TokenSpec:
    """A HEC token as configured in Splunk (Settings > Data inputs > HTTP Event Collector)."""

    name: str = "default"
    indexes: tuple[str, ...] = ()  # allowed indexes; empty allows any
    default_index: str = "main"
    ack: bool = False
    disabled: bool = False

    def allows(self, index: str) -> bool:
        return not self.indexes or index in self.indexes or index == self.default_index


class _Rejected(Exception):
    def __init__(self, status: Any, position: int | None = None) -> None:
        super().__init__(status.text)
        self.status = status
        self.position = position


def _reply(status: Any, **extra: Any) -> Response:
    return Response(status.http_status, status.body(**extra))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ({}, [])


class HecEmulator(Emulator):
    """See the module docstring."""

    name: ClassVar[str] = "hec"
    fault_kinds: ClassVar[frozenset[str]] = frozenset(
        {"busy", "throttle", "invalid_event", "unhealthy"}
    )
    default_fault_paths: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "status": EVENT_PATHS,
        "slow": EVENT_PATHS,
        "drop": EVENT_PATHS,
        "busy": EVENT_PATHS,
        "throttle": EVENT_PATHS,
        "invalid_event": EVENT_PATHS,
        "unhealthy": HEALTH_PATHS,
    }

    def __init__(
        self,
        tokens: Mapping[str, TokenSpec] | None = None,
        *,
        max_content_length: int = 1_048_576,
        ack_delay: float | None = 0.0,
        query_string_auth: bool = False,
        **server_options: Any,
    ) -> None:
        super().__init__(**server_options)
        self.tokens: dict[str, TokenSpec] = dict(tokens or {})
        self.max_content_length = max_content_length
        self.ack_delay = ack_delay
        self.query_string_auth = query_string_auth
        self._events: list[dict[str, Any]] = []
        self._acks: dict[str, dict[int, float]] = {}
        self._next_ack: dict[str, int] = {}
        self._ack_lock = threading.Lock()

    @property
    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._events)

    def reset_state(self) -> None:
        self._events.clear()
        with self._ack_lock:
            self._acks.clear()
            self._next_ack.clear()

    # ----------------------------------------------------------------- endpoints

    def control(self, request: Request) -> Response | None:
        path = request.path.removeprefix("/_emulator")
        if path == "/events" and request.method == "GET":
            return Response(200, {"events": self.events})
        if path == "/config" and request.method == "POST":
            data = request.json() or {}
            if "ack_delay" in data:
                self.ack_delay = None if data["ack_delay"] is None else float(data["ack_delay"])
            return Response(200, {"ack_delay": self.ack_delay})
        return None

    def handle(self, request: Request, fault: Fault | None) -> Response:
        if fault is not None and fault.kind == "busy":
            return _reply(hec.SERVER_BUSY)
        if fault is not None and fault.kind == "throttle":
            return Response(
                429, {"text": "Too many requests"}, {"Retry-After": fault.retry_after or "1"}
            )
        if request.path in HEALTH_PATHS and request.method == "GET":
            if fault is not None and fault.kind == "unhealthy":
                return _reply(hec.UNHEALTHY_QUEUES_FULL)
            return _reply(hec.HEALTHY)
        if request.method != "POST" or request.path not in (*EVENT_PATHS, hec.ACK_PATH):
            return Response(404, NOT_FOUND)
        try:
            spec = self._authenticate(request)
            channel = self._channel(request, spec)
            if request.path == hec.ACK_PATH:
                return self._ack_query(request, spec, channel)
            return self._ingest(request, spec, channel, fault)
        except _Rejected as rejection:
            extra = (
                {} if rejection.position is None else {"invalid-event-number": rejection.position}
            )
            return _reply(rejection.status, **extra)

    def _authenticate(self, request: Request) -> TokenSpec:
        header = request.header("authorization")
        token: str | None = None
        if header is None:
            if first(request.query, "token") is not None:
                if not self.query_string_auth:
                    raise _Rejected(hec.QUERY_STRING_AUTH_DISABLED)
                token = first(request.query, "token")
            else:
                raise _Rejected(hec.TOKEN_REQUIRED)
        else:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "splunk" or not value.strip():
                raise _Rejected(hec.INVALID_AUTHORIZATION)
            token = value.strip()
        spec = self.tokens.get(token or "")
        if spec is None:
            raise _Rejected(hec.INVALID_TOKEN)
        if spec.disabled:
            raise _Rejected(hec.TOKEN_DISABLED)
        return spec

    @staticmethod
    def _channel(request: Request, spec: TokenSpec) -> str | None:
        channel = request.header(hec.CHANNEL_HEADER) or first(request.query, "channel")
        if channel is None:
            if spec.ack:
                raise _Rejected(hec.CHANNEL_MISSING)
            return None
        try:
            uuid.UUID(channel)
        except ValueError:
            raise _Rejected(hec.INVALID_CHANNEL) from None
        return channel

    def _ingest(
        self, request: Request, spec: TokenSpec, channel: str | None, fault: Fault | None
    ) -> Response:
        if len(request.body) > self.max_content_length:
            return Response(
                413,
                {
                    "text": f"Content-Length of {len(request.body)} too large "
                    f"(maximum is {self.max_content_length})"
                },
            )
        body = request.body
        if (request.header("content-encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except OSError:
                raise _Rejected(hec.INVALID_DATA_FORMAT, 0) from None
        text = body.decode("utf-8", errors="replace")
        bad_position = (
            fault.position if fault is not None and fault.kind == "invalid_event" else None
        )
        decoder = json.JSONDecoder()
        offset, position = 0, 0
        while True:
            while offset < len(text) and text[offset].isspace():
                offset += 1
            if offset >= len(text):
                break
            if position == bad_position:
                raise _Rejected(hec.INVALID_DATA_FORMAT, position)
            try:
                item, offset = decoder.raw_decode(text, offset)
            except json.JSONDecodeError:
                raise _Rejected(hec.INVALID_DATA_FORMAT, position) from None
            self._accept(item, position, spec, channel)
            position += 1
        if position == 0:
            raise _Rejected(hec.NO_DATA)
        if spec.ack and channel is not None:
            return _reply(hec.SUCCESS, ackId=self._issue_ack(channel))
        return _reply(hec.SUCCESS)

    def _accept(self, item: Any, position: int, spec: TokenSpec, channel: str | None) -> None:
        if not isinstance(item, dict):
            raise _Rejected(hec.INVALID_DATA_FORMAT, position)
        if "event" not in item:
            raise _Rejected(hec.EVENT_REQUIRED, position)
        if _blank(item["event"]):
            raise _Rejected(hec.EVENT_BLANK, position)
        index = item.get("index") or spec.default_index
        if not spec.allows(str(index)):
            raise _Rejected(hec.INCORRECT_INDEX, position + 1)
        record = {key: item[key] for key in ("time", "host", "source", "sourcetype") if key in item}
        record.update(
            index=index,
            event=item["event"],
            token_name=spec.name,
            channel=channel,
            received_at=time.time(),
        )
        if "fields" in item:
            record["fields"] = item["fields"]
        with self.lock:
            self._events.append(record)

    def _issue_ack(self, channel: str) -> int:
        with self._ack_lock:
            ack_id = self._next_ack.get(channel, 0)
            self._next_ack[channel] = ack_id + 1
            delay = math.inf if self.ack_delay is None else self.ack_delay
            self._acks.setdefault(channel, {})[ack_id] = time.monotonic() + delay
            return ack_id

    def _ack_query(self, request: Request, spec: TokenSpec, channel: str | None) -> Response:
        if not spec.ack:
            raise _Rejected(hec.ACK_DISABLED)
        if channel is None:
            raise _Rejected(hec.CHANNEL_MISSING)
        try:
            wanted = request.json()["acks"]
            ids = [int(a) for a in wanted]
        except (ValueError, TypeError, KeyError):
            raise _Rejected(hec.INVALID_DATA_FORMAT) from None
        now = time.monotonic()
        answer: dict[str, bool] = {}
        with self._ack_lock:
            issued = self._acks.get(channel, {})
            for ack_id in ids:
                ready = issued.get(ack_id, math.inf) <= now
                answer[str(ack_id)] = ready
                if ready:
                    del issued[ack_id]  # Splunk forgets an ack once it has reported it true
        return Response(200, {"acks": answer})


def main(argv: list[str] | None = None) -> None:
    parser = server_arguments(__doc__.split("\n")[0], 8088)
    parser.add_argument("--token", action="append", required=True, help="accepted token value")
    parser.add_argument("--indexes", default="", help="allowed indexes, comma-separated")
    parser.add_argument("--default-index", default="main")
    parser.add_argument("--ack", action="store_true", help="tokens use indexer acknowledgement")
    args = parser.parse_args(argv)
    indexes = tuple(i.strip() for i in args.indexes.split(",") if i.strip())
    spec = TokenSpec("cli", indexes, args.default_index, args.ack)
    emulator = HecEmulator(dict.fromkeys(args.token, spec), **server_options(args))
    serve_until_interrupted(emulator.start(), "Splunk HEC emulator")


if __name__ == "__main__":
    main()
