"""What every Pasar service shares, written once.

Each service has the same shape: ``config`` reads settings from the environment,
``models`` declares its peewee tables, ``servicer`` translates between protobuf and the
domain, the domain modules hold the logic, and ``main`` calls :func:`pasar_kit.server.serve`.
This package holds everything those modules would otherwise repeat: reading the
environment (:mod:`.config`), JSON logs with a request id (:mod:`.logs`), the database from
``DATABASE_URL`` with migrations (:mod:`.database`), domain errors as gRPC statuses
(:mod:`.errors`), the server with health, reflection, validation and graceful shutdown
(:mod:`.server`), channels to other services (:mod:`.channels`), and test helpers
(:mod:`.testing`).
"""
