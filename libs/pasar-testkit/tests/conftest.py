"""pasar-testkit's own tests use its pytest plugin, as every other suite does."""

pytest_plugins = ["pasar_testkit.fixtures"]
