"""The lifecycle every local stand-in shares: an HTTP server served from a daemon thread."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Self


class BackgroundServer:
    """``start()`` serves ``_build()``'s server from a daemon thread; ``stop()`` ends it.

    Usable as a context manager; ``port`` is the bound port (ask for port 0 to get a free one).
    """

    def __init__(self, thread_name: str = "local-server") -> None:
        self.thread_name = thread_name
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _build(self) -> ThreadingHTTPServer:
        raise NotImplementedError

    def start(self) -> Self:
        server = self._build()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start() if self._server is None else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self.thread_name} is not running")
        return int(self._server.server_address[1])
