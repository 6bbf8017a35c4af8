"""Swagger UI for the local stack: ``GET /swagger`` (``?format=json``: the document itself).

The page is Powertools' own (``enable_swagger``'s HTML, with the Swagger UI script and stylesheet
Powertools bundles: no CDN, works offline) around ``docs/openapi.json``, the merged document of
every function (:mod:`devstack.openapi`). The file is read on each request, so ``make openapi``
shows without a restart. Not part of the product: on AWS nothing serves ``/swagger``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from werkzeug.wrappers import Request, Response

from devstack.openapi import DOCUMENT

#: The paths the gateway hands to :func:`respond` (outside the API's base path).
PATHS = frozenset({"/swagger", "/swagger/"})


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    """Powertools' bundled Swagger UI (script, stylesheet)."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    folder = Path(swagger_ui.__file__).parent
    script = (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (folder / "swagger-ui.min.css").read_text(encoding="utf-8")
    return script, style


def respond(request: Request, document: Path = DOCUMENT) -> Response:
    """The Swagger UI page for ``document`` (``?format=json``: the JSON), 405 for other methods,
    503 when the document has not been generated (``make openapi``)."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    if request.method not in ("GET", "HEAD"):
        return Response("GET only\n", status=405, headers={"Allow": "GET, HEAD"}, content_type="text/plain")
    if not document.is_file():
        return Response(f"{document.name} is missing: run `make openapi`\n", status=503, content_type="text/plain")
    spec = document.read_text(encoding="utf-8")
    if request.args.get("format") == "json":
        return Response(spec, content_type="application/json")
    script, style = _assets()
    # As Powertools does: "</" inside the inline JSON must not close the <script> element.
    page = generate_swagger_html(spec.replace("</", "<\\/"), script, style, "", None, persist_authorization=True)
    return Response(page, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})
