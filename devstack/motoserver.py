"""A moto server on 127.0.0.1 in a process of its own (``python -m devstack.motoserver``).

It binds a free port, prints that port on one stdout line, and serves until its stdin closes or it
gets SIGTERM; SIGINT is ignored (on Ctrl-C the stack stops it). A process of its own keeps
moto's process-wide state apart from any other stack, keeps moto's 365 ms import and its request
handling off the gateway's interpreter (the two run on separate cores), and ends with its parent:
when the stack dies, the pipe closes.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType


def main() -> int:
    """Serve until stdin reaches EOF or SIGTERM arrives; returns the exit code."""
    from moto.server import ThreadedMotoServer

    from devstack import moto_fixes, moto_speed

    moto_speed.install()  # same answers, a large search in a fraction of the time (see the module)
    moto_fixes.install()  # transactions all or nothing, streams included, as on AWS (see the module)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request at INFO
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)

    def _until_eof() -> None:
        sys.stdin.read()
        stopping.set()

    threading.Thread(target=_until_eof, daemon=True).start()
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
