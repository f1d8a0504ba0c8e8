"""What the local HTTP stand-ins share: a threaded server on 127.0.0.1, optional TLS,
fault injection and a request log, controllable from Python and over HTTP.

Built on ``http.server`` rather than a WSGI framework because fault injection needs the raw
socket: a *connection drop* is a TCP reset with no response at all, which is what a client
sees when a load balancer or a crashing indexer goes away mid-request.

Control endpoints (every emulator):

- ``GET /_emulator/faults`` / ``POST /_emulator/faults`` (one fault object or a list) /
  ``DELETE /_emulator/faults``
- ``GET /_emulator/requests``: method, path, status and headers of every request received
  (``Authorization`` masked), newest last
- ``POST /_emulator/reset``: forget received data, faults and the request log

A fault (JSON or ``Fault(...)``): ``{"kind": ..., "count": 1, "duration": null, "paths": [...]}``
with kinds ``status`` (``status``, ``body``, ``headers``), ``slow`` (``delay`` seconds, then
normal processing) and ``drop`` (``phase`` ``before``: nothing processed; ``after``: processed,
response lost) plus each emulator's own kinds. ``count`` requests are affected (``null`` = no
limit), for at most ``duration`` seconds when given. ``paths`` are exact paths, or prefixes
when they end with ``/``; empty means the emulator's main endpoints for that kind.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from .serving import BackgroundServer, QuietHandler, QuietServer

CONTROL_PREFIX = "/_emulator"
GENERIC_KINDS = frozenset({"status", "slow", "drop"})


class BadFault(ValueError):
    """A fault specification the emulator does not understand."""


@dataclass
class Fault:
    """One injected failure; see the module docstring for the fields."""

    kind: str
    count: int | None = 1
    duration: float | None = None
    paths: tuple[str, ...] = ()
    status: int = 503
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    phase: str = "before"
    position: int = 0
    retry_after: str | None = None
    expires_at: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        if not isinstance(data, Mapping) or not isinstance(data.get("kind"), str):
            raise BadFault("a fault is an object with a 'kind'")
        known = {f for f in cls.__dataclass_fields__ if f != "expires_at"}
        unknown = set(data) - known
        if unknown:
            raise BadFault(f"unknown fault fields: {sorted(unknown)}")
        values = dict(data)
        values["paths"] = tuple(values.get("paths") or ())
        values["headers"] = dict(values.get("headers") or {})
        if values.get("retry_after") is not None:
            values["retry_after"] = str(values["retry_after"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "duration": self.duration,
            "paths": list(self.paths),
            "status": self.status,
            "body": self.body,
            "headers": self.headers,
            "delay": self.delay,
            "phase": self.phase,
            "position": self.position,
            "retry_after": self.retry_after,
        }


class FaultPlan:
    """Faults in the order they were added; each request consumes at most one."""

    def __init__(self, kinds: Iterable[str], default_paths: Mapping[str, tuple[str, ...]]) -> None:
        self._kinds = frozenset(kinds) | GENERIC_KINDS
        self._default_paths = dict(default_paths)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in self._kinds:
            raise BadFault(f"unknown fault kind {fault.kind!r}; known: {sorted(self._kinds)}")
        if fault.phase not in ("before", "after"):
            raise BadFault("phase is 'before' or 'after'")
        if fault.duration is not None:
            fault.expires_at = time.monotonic() + fault.duration
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            self._expire()
            return list(self._faults)

    def take(self, path: str) -> Fault | None:
        """The first active fault for ``path``, with one use consumed."""
        with self._lock:
            self._expire()
            for fault in self._faults:
                paths = fault.paths or self._default_paths.get(fault.kind, ())
                if not any(_path_matches(path, pattern) for pattern in paths):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _expire(self) -> None:
        now = time.monotonic()
        self._faults[:] = [
            f
            for f in self._faults
            if (f.expires_at is None or f.expires_at > now) and (f.count is None or f.count > 0)
        ]


def _path_matches(path: str, pattern: str) -> bool:
    """A pattern ending in ``/`` is a prefix; any other pattern is an exact path."""
    return path.startswith(pattern) if pattern.endswith("/") else path == pattern


@dataclass(frozen=True)
class Request:
    """A parsed incoming request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    """What a handler answers; ``drop`` closes the connection without a response."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class Emulator(BackgroundServer):
    """A local HTTP stand-in. Subclasses implement ``handle`` and ``reset_state``."""

    fault_kinds: ClassVar[frozenset[str]] = frozenset()
    default_fault_paths: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    name: ClassVar[str] = "emulator"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
    ) -> None:
        super().__init__(f"{self.name} emulator")
        self.host = host
        self._requested_port = port
        self._tls = (str(tls_cert), str(tls_key)) if tls_cert and tls_key else None
        self.faults = FaultPlan(self.fault_kinds, self.default_fault_paths)
        self._requests: deque[dict[str, Any]] = deque(maxlen=2000)
        self.lock = threading.RLock()
        self._in_flight = 0
        self._idle = threading.Condition()

    # ----------------------------------------------------------------- lifecycle

    def _build(self) -> _Server:
        server = _Server((self.host, self._requested_port), _Handler)
        server.emulator = self
        if self._tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self._tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        return server

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    # ----------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._requests)

    def add_fault(self, fault: Fault | Mapping[str, Any]) -> Fault:
        return self.faults.add(fault if isinstance(fault, Fault) else Fault.from_json(fault))

    def reset(self, settle_timeout: float = 5.0) -> None:
        """Clear faults, then wait for requests still being served (a ``slow`` one a client
        gave up on) so they cannot land in the next test's data, then forget everything."""
        self.faults.clear()
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=settle_timeout)
        with self.lock:
            self._requests.clear()
            self.reset_state()

    # ----------------------------------------------------------------- subclass API

    def reset_state(self) -> None:
        """Forget what was received (events, records...)."""

    def handle(self, request: Request, fault: Fault | None) -> Response:
        """Answer one request; ``fault`` is an emulator-specific fault to apply, if any."""
        raise NotImplementedError

    def control(self, request: Request) -> Response | None:
        """Emulator-specific ``/_emulator/...`` endpoints; None when not one of them."""
        return None

    # ----------------------------------------------------------------- plumbing

    def _control(self, request: Request) -> Response:
        path = request.path[len(CONTROL_PREFIX) :]
        if path == "/faults" and request.method == "GET":
            return Response(200, {"faults": [f.to_json() for f in self.faults.active()]})
        if path == "/faults" and request.method == "DELETE":
            self.faults.clear()
            return Response(200, {"faults": []})
        if path == "/faults" and request.method == "POST":
            data = request.json()
            try:
                added = [self.add_fault(d) for d in (data if isinstance(data, list) else [data])]
            except (BadFault, TypeError) as error:
                return Response(400, {"error": str(error)})
            return Response(200, {"added": [f.to_json() for f in added]})
        if path == "/requests" and request.method == "GET":
            return Response(200, {"requests": self.requests})
        if path == "/reset" and request.method == "POST":
            self.reset()
            return Response(200, {"reset": True})
        answer = self.control(request)
        return answer if answer is not None else Response(404, {"error": "unknown control path"})

    def _serve(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX + "/"):
            return self._control(request)
        with self._idle:
            self._in_flight += 1
        try:
            return self._serve_with_faults(request)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _serve_with_faults(self, request: Request) -> Response:
        fault = self.faults.take(request.path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind == "drop" and fault.phase == "before":
            return Response(drop=True)
        if fault is not None and fault.kind == "status":
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            return Response(fault.status, fault.body, headers)
        response = self.handle(request, fault)
        if fault is not None and fault.kind == "drop":  # phase "after": processed, then lost
            response.drop = True
        return response

    def _log(self, request: Request, status: int | None) -> None:
        headers = {
            k: ("<masked>" if k == "authorization" else v) for k, v in request.headers.items()
        }
        with self.lock:
            self._requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "headers": headers,
                    "status": status,
                    "bytes": len(request.body),
                }
            )


class _Server(QuietServer):
    emulator: Emulator


class _Handler(QuietHandler):
    server: _Server

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
        )
        try:
            response = emulator._serve(request)
        except Exception as error:  # an emulator bug must show up as a 500, not a hang
            response = Response(500, {"error": f"emulator error: {type(error).__name__}"})
        if response.drop:
            emulator._log(request, None)
            self._abort()
            return
        emulator._log(request, response.status)
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        headers = {"Content-Type": "application/json", **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _abort(self) -> None:
        """Reset the TCP connection (SO_LINGER 0): the client gets no response at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the connection was aborted on purpose
            super().finish()


def server_arguments(description: str, default_port: int) -> argparse.ArgumentParser:
    """The command-line options every emulator shares (host, port, TLS)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    return parser


def server_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "host": args.host,
        "port": args.port,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
    }


def serve_until_interrupted(emulator: Emulator, label: str) -> None:
    """Run a started emulator in the foreground (``python -m ...``) until Ctrl-C."""
    print(f"{label} listening on {emulator.url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


def first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None
