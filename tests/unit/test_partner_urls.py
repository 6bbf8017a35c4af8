"""Partner URL rules (teamcal.partners.urls): https only, loopback http only in local
development, no private / link-local / metadata addresses after resolution, our own URL."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from teamcal.api import BASE_PATH
from teamcal.partners.errors import PartnerAddressError, PartnerUnreachableError
from teamcal.partners.urls import API_BASE_PATH, own_base_url, parse_partner_url, resolve, same_url

pytestmark = pytest.mark.unit

GOOD = "https://Cal.Example.COM./rest/brizo-calendar/api/1/"


def resolver(*addresses: str) -> Any:
    def fake(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return fake


def test_the_base_path_is_the_apis() -> None:
    assert API_BASE_PATH == BASE_PATH


def test_a_public_https_url_is_normalised() -> None:
    url = parse_partner_url(GOOD, allow_loopback=False)
    assert (url.scheme, url.host, url.port, url.path) == ("https", "cal.example.com", 443, BASE_PATH)
    assert url.base == "https://cal.example.com/rest/brizo-calendar/api/1"


@pytest.mark.parametrize(
    ("text", "allow_loopback"),
    [
        ("http://cal.example.com/rest/brizo-calendar/api/1", True),
        ("http://127.0.0.1:3000/rest/brizo-calendar/api/1", False),
        ("https://localhost/rest/brizo-calendar/api/1", False),
        ("https://10.1.2.3/rest/brizo-calendar/api/1", True),
        ("https://172.16.0.1/rest/brizo-calendar/api/1", True),
        ("https://192.168.1.1/rest/brizo-calendar/api/1", True),
        ("https://169.254.169.254/rest/brizo-calendar/api/1", True),
        ("https://[fd00:ec2::254]/rest/brizo-calendar/api/1", True),
        ("https://[fe80::1]/rest/brizo-calendar/api/1", True),
        ("https://[::ffff:10.0.0.1]/rest/brizo-calendar/api/1", True),
        ("https://100.64.0.1/rest/brizo-calendar/api/1", True),
        ("https://0.0.0.0/rest/brizo-calendar/api/1", True),
        ("https://224.0.0.1/rest/brizo-calendar/api/1", True),
        ("https://cal.example.com/", False),
        ("https://cal.example.com/rest/brizo-calendar/api/1?x=1", False),
        ("https://a:b@cal.example.com/rest/brizo-calendar/api/1", False),
        ("gopher://cal.example.com/rest/brizo-calendar/api/1", False),
        ("https://cal.example.com:99999/rest/brizo-calendar/api/1", False),
        ("", False),
    ],
)
def test_refused_urls(text: str, allow_loopback: bool) -> None:
    with pytest.raises(PartnerAddressError) as caught:
        parse_partner_url(text, allow_loopback)
    assert set(caught.value.errors) == {"partnerUrl"}


def test_loopback_http_is_allowed_only_with_the_local_setting() -> None:
    url = parse_partner_url("http://127.0.0.1:3000/rest/brizo-calendar/api/1", allow_loopback=True)
    assert resolve(url, True, resolver("127.0.0.1")) == ["127.0.0.1"]
    with pytest.raises(PartnerAddressError):
        resolve(url, False, resolver("127.0.0.1"))


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.5",),
        ("93.184.216.34", "192.168.0.9"),
        ("169.254.169.254",),
        ("::ffff:172.20.0.1",),
        ("fc00::1",),
        ("127.0.0.1",),
    ],
)
def test_every_resolved_address_must_be_public(addresses: tuple[str, ...]) -> None:
    url = parse_partner_url(GOOD, allow_loopback=False)
    with pytest.raises(PartnerAddressError):
        resolve(url, False, resolver(*addresses))


def test_public_addresses_are_used_in_order_once() -> None:
    url = parse_partner_url(GOOD, allow_loopback=False)
    assert resolve(url, False, resolver("93.184.216.34", "2606:2800:220:1::1", "93.184.216.34")) == [
        "93.184.216.34",
        "2606:2800:220:1::1",
    ]


def test_an_https_host_resolving_to_loopback_is_refused_unless_local() -> None:
    url = parse_partner_url(GOOD, allow_loopback=True)
    with pytest.raises(PartnerAddressError):
        resolve(url, False, resolver("127.0.0.1"))


def test_a_host_that_does_not_resolve_is_unreachable() -> None:
    def failing(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "nope")

    with pytest.raises(PartnerUnreachableError):
        resolve(parse_partner_url(GOOD, allow_loopback=False), False, failing)


@pytest.mark.parametrize(
    ("host", "proto", "path", "stage", "expected"),
    [
        (
            "abc123.execute-api.eu-west-1.amazonaws.com",
            "https",
            f"{BASE_PATH}/synchronization",
            "api",
            f"https://abc123.execute-api.eu-west-1.amazonaws.com/api{BASE_PATH}",
        ),
        (
            "cal.example.com",
            "https",
            f"/v2{BASE_PATH}/synchronization",
            "api",
            f"https://cal.example.com/v2{BASE_PATH}",
        ),
        ("127.0.0.1:3000", None, f"{BASE_PATH}/synchronization", "api", f"http://127.0.0.1:3000{BASE_PATH}"),
        (None, "https", f"{BASE_PATH}/synchronization", "api", None),
    ],
)
def test_our_own_url_is_how_the_caller_reached_us(
    host: str | None, proto: str | None, path: str, stage: str, expected: str | None
) -> None:
    assert own_base_url(host, proto, path, stage) == expected


def test_same_url_ignores_case_default_ports_and_trailing_slashes() -> None:
    url = parse_partner_url(GOOD, allow_loopback=False)
    assert same_url(url, "https://cal.example.com:443/rest/brizo-calendar/api/1")
    assert not same_url(url, "https://cal.example.com:8443/rest/brizo-calendar/api/1")
    assert not same_url(url, None)


# -- IPv6 wrappers of IPv4 addresses and ports (abuse resistance) ------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 of 169.254.169.254
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::c0a8:101", "private"),  # NAT64 of 192.168.1.1
        ("64:ff9b:1::a00:1", "NAT64 local-use"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1 (obfuscated)
        ("2001:0:a9fe:a9fe:8000:63bf:3fff:fdd2", "metadata"),  # Teredo, server 169.254.169.254
    ],
)
def test_ipv6_addresses_embedding_a_refused_ipv4_address_are_refused(address: str, reason: str) -> None:
    # Given a host resolving to an IPv6 address that routes to a refused IPv4 address
    url = parse_partner_url(GOOD, allow_loopback=False)
    # Then it is refused like the IPv4 address itself, in the URL text and after resolution
    with pytest.raises(PartnerAddressError, match=reason):
        resolve(url, False, resolver(address))
    with pytest.raises(PartnerAddressError, match=reason):
        parse_partner_url(f"https://[{address}]/rest/brizo-calendar/api/1", allow_loopback=False)


def test_ipv6_addresses_embedding_a_public_ipv4_address_are_used() -> None:
    url = parse_partner_url(GOOD, allow_loopback=False)
    public = ("2002:808:808::1", "64:ff9b::808:808", "2001:4860:4860::8888")
    assert resolve(url, False, resolver(*public)) == list(public)


@pytest.mark.parametrize("port", [80, 8443, 22, 6379])
def test_only_port_443_unless_local_development(port: int) -> None:
    text = f"https://cal.example.com:{port}/rest/brizo-calendar/api/1"
    with pytest.raises(PartnerAddressError, match="port 443"):
        parse_partner_url(text, allow_loopback=False)
    assert parse_partner_url(text, allow_loopback=True).port == port
    # a URL checked under the local setting is refused again when called without it
    with pytest.raises(PartnerAddressError, match="port 443"):
        resolve(parse_partner_url(text, allow_loopback=True), False, resolver("93.184.216.34"))
