"""``/healthz`` (the gateway process answers) and ``/readyz`` (every backend is serving).

Metrics are not on this, the public origin: ``pasar-gateway`` serves them on a listener of
their own (``PASAR_METRICS_ADDRESS``, see :mod:`pasar_kit.metrics_listener`), and
``/metrics`` here answers 404 like any unknown path.

``/readyz`` asks each backend's ``grpc.health.v1`` service, all at once with a short
timeout, and reports each one: it answers 503 when any is not serving. A load balancer
that should keep sending shoppers to the gateway while one service is down (the gateway
still serves the other services' routes) probes ``/healthz`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import flask

from pasar_gateway.backends import Backend


def register_health(app: flask.Flask, backends: Mapping[str, Backend], readiness_timeout: float) -> None:
    def healthz() -> flask.Response:
        response = flask.jsonify({"status": "ok"})
        response.headers["Cache-Control"] = "no-store"
        return response

    def readyz() -> flask.Response:
        pending = {name: backend.start_health_check(readiness_timeout) for name, backend in backends.items()}
        services = {}
        for name, check in pending.items():
            health = check.result()
            services[name] = {"status": health.status, **({"detail": health.detail} if health.detail else {})}
        ready = all(service["status"] == "SERVING" for service in services.values())
        response = flask.jsonify({"status": "ready" if ready else "not ready", "services": services})
        response.status_code = 200 if ready else 503
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_url_rule("/healthz", endpoint="health.healthz", view_func=healthz, methods=["GET"])
    app.add_url_rule("/readyz", endpoint="health.readyz", view_func=readyz, methods=["GET"])
