"""The outbound HTTP client for partner webhooks (urllib3).

Every call: the URL is checked and resolved by :func:`teamcal.partners.urls.resolve` (every
address must pass); the connection goes to a checked address with the partner's host name in the
Host header and, for https, in SNI and the certificate check; redirects are never followed (a
3xx is an error); an answer larger than :data:`MAX_RESPONSE_BYTES` is cut off and refused.

Deadlines: connecting (TCP and TLS) may take :data:`CONNECT_SECONDS`; the whole exchange, from
the first byte sent to the last byte of the answer, ``timeout_seconds`` (8 s on AWS). The whole
exchange is enforced by a timer that shuts the socket down, so a partner that drips its headers
or body a byte at a time is cut off at the deadline, not between reads.

Outcomes: a 2xx JSON object is returned; anything else raises
:class:`~teamcal.partners.errors.PartnerUnreachableError` (no answer),
:class:`~teamcal.partners.errors.PartnerHttpError` (an error status) or
:class:`~teamcal.partners.errors.PartnerProtocolError` (an answer that is not ours to read).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError
from urllib3.response import BaseHTTPResponse

from teamcal.partners.errors import PartnerHttpError, PartnerProtocolError, PartnerUnreachableError
from teamcal.partners.signing import sign
from teamcal.partners.urls import PartnerUrl, Resolver, resolve

#: Largest answer read from a partner, in bytes.
MAX_RESPONSE_BYTES = 1_048_576
#: Most seconds connecting (TCP and TLS handshake) may take.
CONNECT_SECONDS = 3.0
_SHOWN_MESSAGES = 5
_SHOWN_CHARS = 300
USER_AGENT = "teamcal-partners/1"


def _messages(raw: bytes) -> list[str]:
    """The partner's ``errorMessages`` (Jira's body), shortened; [] when the body is not that."""
    try:
        body = json.loads(raw)
    except ValueError:
        return []
    found = body.get("errorMessages") if isinstance(body, dict) else None
    if not isinstance(found, list):
        return []
    return [str(m)[:_SHOWN_CHARS] for m in found[:_SHOWN_MESSAGES]]


class PartnerClient:
    """Calls partner webhooks; ``allow_loopback`` is the local-development setting (loopback
    addresses, plain http, any port), ``timeout_seconds`` the deadline of the whole exchange after
    connecting (connecting: at most :data:`CONNECT_SECONDS`), ``resolver`` and ``clock`` (epoch
    seconds, for signatures) are injected for tests."""

    def __init__(
        self,
        allow_loopback: bool,
        timeout_seconds: float,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        resolver: Resolver = socket.getaddrinfo,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.allow_loopback = allow_loopback
        self.timeout_seconds = timeout_seconds
        self.max_response_bytes = max_response_bytes
        self._resolver = resolver
        self._clock = clock

    def call(
        self,
        url: PartnerUrl,
        method: str,
        route: str,
        body: Mapping[str, Any] | None = None,
        key: bytes | None = None,
    ) -> dict[str, Any]:
        """``method`` ``url.base + route`` with a JSON ``body``, signed with ``key`` when given
        (``route`` is the path below the API base, e.g. ``/partner/v1/hello``).

        Returns the answer's JSON object ({} for an empty 2xx answer).

        Raises:
            PartnerAddressError: the URL or an address it resolves to is refused.
            PartnerUnreachableError / PartnerHttpError / PartnerProtocolError: see the module doc.
        """
        payload = b"" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Host": url.netloc,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers.update(sign(key, method, route, payload, int(self._clock())).as_dict())
        status, _, raw = self.exchange(url, method, url.path + route, payload, headers)
        if 300 <= status < 400:
            raise PartnerProtocolError(f"the partner deployment answered {status} (redirects are not followed)")
        if status >= 400:
            raise PartnerHttpError(status, _messages(raw))
        if not raw.strip():
            return {}
        try:
            parsed = json.loads(raw)
        except ValueError as e:
            raise PartnerProtocolError("the partner deployment answered with a body that is not JSON") from e
        if not isinstance(parsed, dict):
            raise PartnerProtocolError("the partner deployment answered with a body that is not a JSON object")
        return parsed

    def exchange(
        self, url: PartnerUrl, method: str, path: str, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """One guarded request of any status, for other outbound clients (the Jira client): the
        URL's addresses are resolved and checked, ``path`` (with its query) is sent to a checked
        address with ``headers`` as given (the caller sets ``Host``), redirects are not followed,
        timeouts and the size cap apply. Returns ``(status, response headers, body)``.

        Raises:
            PartnerAddressError: an address is refused. PartnerUnreachableError: no answer in time.
            PartnerProtocolError: the answer is larger than the cap.
        """
        addresses = resolve(url, self.allow_loopback, self._resolver)
        return self._send(url, addresses[0], method, path, payload, dict(headers))

    def _connection(self, url: PartnerUrl, address: str) -> HTTPConnection:
        connect = min(self.timeout_seconds, CONNECT_SECONDS)
        if url.scheme == "https":
            return HTTPSConnection(
                address,
                url.port,
                timeout=connect,
                cert_reqs="CERT_REQUIRED",
                server_hostname=url.host,
                assert_hostname=url.host,
            )
        return HTTPConnection(address, url.port, timeout=connect)

    def _send(
        self, url: PartnerUrl, address: str, method: str, path: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self._connection(url, address)
        too_slow = f"the partner deployment at {url.netloc} did not answer within {self.timeout_seconds:g} s"
        cutoff = _Cutoff(conn, self.timeout_seconds)
        try:
            conn.connect()
            cutoff.start()
            conn.request(
                method, path, body=payload or None, headers=headers, preload_content=False, decode_content=False
            )
            response = conn.getresponse()
            body = self._read(response, cutoff)
            if cutoff.expired:
                raise PartnerUnreachableError(too_slow)
            return response.status, dict(response.headers), body
        except (HTTPError, OSError, http.client.HTTPException) as e:
            if cutoff.expired:
                raise PartnerUnreachableError(too_slow) from e
            raise PartnerUnreachableError(
                f"the partner deployment at {url.netloc} did not answer ({type(e).__name__})"
            ) from e
        finally:
            cutoff.cancel()
            conn.close()

    def _read(self, response: BaseHTTPResponse, cutoff: _Cutoff) -> bytes:
        """The answer's body, at most :attr:`max_response_bytes`, until EOF or the cut-off."""
        too_large = f"the partner's answer is larger than {self.max_response_bytes} bytes"
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise PartnerProtocolError(too_large)
        chunks: list[bytes] = []
        size = 0
        while not cutoff.expired and (chunk := response.read1(65_536)):
            size += len(chunk)
            if size > self.max_response_bytes:
                raise PartnerProtocolError(too_large)
            chunks.append(chunk)
        return b"".join(chunks)


class _Cutoff:
    """The whole-exchange deadline: ``seconds`` after :meth:`start`, the connection's socket is
    shut down, so a read blocked on a dripping partner returns at once; :attr:`expired` tells."""

    def __init__(self, conn: HTTPConnection, seconds: float) -> None:
        self._conn = conn
        self._seconds = seconds
        self._fired = threading.Event()
        self._timer: threading.Timer | None = None

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed (the socket is then shut down)."""
        return self._fired.is_set()

    def start(self) -> None:
        """Arm the timer (after connecting: connecting has its own timeout)."""
        if self._conn.sock is not None:
            self._conn.sock.settimeout(self._seconds)
        self._timer = threading.Timer(self._seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        """Disarm the timer (the exchange is over)."""
        if self._timer is not None:
            self._timer.cancel()

    def _fire(self) -> None:
        self._fired.set()
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: the exchange is over anyway
                sock.shutdown(socket.SHUT_RDWR)
