"""Pasar's API gateway: the shop's only public entry point.

The storefront speaks REST/JSON; the services speak gRPC. The gateway derives its routes
from the ``google.api.http`` annotations of the contracts (so its routing table, its
OpenAPI document and any other transcoder agree), turns each HTTP request into one gRPC
call on the service that owns the route, and turns the answer (or the failure) back into
proto3 JSON. Each service sits behind its own channel, deadline and circuit breaker, so
that one service being down or slow only affects its own routes.
"""
