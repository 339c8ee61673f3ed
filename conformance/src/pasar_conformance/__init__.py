"""Pasar's conformance kit: black-box suites that judge an implementation of a contract over gRPC.

The kit is versioned with the contracts (its ``VERSION`` is contracts/VERSION): the kit of
contracts v1.1 judges v1.1 behaviour, with the descriptors of the same ``pasar-contracts``.
"""

from __future__ import annotations

from importlib import resources

import pasar_contracts

__all__ = ["__version__", "check_contracts_version", "contracts_version"]

__version__ = resources.files(__package__).joinpath("VERSION").read_text(encoding="utf-8").strip()


def contracts_version() -> str:
    """The version of the installed contracts, whose descriptors the kit judges by."""
    return pasar_contracts.__version__


def check_contracts_version() -> None:
    """Refuses to judge with contracts of another version than the kit's own."""
    if contracts_version() != __version__:
        raise RuntimeError(
            f"pasar-conformance {__version__} judges contracts v{__version__}, but pasar-contracts "
            f"{contracts_version()} is installed: install the kit and the contracts of one release"
        )
