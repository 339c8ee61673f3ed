"""Claimant names: a claim is judged dead only when it was made by a process of this host,
this boot, that is gone (or whose pid now belongs to another process); live, foreign and
old-form claims are never judged."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from pasar_kit import claimants


def test_only_claims_of_gone_processes_of_this_host_are_dead() -> None:
    me = claimants.this_process()
    assert me is not None
    exited = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    owners = {
        "live": me.claimant(),  # another worker of this very process
        "this process's name": claimants.claimant_name(),
        "other host": dataclasses.replace(me, host="elsewhere").claimant(),
        "other boot": dataclasses.replace(me, boot="0ther", pid=int(exited.stdout)).claimant(),
        "old form": "0123456789abcdef",
        "reused pid": dataclasses.replace(me, start=me.start - 1).claimant(),
        "exited": dataclasses.replace(me, pid=int(exited.stdout)).claimant(),
    }
    dead = {kind for kind, owner in owners.items() if claimants.is_dead(owner)}
    assert dead == {"reused pid", "exited"}


def test_a_claimant_names_its_process_and_fits_the_owner_columns() -> None:
    me = claimants.this_process()
    assert me is not None
    name = claimants.claimant_name()
    assert claimants.parse(name) == me
    assert name != claimants.claimant_name(), "each worker gets a nonce of its own"
    long_host = dataclasses.replace(me, host="h" * 180)
    assert len(long_host.claimant()) <= 255
