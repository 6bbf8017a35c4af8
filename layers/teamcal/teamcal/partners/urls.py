"""Partner URLs: what ``partnerUrl`` may be, which addresses may be called, and our own URL.

Rules (issue 7, "no SSRF"):

* ``partnerUrl`` is the partner deployment's API base URL, ending in ``/rest/brizo-calendar/api/1``
  (what template.yaml's ``ApiUrl`` output prints); no user info, query or fragment.
* Scheme ``https``. Plain ``http`` only to a loopback address, and only when the local-development
  setting ``TEAMCAL_ALLOW_LOOPBACK_PARTNERS`` is on (false on AWS, true in the local stack).
* The host is resolved and EVERY address must be public (``ipaddress`` ``is_global``): no
  private (RFC 1918, ``fc00::/7``), link-local (``169.254/16``, ``fe80::/10``), cloud metadata
  (``169.254.169.254``, ``fd00:ec2::254``, …), loopback (unless allowed), CGNAT, multicast,
  reserved or unspecified address. IPv6 addresses that carry an IPv4 address are judged as that
  address: IPv4-mapped (``::ffff:0:0/96``), 6to4 (``2002::/16``), NAT64 (``64:ff9b::/96``) and
  Teredo (``2001::/32``, server and client); the NAT64 local-use prefix ``64:ff9b:1::/48`` is
  refused (where it embeds the IPv4 address depends on the operator's prefix length).
* Port 443 only; other ports only with the local-development setting (it also allows loopback
  and plain http). The client then
  connects to a checked address (no second lookup: DNS rebinding cannot swap it) and never
  follows redirects (:mod:`teamcal.partners.client`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from teamcal.partners.errors import PartnerAddressError, PartnerUnreachableError

#: The API base path (the same as :data:`teamcal.api.BASE_PATH`; kept here so the domain does not
#: import the HTTP edge).
API_BASE_PATH = "/rest/brizo-calendar/api/1"
MAX_URL_CHARS = 2048
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.169.123", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
#: The only port a partner URL may use on AWS.
HTTPS_PORT = 443
_EXECUTE_API = re.compile(r"\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]


@dataclass(frozen=True)
class PartnerUrl:
    """A checked partner base URL: ``scheme`` ``https``/``http``, ``host`` lower case (IDNA, no
    brackets), ``port``, ``path`` (no trailing slash, ends with :data:`API_BASE_PATH`)."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def netloc(self) -> str:
        """``host[:port]`` as in a URL and a Host header (brackets around IPv6, default port left out)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def base(self) -> str:
        """The normalised URL text, e.g. ``https://cal.example.com/rest/brizo-calendar/api/1``."""
        return f"{self.scheme}://{self.netloc}{self.path}"


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address routes to: IPv4-mapped, 6to4 (RFC 3056), NAT64 well-known
    prefix (RFC 6052 ``/96``), Teredo (RFC 4380: server and client); ``[]`` for any other."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if address in _NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)]
    return []


def refusal(address: Address, allow_loopback: bool) -> str | None:
    """Why ``address`` may not be called, or ``None`` when it may (see the module docstring)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return "resolves to a NAT64 local-use address"
        inner = embedded_ipv4(address)
        if inner:
            reasons = [r for r in (_refusal(ip, allow_loopback) for ip in inner) if r is not None]
            return reasons[0] if reasons else None
    return _refusal(address, allow_loopback)


def _refusal(ip: Address, allow_loopback: bool) -> str | None:
    if ip.is_loopback:
        return None if allow_loopback else "resolves to a loopback address"
    if ip in _METADATA:
        return "resolves to a cloud metadata address"
    if ip.is_link_local:
        return "resolves to a link-local address"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "resolves to a reserved address"
    if ip.is_private:
        return "resolves to a private address"
    if not ip.is_global:
        return "resolves to an address that is not public"
    return None


def port_refusal(port: int, allow_loopback: bool) -> str | None:
    """Why ``port`` may not be called (only 443 unless the local-development setting is on)."""
    if port == HTTPS_PORT or allow_loopback:
        return None
    return f"must use port {HTTPS_PORT} (other ports only in local development)"


def _is_loopback_host(host: str) -> bool:
    ip = _literal(host)
    return host == "localhost" or (ip is not None and ip.is_loopback)


def parse_partner_url(text: str, allow_loopback: bool, *, base_path: str | None = API_BASE_PATH) -> PartnerUrl:
    """Check and normalise a ``partnerUrl`` without network access (addresses are checked again
    after resolution, on every call, by :func:`resolve`). ``base_path``: the path the URL must
    end with (``None``: any path, for other outbound URLs such as a Jira site's ``baseUrl``).

    Raises:
        PartnerAddressError: anything the module docstring forbids that can be seen in the text.
    """
    text = text.strip()
    if not text or len(text) > MAX_URL_CHARS:
        raise PartnerAddressError(f"must be a URL of at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
    except ValueError as e:
        raise PartnerAddressError("is not a valid URL") from e
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise PartnerAddressError("must be an https:// URL")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise PartnerAddressError("must not carry user info, a query or a fragment")
    try:
        host = host.encode("idna").decode("ascii").lower() if _literal(host) is None else host.lower()
    except UnicodeError as e:
        raise PartnerAddressError("has a host name that is not valid") from e
    if scheme == "http" and not (allow_loopback and _is_loopback_host(host)):
        raise PartnerAddressError("must be https:// (plain http is allowed only to loopback, in local development)")
    literal = _literal(host)
    if literal is not None and (reason := refusal(literal, allow_loopback)) is not None:
        raise PartnerAddressError(reason)
    if host == "localhost" and not allow_loopback:
        raise PartnerAddressError("resolves to a loopback address")
    if (reason := port_refusal(port or (443 if scheme == "https" else 80), allow_loopback)) is not None:
        raise PartnerAddressError(reason)
    path = parts.path.rstrip("/")
    if base_path is not None and not path.endswith(base_path):
        raise PartnerAddressError(f"must be the partner's API base URL, ending in {API_BASE_PATH}")
    return PartnerUrl(scheme, host, port or (443 if scheme == "https" else 80), path)


def resolve(url: PartnerUrl, allow_loopback: bool, resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """The addresses to connect to for ``url``, every one of them checked.

    Raises:
        PartnerAddressError: some address is refused (one bad address refuses the host: an
            attacker's DNS could otherwise mix a private address in).
        PartnerUnreachableError: the host does not resolve.
    """
    if (reason := port_refusal(url.port, allow_loopback)) is not None:
        raise PartnerAddressError(reason)
    try:
        infos = resolver(url.host, url.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise PartnerUnreachableError(f"the partner host {url.host!r} does not resolve") from e
    addresses: list[str] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]
        ip = ipaddress.ip_address(raw)
        reason = refusal(ip, allow_loopback)
        if reason is not None:
            raise PartnerAddressError(reason)
        if url.scheme == "http" and not ip.is_loopback:
            raise PartnerAddressError("plain http is allowed only to loopback addresses")
        if raw not in addresses:
            addresses.append(raw)
    if not addresses:
        raise PartnerUnreachableError(f"the partner host {url.host!r} does not resolve")
    return addresses


def own_base_url(host: str | None, forwarded_proto: str | None, path: str, stage: str | None) -> str | None:
    """This deployment's API base URL as the caller reached it, from an API Gateway proxy event:
    its ``Host`` header, ``X-Forwarded-Proto`` (API Gateway sets ``https``; none means ``http``,
    the local stack), the request ``path`` (anything before the API base path is a base-path
    mapping) and the stage, which is part of the URL only on the ``execute-api`` domain. ``None``
    without a Host header.
    """
    if not host:
        return None
    scheme = (forwarded_proto or "http").split(",", 1)[0].strip().lower() or "http"
    at = path.find(API_BASE_PATH)
    prefix = path[:at] if at > 0 else ""
    name = host.lower()
    if stage and _EXECUTE_API.search(name.rsplit(":", 1)[0]):
        prefix = f"/{stage}{prefix}"
    return f"{scheme}://{name}{prefix}{API_BASE_PATH}"


def same_url(url: PartnerUrl, other: str | None) -> bool:
    """Whether ``other`` (a URL text) names the same base URL as ``url`` (scheme, host, port, path)."""
    if not other:
        return False
    try:
        parts = urlsplit(other.strip())
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return (parts.scheme.lower(), host, port, parts.path.rstrip("/")) == (url.scheme, url.host, url.port, url.path)
