"""Local AWS: moto in server mode on 127.0.0.1, driven over real HTTP by boto3.

The plugin reaches it through boto3's standard ``AWS_ENDPOINT_URL`` setting, so plugin
code is exactly what runs against AWS. ``MotoServer`` runs moto either in a thread of
this process (tests, demo) or as a separate process (soak runs that kill the runner).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Credentials moto accepts; they are not secrets and never leave this machine.
DEMO_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key id
DEMO_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - documented example
DEMO_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MotoServer:
    """A moto server on 127.0.0.1 (thread or subprocess) with reset and env helpers."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread_server: Any = None
        self._process: subprocess.Popen[bytes] | None = None

    def start_thread(self) -> MotoServer:
        from moto.server import ThreadedMotoServer

        self._thread_server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=self.port, verbose=False
        )
        self._thread_server.start()
        self._wait_ready()
        return self

    def start_process(self, extra_env: dict[str, str] | None = None) -> MotoServer:
        env = {**os.environ, **(extra_env or {})}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"moto server did not start on {self.endpoint}")

    def reset(self) -> None:
        """Forget every resource (moto's /moto-api/reset)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        if self._thread_server is not None:
            self._thread_server.stop()
            self._thread_server = None
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def env(self) -> dict[str, str]:
        """Environment that points boto3 (and so the plugin) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": DEMO_REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


@contextmanager
def patched_env(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, restoring them after."""
    saved = {key: os.environ.get(key) for key in values}
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        saved.setdefault(key, os.environ.get(key))
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
