"""The kit's pytest plugin (entry point ``pytest11``): options, fixtures, parametrisation.

Options: ``--target HOST:PORT`` (the implementation under test), ``--admin-token``,
``--caller-token``, ``--webhook-secret`` (the HMAC secret that signs notifications: the
payment provider's for NotifyPayment, the biller's for NotifyFulfillment; all default to
the services' development values), ``--product``/``--payment`` (the catalog and payment
service of the same shop, for the order suite; the catalog the fulfillment service looks
products up in, for the fulfillment suite), ``--run-prefix`` (the ids' prefix; random by
default).

Fixtures: ``target`` (a :class:`~pasar_conformance.target.Target` on ``--target``, for the
session), ``product_target`` and ``payment_target`` (on ``--product``/``--payment``, sharing
the run's ids), ``run_ids``.

Installed in every pytest of an environment that has the kit, so it imports nothing of the
kit until a conformance option or suite is used, and changes nothing otherwise.
"""

# The kit's modules (grpc, the contracts' descriptors) are imported inside the hooks that
# need them, so that a pytest run without the kit's options pays nothing for the plugin.
# ruff: noqa: PLC0415

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pasar_conformance.target import RunIds, Target

LAST_MARK = "conformance_last"
# Set when the run left cases out (-k, --lf, ...): checks over the whole run then skip.
PARTIAL_RUN = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pasar-conformance", "Pasar conformance kit")
    group.addoption("--target", metavar="HOST:PORT", help="the service under test")
    group.addoption(
        "--admin-token",
        metavar="TOKEN",
        default="dev-admin-token",
        help="the administrator's bearer token (default: the development one)",
    )
    group.addoption(
        "--caller-token",
        metavar="TOKEN",
        default="dev-order-caller-token",
        help="the order service's caller token for internal methods (default: the development one)",
    )
    group.addoption(
        "--webhook-secret",
        metavar="SECRET",
        help="the HMAC secret that signs notifications: the payment provider's (payment suite), "
        "the biller's (fulfillment suite) (default: the suite's service's development one)",
    )
    group.addoption(
        "--product", metavar="HOST:PORT", help="the shop's catalog service (order and fulfillment suites)"
    )
    group.addoption("--payment", metavar="HOST:PORT", help="the shop's payment service (order suite)")
    group.addoption("--run-prefix", metavar="PREFIX", help="the prefix of every id the run creates")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{LAST_MARK}: a conformance check that runs after all others")


def pytest_report_header(config: pytest.Config) -> list[str]:
    address = config.getoption("--target")
    if not address:
        return []
    from pasar_conformance import __version__, contracts_version

    return [
        f"pasar-conformance {__version__}: judging {address} by contracts v{contracts_version()}",
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    suite = getattr(metafunc.cls, "suite", None) if metafunc.cls else None
    if suite is None:
        return
    from pasar_conformance.common import Suite

    assert isinstance(suite, Suite)
    if "validation_case" in metafunc.fixturenames:
        cases = suite.validation_cases()
        if cases:
            metafunc.parametrize("validation_case", cases, ids=[case.name for case in cases])
        else:
            why = f"the shared validation_cases.json has no case for a request of {suite.package}"
            metafunc.parametrize(
                "validation_case", [pytest.param(None, marks=pytest.mark.skip(reason=why))], ids=["none"]
            )
    if "repeatable_method" in metafunc.fixturenames:
        repeatable = suite.repeatable_methods()
        metafunc.parametrize("repeatable_method", repeatable, ids=[m.name for m in repeatable])
    if "internal_method" in metafunc.fixturenames:
        internal = suite.internal_methods()
        metafunc.parametrize("internal_method", internal, ids=[m.name for m in internal])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Checks marked conformance_last (the reason coverage) run after every other case."""
    items.sort(key=lambda item: item.get_closest_marker(LAST_MARK) is not None)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[PARTIAL_RUN] = True


@pytest.fixture(scope="session")
def run_ids(request: pytest.FixtureRequest) -> RunIds:
    from pasar_conformance.target import RunIds

    return RunIds(request.config.getoption("--run-prefix"))


def _target(request: pytest.FixtureRequest, option: str, run_ids: RunIds) -> Iterator[Target]:
    from pasar_conformance import check_contracts_version
    from pasar_conformance.target import DEVELOPMENT_WEBHOOK_SECRET, Target

    address = request.config.getoption(option)
    if not address:
        raise pytest.UsageError(f"{option} HOST:PORT is required: the address of the service under test")
    check_contracts_version()
    target = Target(
        address,
        admin_token=request.config.getoption("--admin-token"),
        caller_token=request.config.getoption("--caller-token"),
        webhook_secret=request.config.getoption("--webhook-secret") or DEVELOPMENT_WEBHOOK_SECRET,
        run=run_ids,
    )
    try:
        yield target
    finally:
        target.close()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, run_ids: RunIds) -> Iterator[Target]:
    """The service under test (``--target``)."""
    yield from _target(request, "--target", run_ids)


@pytest.fixture(scope="session")
def product_target(request: pytest.FixtureRequest, run_ids: RunIds) -> Iterator[Target]:
    """The shop's catalog service (``--product``), for suites that seed packages."""
    yield from _target(request, "--product", run_ids)


@pytest.fixture(scope="session")
def payment_target(request: pytest.FixtureRequest, run_ids: RunIds) -> Iterator[Target]:
    """The shop's payment service (``--payment``), for suites that settle payments."""
    yield from _target(request, "--payment", run_ids)
