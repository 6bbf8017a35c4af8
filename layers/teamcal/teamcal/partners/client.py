"""The outbound HTTP client for partner webhooks (urllib3).

Every call: the URL is checked and resolved by :func:`teamcal.partners.urls.resolve` (every
address must pass); the connection goes to a checked address with the partner's host name in the
Host header and, for https, in SNI and the certificate check; redirects are never followed (a
3xx is an error); connecting and answering each have a timeout and the whole answer must arrive
within twice that; an answer larger than :data:`MAX_RESPONSE_BYTES` is cut off and refused.

Outcomes: a 2xx JSON object is returned; anything else raises
:class:`~teamcal.partners.errors.PartnerUnreachableError` (no answer),
:class:`~teamcal.partners.errors.PartnerHttpError` (an error status) or
:class:`~teamcal.partners.errors.PartnerProtocolError` (an answer that is not ours to read).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError

from teamcal.partners.errors import PartnerHttpError, PartnerProtocolError, PartnerUnreachableError
from teamcal.partners.signing import sign
from teamcal.partners.urls import PartnerUrl, Resolver, resolve

#: Largest answer read from a partner, in bytes.
MAX_RESPONSE_BYTES = 1_048_576
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
    """Calls partner webhooks; ``allow_loopback`` is the local-development setting,
    ``timeout_seconds`` the connect and the read timeout (each), ``resolver`` and ``clock``
    (epoch seconds) are injected for tests."""

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

    def _pool(self, url: PartnerUrl, address: str) -> urllib3.HTTPConnectionPool:
        timeout = urllib3.Timeout(connect=min(self.timeout_seconds, 3.0), read=self.timeout_seconds)
        if url.scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address,
                url.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                cert_reqs="CERT_REQUIRED",
                server_hostname=url.host,
                assert_hostname=url.host,
            )
        return urllib3.HTTPConnectionPool(address, url.port, timeout=timeout, retries=False, maxsize=1)

    def _send(
        self, url: PartnerUrl, address: str, method: str, path: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        deadline = time.monotonic() + 2 * self.timeout_seconds + 3
        pool = self._pool(url, address)
        try:
            response = pool.urlopen(
                method,
                path,
                body=payload or None,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
                    raise PartnerProtocolError(f"the partner's answer is larger than {self.max_response_bytes} bytes")
                chunks: list[bytes] = []
                size = 0
                while chunk := response.read(65_536):
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise PartnerProtocolError(
                            f"the partner's answer is larger than {self.max_response_bytes} bytes"
                        )
                    if time.monotonic() > deadline:
                        raise PartnerUnreachableError("the partner deployment answered too slowly")
                    chunks.append(chunk)
                return response.status, dict(response.headers), b"".join(chunks)
            finally:
                response.release_conn()
        except HTTPError as e:
            raise PartnerUnreachableError(
                f"the partner deployment at {url.netloc} did not answer ({type(e).__name__})"
            ) from e
        finally:
            pool.close()
