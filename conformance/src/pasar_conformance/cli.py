"""``pasar-conformance SUITE --target HOST:PORT [options] [pytest options]``: runs one suite.

It runs pytest (in a process of its own) on ``pasar_conformance.<suite>`` with the kit's
plugin and returns pytest's exit status (0 only when every case passed), so its last line
is pytest's summary. A suite the kit does not have yet ends with status 2 and a line
saying so. Options it does not know go to pytest (``-x``, ``-k EXPR``, ``--junitxml=FILE``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence

from pasar_conformance.target import DEVELOPMENT_ADMIN_TOKEN, DEVELOPMENT_CALLER_TOKEN

SUITES = ("product", "payment", "order", "fulfillment")
# The suites that seed through other services of the same shop, and the options naming them.
PEER_OPTIONS = {"order": ("product", "payment")}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pasar-conformance",
        description="Judges a service against Pasar's contracts over gRPC; extra options go to pytest.",
    )
    parser.add_argument("suite", choices=SUITES, help="the contract to judge the target by")
    parser.add_argument("--target", required=True, metavar="HOST:PORT", help="the service under test")
    parser.add_argument("--admin-token", default=DEVELOPMENT_ADMIN_TOKEN, metavar="TOKEN")
    parser.add_argument("--caller-token", default=DEVELOPMENT_CALLER_TOKEN, metavar="TOKEN")
    parser.add_argument(
        "--webhook-secret",
        metavar="SECRET",
        help="the HMAC secret that signs notifications: the payment provider's (payment suite), the "
        "biller's (fulfillment suite); default: the development one of the suite's service",
    )
    parser.add_argument(
        "--product",
        metavar="HOST:PORT",
        help="the shop's catalog (order suite; fulfillment suite: where the target looks products up)",
    )
    parser.add_argument("--payment", metavar="HOST:PORT", help="the shop's payment service (order suite)")
    parser.add_argument("--run-prefix", metavar="PREFIX", help="the prefix of the ids the run creates")
    return parser


def pytest_arguments(args: argparse.Namespace, extra: Sequence[str]) -> list[str]:
    arguments = [
        "-p",
        "pasar_conformance.plugin",
        "--pyargs",
        f"pasar_conformance.{args.suite}",
        "--target",
        args.target,
        "--admin-token",
        args.admin_token,
        "--caller-token",
        args.caller_token,
    ]
    for option in ("webhook_secret", "product", "payment", "run_prefix"):
        value = getattr(args, option)
        if value:
            arguments += [f"--{option.replace('_', '-')}", value]
    return [*arguments, *extra]


def main(argv: Sequence[str] | None = None) -> int:
    command_line = parser()
    args, extra = command_line.parse_known_args(argv)
    missing = [f"--{peer}" for peer in PEER_OPTIONS.get(args.suite, ()) if not getattr(args, peer)]
    if missing:
        command_line.error(f"the {args.suite} suite needs {' and '.join(missing)} HOST:PORT")
    # pytest runs in a process of its own: this one has imported the kit already, which
    # keeps pytest from rewriting the asserts of the kit's modules.
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_arguments(args, extra)])


if __name__ == "__main__":
    sys.exit(main())
