"""pasar-testkit's own tests use its pytest plugin, as every other suite does, and pytester
to run the plugin's hooks on small test files."""

pytest_plugins = ["pasar_testkit.fixtures", "pytester"]
