"""Pasar's test harness (pasar-testkit: for tests only, never in a production image).

Free ports, a private MariaDB server, service processes started and stopped by PID, the
assertion helpers that read a failed call's status (:mod:`pasar_testkit.assertions`), and
a pytest plugin with the fixtures (``pytest_plugins = ["pasar_testkit.fixtures"]`` in a
conftest.py)."""
