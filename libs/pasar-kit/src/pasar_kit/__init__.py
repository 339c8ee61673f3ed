"""What every Pasar service shares, written once.

Each service has the same shape: ``config`` reads settings from the environment,
``models`` declares its peewee tables, ``servicer`` translates between protobuf and the
domain, the domain modules hold the logic, and ``main`` runs :class:`pasar_kit.cli.ServiceCli`.
This package holds everything those modules would otherwise repeat: reading the
environment, secrets refused in production included (:mod:`.config`), JSON logs with a
request id (:mod:`.logs`), the database from ``DATABASE_URL`` with migrations
(:mod:`.database`), domain errors as gRPC statuses (:mod:`.errors`), the server with
health, reflection, validation and graceful shutdown (:mod:`.server`), listen addresses
checked and claimed (:mod:`.listen`), who may call internal methods (:mod:`.callers`),
channels to other services (:mod:`.channels`), batched background sweeps
(:mod:`.sweeps`), OpenTelemetry traces, on only with an OTLP endpoint (:mod:`.telemetry`),
Prometheus metrics on a listener of their own (:mod:`.metrics`, :mod:`.metrics_listener`),
the command line (:mod:`.cli`), and test helpers (:mod:`.testing`).
"""
