"""A fault-injecting reverse proxy in front of moto (or any HTTP service): S3 and SQS outages
on demand.

The plugin reaches S3 through one (``AWS_ENDPOINT_URL_S3=<gateway URL>``) and, in the SQS
soak, SQS through another (``AWS_ENDPOINT_URL_SQS``); IAM and STS still go straight to moto,
so the soak can make one service misbehave for stretches while everything else works.
Requests are forwarded unchanged (path-style S3, SigV4 headers untouched: the gateway does
not re-sign, so the upstream sees exactly what the client signed); a request matching an
active fault is failed instead, the way the service or the network fails:

| kind | what the client sees |
|---|---|
| ``status`` | the service's error document (below) with ``status`` |
| ``drop`` | the TCP connection reset before any answer (nothing reached the service) |
| ``drop_after`` | the request reached the service, then the connection is reset (answer lost) |
| ``stall`` | nothing for ``delay`` seconds, then a reset (a hung connection, cut short) |
| ``slow`` | ``delay`` seconds of latency, then the normal answer |
| ``truncate`` | the full ``Content-Length`` announced, half the body sent, then a reset |

Error documents: for S3 an XML error (500 ``InternalError``, 503 ``SlowDown``...); for a
JSON-protocol request (SQS names its operation in ``X-Amz-Target``) an
``application/x-amz-json-1.0`` error with ``__type`` and the query-compatible code in
``x-amzn-query-error`` (500 ``InternalFailure``, 503 ``ServiceUnavailable``, 400
``RequestThrottled``); ``code`` overrides the code either way.

A fault: ``{"kind", "rate": 1.0, "count": null, "duration": null, "methods": [], "match": [],
"operations": [], "status": 503, "code": null, "delay": 0.0}``. ``rate`` is the share of
matching requests failed (drawn from a seeded generator), ``count`` caps how many (``null``:
no cap), ``duration`` seconds bounds its life, ``methods`` (``GET``, ``HEAD``...), ``match``
(substrings of the path and query: ``"list-type=2"`` is ListObjectsV2, ``"/AWSLogs/"`` the
trail objects) and ``operations`` (the operation names of the statistics: ``GetObject``,
``ReceiveMessage``, ``DeleteMessageBatch``...) narrow which requests it applies to. The first
matching active fault wins.

Control (JSON over HTTP, like the other emulators): ``GET/POST/DELETE /_emulator/faults``,
``GET /_emulator/stats`` (requests forwarded and failed, by kind and operation),
``POST /_emulator/reset``. Standalone:
``python -m devkit.emulators.faulty_gateway --upstream http://127.0.0.1:5000 --port 8099``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .serving import BackgroundServer, QuietHandler, QuietServer

CONTROL_PREFIX = "/_emulator"
KINDS = frozenset({"status", "drop", "drop_after", "stall", "slow", "truncate"})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
S3_ERRORS: Mapping[int, tuple[str, str]] = {
    500: ("InternalError", "We encountered an internal error. Please try again."),
    502: ("BadGateway", "Bad Gateway"),
    503: ("SlowDown", "Please reduce your request rate."),
    504: ("GatewayTimeout", "Gateway Timeout"),
}
# What SQS (AWS JSON 1.0 with query-compatible codes) answers for a status; ``code`` overrides.
JSON_ERRORS: Mapping[int, str] = {
    400: "RequestThrottled",
    500: "InternalFailure",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
JSON_ERROR_MESSAGES: Mapping[str, str] = {
    "RequestThrottled": "Rate exceeded",
    "InternalFailure": "The request processing has failed because of an unknown error.",
    "ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
}


class BadGatewayFault(ValueError):
    """A fault specification the gateway does not understand."""


@dataclass
class GatewayFault:
    """One failure rule; see the module docstring."""

    kind: str
    rate: float = 1.0
    count: int | None = None
    duration: float | None = None
    methods: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    status: int = 503
    code: str | None = None
    delay: float = 0.0
    expires_at: float | None = None
    applied: int = 0

    _FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "kind",
            "rate",
            "count",
            "duration",
            "methods",
            "match",
            "operations",
            "status",
            "code",
            "delay",
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GatewayFault:
        if not isinstance(data, Mapping) or data.get("kind") not in KINDS:
            raise BadGatewayFault(f"a fault is an object whose 'kind' is one of {sorted(KINDS)}")
        unknown = set(data) - cls._FIELDS
        if unknown:
            raise BadGatewayFault(f"unknown fault fields: {sorted(unknown)}")
        values = dict(data)
        values["methods"] = tuple(str(m).upper() for m in values.get("methods") or ())
        values["match"] = tuple(str(m) for m in values.get("match") or ())
        values["operations"] = tuple(str(m) for m in values.get("operations") or ())
        fault = cls(**values)
        if not 0.0 <= fault.rate <= 1.0:
            raise BadGatewayFault("rate is a share between 0 and 1")
        return fault

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rate": self.rate,
            "count": self.count,
            "duration": self.duration,
            "methods": list(self.methods),
            "match": list(self.match),
            "operations": list(self.operations),
            "status": self.status,
            "code": self.code,
            "delay": self.delay,
            "applied": self.applied,
        }

    def matches(self, method: str, target: str, operation: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        if self.operations and operation not in self.operations:
            return False
        return not self.match or any(part in target for part in self.match)


@dataclass
class GatewayStats:
    """What went through: forwarded requests by operation, failures by kind and operation."""

    forwarded: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    upstream_errors: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "forwarded": dict(self.forwarded),
            "failed": dict(self.failed),
            "upstream_errors": self.upstream_errors,
        }


def s3_operation(method: str, target: str) -> str:
    """A coarse S3 operation name for the statistics (path-style requests)."""
    parts = urlsplit(target)
    segments = [s for s in parts.path.split("/") if s]
    if method == "GET" and len(segments) <= 1:
        return "ListObjectsV2" if "list-type=2" in parts.query else "ListBucket"
    if method == "GET":
        return "GetObject"
    if method == "HEAD":
        return "HeadObject" if len(segments) > 1 else "HeadBucket"
    if method == "PUT":
        return "PutObject" if len(segments) > 1 else "CreateBucket"
    return method


def request_operation(method: str, target: str, amz_target: str | None) -> str:
    """The operation of a request: a JSON-protocol request names it in ``X-Amz-Target``
    (``AmazonSQS.ReceiveMessage``); an S3 request is named from its method and path."""
    if amz_target:
        return amz_target.rpartition(".")[2]
    return s3_operation(method, target)


class FaultyGateway(BackgroundServer):
    """The reverse proxy; ``start()`` serves it from a daemon thread of this process."""

    def __init__(
        self, upstream: str, host: str = "127.0.0.1", port: int = 0, *, seed: int = 0
    ) -> None:
        super().__init__("faulty gateway")
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.host = host
        self._requested_port = port
        self._faults: list[GatewayFault] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.stats = GatewayStats()

    # ----------------------------------------------------------------- lifecycle

    def _build(self) -> _Server:
        server = _Server((self.host, self._requested_port), _Handler)
        server.gateway = self
        return server

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ----------------------------------------------------------------- faults

    def add_fault(self, fault: GatewayFault | Mapping[str, Any]) -> GatewayFault:
        rule = fault if isinstance(fault, GatewayFault) else GatewayFault.from_json(fault)
        if rule.kind not in KINDS:
            raise BadGatewayFault(f"unknown fault kind {rule.kind!r}")
        if rule.duration is not None:
            rule.expires_at = time.monotonic() + rule.duration
        with self._lock:
            self._faults.append(rule)
        return rule

    def add_faults(self, faults: Iterable[GatewayFault | Mapping[str, Any]]) -> list[GatewayFault]:
        return [self.add_fault(f) for f in faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def active_faults(self) -> list[GatewayFault]:
        with self._lock:
            self._expire()
            return list(self._faults)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.stats = GatewayStats()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.stats.to_json()

    def _expire(self) -> None:
        now = time.monotonic()
        self._faults[:] = [
            f
            for f in self._faults
            if (f.expires_at is None or f.expires_at > now) and (f.count is None or f.count > 0)
        ]

    def _take(self, method: str, target: str, operation: str) -> GatewayFault | None:
        with self._lock:
            self._expire()
            for fault in self._faults:
                if not fault.matches(method, target, operation):
                    continue
                if fault.rate < 1.0 and self._random.random() >= fault.rate:
                    continue
                fault.applied += 1
                if fault.count is not None:
                    fault.count -= 1
                self.stats.failed[f"{fault.kind}:{operation}"] += 1
                return fault
        return None

    def _forwarded(self, operation: str) -> None:
        with self._lock:
            self.stats.forwarded[operation] += 1

    def _upstream_failed(self) -> None:
        with self._lock:
            self.stats.upstream_errors += 1

    # ----------------------------------------------------------------- control

    def control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        name = path[len(CONTROL_PREFIX) :]
        if name == "/faults" and method == "GET":
            return 200, {"faults": [f.to_json() for f in self.active_faults()]}
        if name == "/faults" and method == "DELETE":
            self.clear_faults()
            return 200, {"faults": []}
        if name == "/faults" and method == "POST":
            try:
                data = json.loads(body or b"null")
                added = self.add_faults(data if isinstance(data, list) else [data])
            except (BadGatewayFault, TypeError, ValueError) as error:
                return 400, {"error": str(error)}
            return 200, {"added": [f.to_json() for f in added]}
        if name == "/stats" and method == "GET":
            return 200, self.snapshot()
        if name == "/reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}
        return 404, {"error": "unknown control path"}


class _Server(QuietServer):
    gateway: FaultyGateway


class _Handler(QuietHandler):
    server: _Server

    def _dispatch(self) -> None:
        gateway = self.server.gateway
        body = self._read_body()
        if self.path.startswith(CONTROL_PREFIX + "/"):
            status, answer = gateway.control(self.command, urlsplit(self.path).path, body)
            self._reply(status, json.dumps(answer).encode(), {"Content-Type": "application/json"})
            return
        amz_target = self.headers.get("X-Amz-Target")
        operation = request_operation(self.command, self.path, amz_target)
        fault = gateway._take(self.command, self.path, operation)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind == "drop":
            self._reset()
            return
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.delay)
            self._reset()
            return
        if fault is not None and fault.kind == "status":
            if amz_target:
                self._json_error(fault)
            else:
                self._s3_error(fault)
            return
        try:
            status, headers, payload = self._forward(body)
        except (OSError, http.client.HTTPException):
            gateway._upstream_failed()
            self._reply(502, b"", {})
            return
        gateway._forwarded(operation)
        if fault is not None and fault.kind == "drop_after":
            self._reset()
            return
        if fault is not None and fault.kind == "truncate" and len(payload) > 1:
            self._reply(status, payload[: len(payload) // 2], headers, length=len(payload))
            self._reset()
            return
        self._reply(status, payload, headers)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        gateway = self.server.gateway
        connection = http.client.HTTPConnection(
            gateway.upstream_host, gateway.upstream_port, timeout=120
        )
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
            ]
            return response.status, kept, payload
        finally:
            connection.close()

    def _s3_error(self, fault: GatewayFault) -> None:
        code, message = S3_ERRORS.get(fault.status, ("ServiceUnavailable", "Service Unavailable"))
        code = fault.code or code
        document = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{random.getrandbits(64):016X}</RequestId></Error>"
        ).encode()
        self._reply(fault.status, document, {"Content-Type": "application/xml"})

    def _json_error(self, fault: GatewayFault) -> None:
        """An AWS JSON 1.0 error as SQS sends it: ``__type`` and the query-compatible code
        in ``x-amzn-query-error`` (botocore reads the code from the latter)."""
        code = fault.code or JSON_ERRORS.get(fault.status, "ServiceUnavailable")
        message = JSON_ERROR_MESSAGES.get(code, "Service error")
        blame = "Sender" if fault.status < 500 else "Receiver"
        document = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-query-error": f"{code};{blame}",
            "x-amzn-RequestId": f"{random.getrandbits(128):032x}",
        }
        self._reply(fault.status, document, headers)

    def _reply(
        self,
        status: int,
        payload: bytes,
        headers: Mapping[str, str] | list[tuple[str, str]],
        *,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload) if length is None else length))
        self.end_headers()
        if payload and self.command != "HEAD":
            with contextlib.suppress(OSError):
                self.wfile.write(payload)
                self.wfile.flush()

    def _reset(self) -> None:
        """Reset the TCP connection (SO_LINGER 0): no answer, or no more of it."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000 (moto)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    gateway = FaultyGateway(args.upstream, args.host, args.port, seed=args.seed).start()
    print(f"faulty gateway on {gateway.url} -> {args.upstream} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        gateway.stop()


if __name__ == "__main__":
    main()
