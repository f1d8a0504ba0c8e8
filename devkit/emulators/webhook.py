"""A webhook endpoint on 127.0.0.1 that captures what is posted to it.

CE's official Webhook plugin POSTs each alert's rendered JSON object to a configured URL
and treats 200/201/202/204 as delivered. This capture answers 200 to a POST on any path and
keeps the path, headers (``Authorization`` masked) and JSON body of each, in ``received``
(or ``GET /_emulator/received``). A body that is not JSON is answered 400 and not kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

from devkit.emulators.base import (
    Emulator,
    Fault,
    Request,
    Response,
    serve_until_interrupted,
    server_arguments,
    server_options,
)


class WebhookCapture(Emulator):
    """See the module docstring."""

    name: ClassVar[str] = "webhook"
    default_fault_paths: ClassVar[dict[str, tuple[str, ...]]] = dict.fromkeys(
        ("status", "slow", "drop"), ("/",)
    )

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self._received: list[dict[str, Any]] = []

    def reset_state(self) -> None:
        self._received.clear()

    @property
    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self._received]

    def control(self, request: Request) -> Response | None:
        if request.method == "GET" and request.path == "/_emulator/received":
            return Response(200, {"received": self.received})
        return None

    def handle(self, request: Request, fault: Fault | None) -> Response:
        if request.method != "POST":
            return Response(405, {"error": "POST only"})
        try:
            body = request.json()
        except ValueError:
            return Response(400, {"error": "the body is not JSON"})
        headers = {
            k: ("<masked>" if k == "authorization" else v) for k, v in request.headers.items()
        }
        with self.lock:
            self._received.append({"path": request.path, "headers": headers, "json": body})
        return Response(200, {"received": True})


def main(argv: list[str] | None = None) -> None:
    parser = server_arguments(__doc__.split("\n")[0], 8445)
    args = parser.parse_args(argv)
    serve_until_interrupted(WebhookCapture(**server_options(args)).start(), "Webhook capture")


if __name__ == "__main__":
    main()
