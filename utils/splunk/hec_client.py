"""Splunk HTTP Event Collector client: batching, bounded retries, partial failures, acks.

Why it looks the way it does:

- **Batches** are concatenated JSON envelopes (HEC's native batch format) of at most
  1,000,000 bytes and 1000 events. Splunk Cloud documents a 1 MB request limit; reading it
  as 10^6 bytes keeps us under both that and the 1 MiB of the issue.
- **Retries** cover what can heal by itself: 408/429/5xx and connection failures. Waits
  double from ``backoff_base`` up to ``backoff_max``; a ``Retry-After`` header is honoured as
  *seconds* (never as an epoch; an HTTP-date falls back to our own backoff). If the server
  asks for longer than ``max_retry_after`` or the total wait would exceed ``budget_seconds``,
  the client gives up at once rather than hammer a server that asked for patience or stall
  CE's pull: the caller's outbox keeps the events for the next pull.
- **Configuration faults** (token, index, URL, TLS, acknowledgement) are never retried: they
  raise ``HecConfigError`` naming the manifest field and the fix.
- **One bad event** does not sink its batch: HEC indexes the events before the one it names
  in ``invalid-event-number``; that event is reported unsendable and the rest are resent.
  A 400/413 without a position is bisected until the culprit is isolated.
- **Indexer acknowledgement**: every request carries a channel (a token with acks enabled
  refuses requests without one, code 10); with ``use_ack`` the client polls
  ``/services/collector/ack`` for the ``ackId``s it was given, within ``AckPolicy.timeout``.
- **Secrets**: the token only ever travels in the ``Authorization`` header. It is absent from
  ``repr``, messages and ``detail``; requests' exceptions are described, redacted, and never
  chained (they can carry proxy URLs with credentials).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import requests

from ..redaction import redact
from ..text import inert_json_text
from ..transport_errors import proxy_reason, ssl_reason
from . import hec_protocol as hec
from .errors import (
    HecConfigError,
    HecError,
    HecRequestError,
    HecUnavailableError,
    Rejection,
    SendResult,
)

DEFAULT_MAX_BATCH_BYTES: Final = 1_000_000
DEFAULT_MAX_BATCH_EVENTS: Final = 1000
_RETRYABLE_STATUSES: Final = frozenset({408, 429})
_EXCERPT_CHARS: Final = 200

# Manifest labels of the fields a configuration error can point at.
FIELD_URL: Final = "HEC URL"
FIELD_TOKEN: Final = "HEC Token"  # noqa: S105 - a field label, not a secret
FIELD_INDEX: Final = "Index"
FIELD_ACK: Final = "Use Indexer Acknowledgement"


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may keep trying; bounded in attempts and in total wait."""

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    budget_seconds: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Wait after failed attempt ``attempt`` (1-based) when the server did not say."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class AckPolicy:
    """How long to wait for indexer acknowledgements, polling with growing intervals."""

    timeout: float = 30.0
    poll_initial: float = 0.5
    poll_max: float = 5.0


@dataclass(frozen=True)
class HecEvent:
    """One serialized HEC envelope and the alert id it is reported under."""

    key: str
    body: bytes

    @classmethod
    def from_envelope(cls, key: str, envelope: Mapping[str, Any]) -> HecEvent:
        return cls(key, encode_envelope(envelope))


@dataclass(frozen=True)
class HealthStatus:
    """The answer of ``/services/collector/health`` (or why there was none)."""

    healthy: bool
    status: int | None
    code: int | None
    text: str


def encode_envelope(envelope: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; values JSON cannot carry (datetimes in rawData) become strings.

    The JSON text is made inert on the way (``utils/text.inert_json_text``; a no-op for what
    ``to_envelope`` built), so no value, e.g. a lone surrogate, can make the encoding fail.
    C0 controls leave as JSON escapes (``\\u0000``): escaping them visibly in an alert's
    values is ``to_envelope``'s work, done before.
    """
    text = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str)
    return inert_json_text(text).encode()


def iter_batches(
    events: Iterable[HecEvent],
    max_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    max_events: int = DEFAULT_MAX_BATCH_EVENTS,
) -> Iterator[list[HecEvent]]:
    """Greedy batches in order, each within both limits (bodies are newline-joined).

    An event larger than ``max_bytes`` on its own is yielded alone; the client rejects it
    locally instead of sending a request HEC would refuse with 413.
    """
    batch: list[HecEvent] = []
    size = 0
    for event in events:
        added = len(event.body) + (1 if batch else 0)
        if batch and (size + added > max_bytes or len(batch) >= max_events):
            yield batch
            batch, size, added = [], 0, len(event.body)
        batch.append(event)
        size += added
    if batch:
        yield batch


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as delta-seconds; anything else (HTTP-date, junk, negative) is None.

    Official CE plugins have read it as an epoch and slept for decades; a large number here
    is simply more than ``max_retry_after`` and makes the client give up politely.
    """
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def normalise_base_url(url: str) -> str:
    """The collector's base URL; a pasted full endpoint (``.../services/collector/event``) is
    trimmed, since admins copy it from Splunk's docs more often than not."""
    base = url.strip().rstrip("/")
    for suffix in (hec.EVENT_PATH, "/services/collector/raw", "/services/collector"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HecConfigError(
            FIELD_URL,
            "enter the collector's base URL with http:// or https://, "
            "e.g. https://splunk.example.com:8088.",
        )
    if parts.username or parts.password:
        raise HecConfigError(
            FIELD_URL, "remove the user name and password from the URL; HEC authenticates by token."
        )
    return base


def check_token_format(token: str) -> None:
    """Reject tokens requests would refuse as a header value (its error would quote it)."""
    if not token:
        raise HecConfigError(FIELD_TOKEN, "enter the HEC token (required when HEC URL is set).")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in token):
        raise HecConfigError(
            FIELD_TOKEN,
            "the value contains spaces, line breaks or control characters; paste the token "
            "value alone (without the 'Splunk ' prefix).",
        )


@dataclass(frozen=True)
class _Reply:
    """A parsed HEC response: Splunk's ``{"text","code",...}`` body when there is one."""

    status: int
    code: int | None
    text: str
    invalid_event_number: int | None
    ack_id: int | None
    acks: Mapping[str, Any] | None
    retry_after: float | None

    @property
    def retryable(self) -> bool:
        return self.status in _RETRYABLE_STATUSES or self.status >= 500

    def describe(self) -> str:
        if self.code is not None:
            return f"HTTP {self.status}, {hec.describe(self.code)}"
        return f"HTTP {self.status}" + (f": {self.text}" if self.text else "")


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class HecClient:
    """Sends HEC envelopes to one collector with one token; see the module docstring."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        user_agent: str,
        proxies: Mapping[str, str] | None,
        verify: bool | str,
        index: str = "",
        use_ack: bool = False,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        ack: AckPolicy | None = None,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        max_batch_events: int = DEFAULT_MAX_BATCH_EVENTS,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        channel: str | None = None,
        defer_acks: bool = False,
    ) -> None:
        check_token_format(token)
        self._base = normalise_base_url(url)
        self._token = token
        self._proxies = dict(proxies or {})
        self._secrets = (token, *(v for v in self._proxies.values() if v))
        self._verify = verify
        self._user_agent = user_agent
        self.index = index
        self.use_ack = use_ack
        self._timeout = (connect_timeout, timeout)
        self._retry = retry or RetryPolicy()
        self._ack = ack or AckPolicy()
        self.max_batch_bytes = max_batch_bytes
        self.max_batch_events = max_batch_events
        self._session = session or requests.Session()
        self._sleep = sleep
        self._monotonic = monotonic
        # One channel per client: HEC ties ackIds to it, and a token with acknowledgement
        # enabled refuses requests without one even when we do not ask for acks.
        self.channel = channel or str(uuid.uuid4())
        # With use_ack: return the ackIds of accepted batches (SendResult.awaiting) instead
        # of polling for them inside send; the caller keeps the channel and asks later.
        self.defer_acks = defer_acks

    def __repr__(self) -> str:
        return f"HecClient(url={self._base!r}, index={self.index!r}, use_ack={self.use_ack})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HecClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- sending

    def send(self, events: Sequence[HecEvent]) -> SendResult:
        """Deliver ``events`` in batches; with ``use_ack``, wait for their acknowledgement.

        Raises a ``HecError`` when delivery cannot go on (configuration, outage after the
        retries); its ``partial`` holds what was delivered or rejected before that.
        """
        result = SendResult()
        awaiting: dict[int, list[str]] = {}
        try:
            for batch in iter_batches(events, self.max_batch_bytes, self.max_batch_events):
                self._deliver_batch(batch, result, awaiting)
            if awaiting and self.defer_acks:
                result.awaiting.update(awaiting)
                awaiting.clear()
            elif awaiting:
                acked = self.wait_for_acks(list(awaiting))
                for ack_id, keys in awaiting.items():
                    (result.delivered if ack_id in acked else result.unacknowledged).extend(keys)
                awaiting.clear()
        except HecError as error:
            result.unacknowledged.extend(key for keys in awaiting.values() for key in keys)
            error.partial = result
            raise
        return result

    def _deliver_batch(
        self, batch: list[HecEvent], result: SendResult, awaiting: dict[int, list[str]]
    ) -> None:
        chunks = [batch]
        while chunks:
            chunk = chunks.pop()
            if len(chunk) == 1 and len(chunk[0].body) > self.max_batch_bytes:
                result.rejected.append(
                    Rejection(
                        chunk[0].key,
                        None,
                        f"the event is {len(chunk[0].body)} bytes, more than the "
                        f"{self.max_batch_bytes}-byte request limit",
                    )
                )
                continue
            keys = [event.key for event in chunk]
            reply = self._request("POST", hec.EVENT_PATH, b"\n".join(e.body for e in chunk))
            if reply.status == 200:
                if self.use_ack and reply.ack_id is not None:
                    awaiting[reply.ack_id] = keys
                else:
                    result.delivered.extend(keys)
                continue
            self._raise_for_configuration(reply)
            position = reply.invalid_event_number
            if reply.status == 400 and position is not None and 0 <= position < len(chunk):
                # HEC indexed the events before ``position``; with acks on, an error reply
                # carries no ackId, so they count as delivered on HEC's word.
                result.delivered.extend(keys[:position])
                result.rejected.append(Rejection(keys[position], reply.code, reply.describe()))
                if position + 1 < len(chunk):
                    chunks.append(chunk[position + 1 :])
            elif reply.status in (400, 413) and len(chunk) > 1:
                middle = len(chunk) // 2
                chunks.extend((chunk[middle:], chunk[:middle]))
            elif reply.status in (400, 413):
                result.rejected.append(Rejection(keys[0], reply.code, reply.describe()))
            else:
                raise HecRequestError(
                    f"Splunk HEC refused the events ({reply.describe()}).",
                    status=reply.status,
                    code=reply.code,
                )

    def acknowledged(self, ack_ids: Sequence[int]) -> set[int]:
        """One query: which of ``ack_ids`` (of this channel) are indexed now. An id Splunk no
        longer knows (its channel was cleaned up) reads as not indexed."""
        reply = self._request("POST", hec.ACK_PATH, json.dumps({"acks": sorted(ack_ids)}).encode())
        if reply.status != 200:
            self._raise_for_configuration(reply)
            raise HecRequestError(
                f"Splunk HEC refused the acknowledgement query ({reply.describe()}).",
                status=reply.status,
                code=reply.code,
            )
        return {
            int(ack_id)
            for ack_id, indexed in (reply.acks or {}).items()
            if indexed is True and str(ack_id).isdigit()
        }

    def wait_for_acks(self, ack_ids: Sequence[int]) -> set[int]:
        """Poll the ack endpoint until every id is indexed or ``AckPolicy.timeout`` passes."""
        pending = set(ack_ids)
        acked: set[int] = set()
        deadline = self._monotonic() + self._ack.timeout
        interval = self._ack.poll_initial
        while pending:
            acked |= self.acknowledged(sorted(pending))
            pending -= acked
            remaining = deadline - self._monotonic()
            if not pending or remaining <= 0:
                break
            self._sleep(min(interval, remaining))
            interval = min(interval * 2, self._ack.poll_max)
        return acked

    # ----------------------------------------------------------------- probes

    def check_health(self) -> HealthStatus:
        """``/services/collector/health``: needs no token, so none is sent. One attempt."""
        try:
            response = self._session.get(
                self._base + hec.HEALTH_PATH,
                headers={"User-Agent": self._user_agent},
                proxies=self._proxies,
                verify=self._verify,
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            return HealthStatus(False, None, None, self._describe_exception(error))
        reply = self._parse(response)
        return HealthStatus(reply.status == 200, reply.status, reply.code, reply.text)

    def probe_token(self) -> None:
        """Check the token without writing anything: an empty POST to the event endpoint.

        Splunk authenticates before it reads the body, so a valid token gets ``400, code 5
        No data`` and a bad one ``401/403`` with codes 1-4 (AWS Firehose probes HEC the same
        way). Receivers that accept an empty body with 200 pass too.
        """
        reply = self._request("POST", hec.EVENT_PATH, b"", attempts=1)
        if reply.status == 200 or reply.code == hec.NO_DATA.code:
            return
        self._raise_for_configuration(reply)
        raise HecRequestError(
            f"Splunk HEC answered the token check with {reply.describe()}.",
            status=reply.status,
            code=reply.code,
        )

    def probe_ack(self) -> None:
        """Check that the token has indexer acknowledgement on (code 14 when it has not)."""
        reply = self._request("POST", hec.ACK_PATH, b'{"acks":[0]}', attempts=1)
        if reply.status == 200:
            return
        self._raise_for_configuration(reply)
        raise HecRequestError(
            f"Splunk HEC answered the acknowledgement check with {reply.describe()}.",
            status=reply.status,
            code=reply.code,
        )

    def probe_index(self, envelope: Mapping[str, Any]) -> None:
        """Send one small, clearly labelled event to prove the index accepts this token.

        HEC has no read-only way to test an index: only a real event is checked against the
        token's allowed indexes. The caller builds the (tiny, searchable-away) envelope.
        """
        reply = self._request("POST", hec.EVENT_PATH, encode_envelope(envelope), attempts=1)
        if reply.status == 200:
            return
        self._raise_for_configuration(reply)
        raise HecRequestError(
            f"Splunk HEC refused the index check event ({reply.describe()}).",
            status=reply.status,
            code=reply.code,
        )

    # ----------------------------------------------------------------- transport

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Splunk {self._token}",
            "User-Agent": self._user_agent,
            "Content-Type": "application/json",
            hec.CHANNEL_HEADER: self.channel,
        }

    def _request(self, method: str, path: str, body: bytes, attempts: int | None = None) -> _Reply:
        """One HEC call with bounded retries of transient failures; see the module docstring."""
        policy = self._retry
        max_attempts = attempts or policy.max_attempts
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            reply: _Reply | None = None
            detail: str | None = None
            try:
                response = self._session.request(
                    method,
                    self._base + path,
                    data=body,
                    headers=self._headers(),
                    proxies=self._proxies,
                    verify=self._verify,
                    timeout=self._timeout,
                )
            except requests.exceptions.SSLError as error:
                raise HecConfigError(
                    FIELD_URL,
                    "the TLS connection to Splunk HEC failed "
                    f"({self._describe_exception(error)}). Use the certificate's host name, "
                    "or add the issuing CA to Cloud Exchange's trusted certificates.",
                    detail=self._redact(str(error)),
                ) from None
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as error:
                reason = self._describe_exception(error)
                detail = self._redact(str(error))
            except requests.RequestException as error:
                raise HecRequestError(
                    f"The request to Splunk HEC could not be made ({type(error).__name__}).",
                    detail=self._redact(str(error)),
                ) from None
            else:
                reply = self._parse(response)
                if not reply.retryable:
                    return reply
                reason = reply.describe()
            status = reply.status if reply else None
            code = reply.code if reply else None
            retry_after = reply.retry_after if reply else None
            if attempt >= max_attempts:
                raise HecUnavailableError(
                    f"Splunk HEC did not accept the request after {attempt} attempt(s); "
                    f"last answer: {reason}.",
                    attempts=attempt,
                    status=status,
                    code=code,
                    retry_after=retry_after,
                    detail=detail,
                ) from None
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise HecUnavailableError(
                    f"Splunk HEC asked to retry after {retry_after:g} s ({reason}), longer "
                    f"than the {policy.max_retry_after:g} s a pull waits.",
                    attempts=attempt,
                    status=status,
                    code=code,
                    retry_after=retry_after,
                ) from None
            delay = retry_after if retry_after is not None else policy.backoff(attempt)
            if waited + delay > policy.budget_seconds:
                raise HecUnavailableError(
                    f"Splunk HEC still failing after {attempt} attempt(s) and {waited:g} s of "
                    f"waiting; last answer: {reason}.",
                    attempts=attempt,
                    status=status,
                    code=code,
                    retry_after=retry_after,
                    detail=detail,
                ) from None
            self._sleep(delay)
            waited += delay

    def _parse(self, response: requests.Response) -> _Reply:
        body: Any = None
        try:
            body = response.json()
        except ValueError:
            body = None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if not isinstance(body, dict):
            excerpt = " ".join(response.text[:_EXCERPT_CHARS].split())
            text = self._redact(excerpt)
            return _Reply(response.status_code, None, text, None, None, None, retry_after)
        acks = body.get("acks")
        return _Reply(
            status=response.status_code,
            code=_int_or_none(body.get("code")),
            text=self._redact(str(body.get("text", ""))),
            invalid_event_number=_int_or_none(body.get("invalid-event-number")),
            ack_id=_int_or_none(body.get("ackId")),
            acks=acks if isinstance(acks, dict) else None,
            retry_after=retry_after,
        )

    def _raise_for_configuration(self, reply: _Reply) -> None:
        """Turn an answer that only the admin can fix into ``HecConfigError``."""
        code, status = reply.code, reply.status
        what = reply.describe()
        if code == hec.TOKEN_DISABLED.code:
            raise HecConfigError(
                FIELD_TOKEN,
                f"Splunk says the token is disabled ({what}). Enable it under Settings > Data "
                "inputs > HTTP Event Collector, or enter an enabled token.",
                status=status,
                code=code,
            )
        if code in hec.TOKEN_CODES or (code is None and status in (401, 403)):
            raise HecConfigError(
                FIELD_TOKEN,
                f"Splunk rejected the token ({what}). Copy the token value from Settings > "
                "Data inputs > HTTP Event Collector (the value alone, without 'Splunk ').",
                status=status,
                code=code,
            )
        if code == hec.INCORRECT_INDEX.code:
            index = f"'{self.index}'" if self.index else "the token's default index"
            raise HecConfigError(
                FIELD_INDEX,
                f"Splunk refused index {index} ({what}): it does not exist or is not among "
                "the token's allowed indexes. Add it to the token's Selected Indexes, or "
                "enter an allowed index.",
                status=status,
                code=code,
            )
        if code == hec.ACK_DISABLED.code:
            raise HecConfigError(
                FIELD_ACK,
                f"indexer acknowledgement is disabled on this token ({what}). Enable it on "
                "the token in Splunk, or set Use Indexer Acknowledgement to No.",
                status=status,
                code=code,
            )
        if code in (hec.CHANNEL_MISSING.code, hec.INVALID_CHANNEL.code):
            raise HecConfigError(
                FIELD_ACK,
                f"Splunk did not accept the request channel ({what}). A proxy may be "
                "stripping the X-Splunk-Request-Channel header; allow it through.",
                status=status,
                code=code,
            )
        if status in (404, 405):
            raise HecConfigError(
                FIELD_URL,
                f"nothing answers at {self._base}/services/collector ({what}). Enter the "
                "collector's base URL, e.g. https://splunk.example.com:8088, and check "
                "that HTTP Event Collector is enabled (Global Settings).",
                status=status,
                code=code,
            )

    def _describe_exception(self, error: requests.RequestException) -> str:
        """A short, secret-free phrase for a transport failure (the class says most of it)."""
        if isinstance(error, requests.exceptions.SSLError):
            return f"TLS failed: {ssl_reason(error)}"
        if isinstance(error, requests.exceptions.ProxyError):
            return f"the proxy refused or could not reach the collector ({proxy_reason(error)})"
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return f"no connection within {self._timeout[0]:g} s"
        if isinstance(error, requests.exceptions.ReadTimeout):
            return f"no answer within {self._timeout[1]:g} s"
        if isinstance(error, requests.ConnectionError):
            return "the connection failed or was dropped (refused, reset or name not resolved)"
        return type(error).__name__

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)[:1000]


__all__ = [
    "AckPolicy",
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_BATCH_EVENTS",
    "HealthStatus",
    "HecClient",
    "HecEvent",
    "RetryPolicy",
    "encode_envelope",
    "iter_batches",
    "normalise_base_url",
    "parse_retry_after",
]
