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
