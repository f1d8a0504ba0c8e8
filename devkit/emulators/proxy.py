"""A forward HTTP proxy on 127.0.0.1 that records what went through it, for transport tests.

It speaks both ways clients use a proxy:

- **absolute-URI requests** (``GET http://host:port/path HTTP/1.1``) for plain-HTTP targets
  (moto, a plain HEC): the request is forwarded to the target and the answer relayed back;
- **CONNECT host:port** for HTTPS targets: a TCP tunnel, so TLS stays end to end and the
  proxy only learns the target.

Options: Basic proxy authentication (``username``/``password``: a request without the right
``Proxy-Authorization`` gets ``407`` with ``Proxy-Authenticate``) and ``hosts``, a name → address
table the proxy resolves with before DNS. A test points a client at a name only the proxy can
resolve (``moto.invalid``; RFC 2606 guarantees ``.invalid`` never resolves), so any request that
bypasses the proxy fails instead of silently succeeding.

Every request is recorded (``records``): method, target ``host:port``, path (never the query
string), the AWS service and Region named in a SigV4 ``Authorization`` scope (plain HTTP only),
whether proxy credentials were sent and accepted, and the status the proxy answered. Header
values, bodies and the credentials themselves are never kept.

Run it alone: ``python -m devkit.emulators.proxy --port 3128 [--user U --password P]``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import http.client
import re
import selectors
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from .serving import BackgroundServer, QuietHandler, QuietServer

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
_SIGV4_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


@dataclass(frozen=True)
class ProxyRecord:
    """One request the proxy received (nothing secret: no header values, no query, no body)."""

    method: str
    target: str  # host:port
    path: str  # "" for CONNECT
    credentials_sent: bool
    authorized: bool
    status: int
    aws_service: str | None = None
    aws_region: str | None = None


class ProxyEmulator(BackgroundServer):
    """See the module docstring."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        username: str | None = None,
        password: str | None = None,
        hosts: Mapping[str, str] | None = None,
        upstream_timeout: float = 10.0,
    ) -> None:
        super().__init__("proxy emulator")
        self.host = host
        self._requested_port = port
        self.username = username
        self.password = password
        self.hosts = {k.lower(): v for k, v in (hosts or {}).items()}
        self.upstream_timeout = upstream_timeout
        self._records: list[ProxyRecord] = []
        self._lock = threading.Lock()
        self._tunnels: set[socket.socket] = set()
        self.stopping = threading.Event()

    # ----------------------------------------------------------------- lifecycle

    def _build(self) -> _ProxyServer:
        server = _ProxyServer((self.host, self._requested_port), _ProxyHandler)
        server.proxy = self
        self.stopping.clear()
        return server

    def stop(self) -> None:
        self.stopping.set()
        with self._lock:
            tunnels = list(self._tunnels)
        for sock in tunnels:
            with contextlib.suppress(OSError):
                sock.close()
        super().stop()

    # ----------------------------------------------------------------- addresses

    def url(self, *, username: str | None = None, password: str | None = None) -> str:
        """``http://[user:password@]127.0.0.1:<port>``; credentials default to the configured."""
        user = self.username if username is None else username
        secret = self.password if password is None else password
        auth = f"{quote(user, safe='')}:{quote(secret or '', safe='')}@" if user else ""
        return f"http://{auth}{self.host}:{self.port}"

    def proxies(self, **credentials: str) -> dict[str, str]:
        """CE's proxy settings shape: the same proxy for http and https."""
        url = self.url(**credentials)
        return {"http": url, "https": url}

    # ----------------------------------------------------------------- inspection

    @property
    def records(self) -> list[ProxyRecord]:
        with self._lock:
            return list(self._records)

    def targets(self) -> set[str]:
        return {r.target for r in self.records}

    def aws_services(self) -> set[str]:
        return {r.aws_service for r in self.records if r.aws_service}

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    def record(self, entry: ProxyRecord) -> None:
        with self._lock:
            self._records.append(entry)

    # ----------------------------------------------------------------- plumbing

    def check_credentials(self, header: str | None) -> tuple[bool, bool]:
        """``(sent, accepted)`` for a ``Proxy-Authorization`` header value."""
        if header is None:
            return False, self.username is None
        if self.username is None:
            return True, True
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return True, False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return True, False
        return True, decoded == f"{self.username}:{self.password or ''}"

    def resolve(self, host: str) -> str:
        return self.hosts.get(host.lower(), host)

    def track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._tunnels.add if add else self._tunnels.discard)(sock)


class _ProxyServer(QuietServer):
    proxy: ProxyEmulator


def _split_target(target: str, default_port: int) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) of a CONNECT request line."""
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port.isdigit() else default_port
    host, sep, port = target.rpartition(":")
    if sep and port.isdigit():
        return host, int(port)
    return target, default_port


class _ProxyHandler(QuietHandler):
    server: _ProxyServer

    # ----------------------------------------------------------------- CONNECT

    def do_CONNECT(self) -> None:
        proxy = self.server.proxy
        host, port = _split_target(self.path, 443)
        target = f"{host}:{port}"
        sent, accepted = proxy.check_credentials(self.headers.get("Proxy-Authorization"))
        if not accepted:
            proxy.record(ProxyRecord("CONNECT", target, "", sent, False, 407))
            self._refuse(close=True)
            return
        try:
            upstream = socket.create_connection(
                (proxy.resolve(host), port), timeout=proxy.upstream_timeout
            )
        except OSError:
            proxy.record(ProxyRecord("CONNECT", target, "", sent, True, 502))
            self._plain(502, "Bad Gateway", close=True)
            return
        proxy.record(ProxyRecord("CONNECT", target, "", sent, True, 200))
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        self._relay(upstream)

    def _relay(self, upstream: socket.socket) -> None:
        proxy = self.server.proxy
        client = self.connection
        proxy.track(client, True)
        proxy.track(upstream, True)
        selector = selectors.DefaultSelector()
        try:
            client.setblocking(False)
            upstream.setblocking(False)
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while not proxy.stopping.is_set():
                for key, _ in selector.select(timeout=0.2):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = source.recv(65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        return
                    key.data.setblocking(True)
                    key.data.sendall(data)
                    key.data.setblocking(False)
        except OSError:
            return
        finally:
            selector.close()
            proxy.track(client, False)
            proxy.track(upstream, False)
            with contextlib.suppress(OSError):
                upstream.close()

    # ----------------------------------------------------------------- absolute-URI

    def _dispatch(self) -> None:
        proxy = self.server.proxy
        body = self._read_body()
        parts = urlsplit(self.path)
        if parts.scheme != "http" or not parts.hostname:
            self._plain(400, "Bad Request: a proxy expects an absolute http:// URI")
            return
        port = parts.port or 80
        target = f"{parts.hostname}:{port}"
        scope = _SIGV4_SCOPE.search(self.headers.get("Authorization", ""))
        service = scope.group(2) if scope else None
        region = scope.group(1) if scope else None
        sent, accepted = proxy.check_credentials(self.headers.get("Proxy-Authorization"))
        if not accepted:
            proxy.record(
                ProxyRecord(self.command, target, parts.path, sent, False, 407, service, region)
            )
            self._refuse(close=False)
            return
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            upstream = http.client.HTTPConnection(
                proxy.resolve(parts.hostname), port, timeout=proxy.upstream_timeout
            )
            upstream.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    upstream.putheader(name, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body or None)
            answer = upstream.getresponse()
            payload = answer.read()
            headers = answer.getheaders()
            status, reason = answer.status, answer.reason
            upstream.close()
        except OSError:
            proxy.record(
                ProxyRecord(self.command, target, parts.path, sent, True, 502, service, region)
            )
            self._plain(502, "Bad Gateway")
            return
        proxy.record(
            ProxyRecord(self.command, target, parts.path, sent, True, status, service, region)
        )
        self.send_response(status, reason)
        for name, value in headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or (lower == "content-length" and self.command != "HEAD"):
                continue
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    # ----------------------------------------------------------------- answers

    def _refuse(self, *, close: bool) -> None:
        self._plain(
            407,
            "Proxy Authentication Required",
            close=close,
            headers={"Proxy-Authenticate": 'Basic realm="devkit proxy"'},
        )

    def _plain(
        self, status: int, text: str, *, close: bool = False, headers: dict[str, str] | None = None
    ) -> None:
        payload = text.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3128)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument(
        "--map", action="append", default=[], help="NAME=ADDRESS resolved by the proxy only"
    )
    args = parser.parse_args(argv)
    hosts = dict(item.split("=", 1) for item in args.map)
    proxy = ProxyEmulator(
        args.host, args.port, username=args.user, password=args.password, hosts=hosts
    ).start()
    print(
        f"forward proxy listening on http://{args.host}:{proxy.port} (Ctrl-C to stop)", flush=True
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()


__all__ = ["ProxyEmulator", "ProxyRecord"]
