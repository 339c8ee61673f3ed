"""Test helpers shared by every component's tests: free ports, a private MariaDB server,
service processes started and stopped by PID, and a pytest plugin with the fixtures
(``pytest_plugins = ["pasar_testkit.fixtures"]`` in a conftest.py)."""
