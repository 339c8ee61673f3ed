"""The built storefront (the Vue SPA), served from the same origin as the API.

In the embedded mode one origin serves the shop at ``/`` and the API at ``/api/v1/``:
files of ``PASAR_STATIC_DIR`` as they are, and ``index.html`` for any other page path, so
that deep links from e-mails (``/order/ord_...?token=...``) open the SPA, which routes them
itself. Hashed assets under ``/assets/`` never change, so browsers keep them for a year;
``index.html`` is revalidated on every visit, so a new build shows at once.
"""

from __future__ import annotations

from pathlib import Path

import flask
import grpc
from werkzeug.security import safe_join

from pasar_gateway.errors import ApiError

API_PREFIX = "api/"
RESERVED_PATHS = frozenset({"healthz", "readyz", "metrics"})
IMMUTABLE = "public, max-age=31536000, immutable"

LANDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pasar API</title></head>
<body><h1>Pasar API gateway</h1>
<p>The storefront is not built here. The API is at <a href="/api/v1/docs">/api/v1/docs</a>
(<a href="/api/v1/openapi.json">OpenAPI document</a>).</p></body></html>
"""


def register_storefront(app: flask.Flask, static_dir: Path | None) -> None:
    """Serves static_dir at / with the SPA fallback, or a small landing page without it."""
    if static_dir is None:

        def landing() -> flask.Response:
            return flask.Response(LANDING_PAGE, mimetype="text/html")

        app.add_url_rule("/", endpoint="storefront.landing", view_func=landing, methods=["GET"])
        return

    root = static_dir.resolve()

    def page(path: str = "") -> flask.Response:
        if path.startswith(API_PREFIX) or path == "api" or path in RESERVED_PATHS:
            raise ApiError(grpc.StatusCode.NOT_FOUND, f"no route for {flask.request.path}")
        file = safe_join(str(root), path) if path else None
        if file is not None and Path(file).is_file():
            response = flask.send_file(file, conditional=True, etag=True)
            response.headers["Cache-Control"] = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return response
        if path.startswith("assets/"):
            raise ApiError(grpc.StatusCode.NOT_FOUND, f"no file {flask.request.path}")
        response = flask.send_file(root / "index.html", conditional=True, etag=True)
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.add_url_rule("/", endpoint="storefront.index", view_func=page, methods=["GET"])
    app.add_url_rule("/<path:path>", endpoint="storefront.page", view_func=page, methods=["GET"])
