"""``python -m devstack``: start the local stack and serve until Ctrl-C or SIGTERM.

    python -m devstack [--port 3000] [--host 127.0.0.1] [--workers 2]
                       [--parameter-overrides AuthorizerResultTtl=0 LogLevel=DEBUG ...]

``PORT`` sets the default port; ``ADMIN_TOKEN`` fixes the bootstrap admin token's plaintext (at
least 20 characters; otherwise a random one is created). Once ready it prints, on stdout::

    url: http://127.0.0.1:3000
    api: http://127.0.0.1:3000/rest/brizo-calendar/api/1
    admin token: tcal_…
    swagger: http://127.0.0.1:3000/swagger  (docs/openapi.json; make openapi)
    aws endpoint: http://127.0.0.1:PORT

Exit code 0 after a clean stop, 2 for bad arguments, 1 when the stack cannot start.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from devstack.routing import TemplateError
from devstack.template import load


def _overrides(pairs: Sequence[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    declared = load().get("Parameters") or {}
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in declared:
            parser.error(f"--parameter-overrides: {pair!r} is not NAME=VALUE for a template parameter")
        allowed = declared[key].get("AllowedValues")
        if allowed is not None and value not in [str(a) for a in allowed]:
            parser.error(f"--parameter-overrides: {key} must be one of {allowed}")
        out[key] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stack until SIGINT / SIGTERM; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="0: any free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per function (max)")
    parser.add_argument("--parameter-overrides", nargs="+", default=[], metavar="NAME=VALUE")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    parameters = _overrides(args.parameter_overrides, parser)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    from devstack.stack import LocalStack
    from teamcal.api import BASE_PATH
    from teamcal.errors import TeamcalError

    try:
        stack = LocalStack(
            port=args.port,
            host=args.host,
            parameters=parameters,
            admin_token=os.environ.get("ADMIN_TOKEN") or None,
            workers=args.workers,
        ).start()
    except (OSError, TemplateError) as e:
        print(f"devstack: cannot start: {e}", file=sys.stderr)
        return 1
    except TeamcalError as e:
        print(f"devstack: ADMIN_TOKEN: {e.message}", file=sys.stderr)
        return 1
    assert stack.endpoint is not None
    print(f"url: {stack.url}", f"api: {stack.url}{BASE_PATH}", f"admin token: {stack.admin_token}", sep="\n")
    print(f"swagger: {stack.url}/swagger  (docs/openapi.json; make openapi)")
    print(f"aws endpoint: {stack.endpoint.url}  (AWS_ENDPOINT_URL, any credentials)", flush=True)
    stopping.wait()
    logging.getLogger("devstack").info("stopping")
    stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
