"""The partner HTTP client's whole-exchange deadline, against loopback servers that drip.

Before the cut-off timer the deadline was checked only between 64 KiB reads: a server sending one
byte every half second held a call for as long as it liked (more than 15 s against 8 s).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from teamcal.partners.client import PartnerClient
from teamcal.partners.errors import PartnerUnreachableError
from teamcal.partners.urls import parse_partner_url

pytestmark = pytest.mark.integration

Dripping = Callable[[bytes, int], str]
DEADLINE_S = 1.0
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"


def _serve(listener: socket.socket, answer: bytes, drip_from: int, stop: threading.Event) -> None:
    """Answer one request: ``answer[:drip_from]`` at once, then one byte every 0.1 s (bounded)."""
    conn, _ = listener.accept()
    with conn:
        conn.recv(65_536)
        conn.sendall(answer[:drip_from])
        for byte in answer[drip_from : drip_from + 300]:
            if stop.wait(0.1):
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return  # the client hung up: what we want


@pytest.fixture
def dripping() -> Iterator[Dripping]:
    stop = threading.Event()
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def start(answer: bytes, drip_from: int) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listeners.append(listener)
        thread = threading.Thread(target=_serve, args=(listener, answer, drip_from, stop), daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}/rest/brizo-calendar/api/1"

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    for listener in listeners:
        listener.close()


def _call(base: str) -> float:
    client = PartnerClient(allow_loopback=True, timeout_seconds=DEADLINE_S)
    t0 = time.monotonic()
    with pytest.raises(PartnerUnreachableError, match="did not answer within"):
        client.call(parse_partner_url(base, allow_loopback=True), "GET", "/partner/v1/hello")
    return time.monotonic() - t0


@pytest.mark.parametrize(
    ("case", "drip_from"),
    [("headers dripped", 5), ("body dripped", len(HEAD) + 1)],
)
def test_a_dripping_partner_is_cut_off_at_the_whole_exchange_deadline(
    dripping: Dripping, case: str, drip_from: int
) -> None:
    # Given a partner that sends its answer one byte every 0.1 s (30 s for the whole of it)
    base = dripping(HEAD + b"{" + b" " * 998 + b"}", drip_from)
    # When we call it with a 1 s deadline
    elapsed = _call(base)
    # Then the call ends at the deadline, not at the end of the drip
    assert DEADLINE_S <= elapsed < DEADLINE_S + 0.8, case


def test_a_partner_answering_in_time_is_read_whole(dripping: Dripping) -> None:
    body = b'{"ok":true}'
    base = dripping(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + body, 1000)
    client = PartnerClient(allow_loopback=True, timeout_seconds=DEADLINE_S)
    assert client.call(parse_partner_url(base, allow_loopback=True), "GET", "/partner/v1/hello") == {"ok": True}
