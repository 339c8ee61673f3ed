"""The malloc arena cap applies on this machine's glibc."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from pasar_testkit.processes import ComponentProcess, console_script


def test_the_arena_cap_is_accepted_by_glibc() -> None:
    # In a child process: the cap is process-wide and must not change the test runner.
    code = (
        "from pasar_kit.memory import limit_malloc_arenas\n"
        "raise SystemExit(0 if limit_malloc_arenas() else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# glibc's heaps for arenas other than the main one: 64 MB of address space each (HEAP_MAX_SIZE
# on 64-bit), aligned to 64 MB, mapped read-write as far as they are used, the rest reserved.
ARENA_HEAP = 64 << 20


def arena_heaps(pid: int) -> int:
    """How many glibc arena heaps /proc/pid/maps shows (the main arena's [heap] not counted)."""
    mappings = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        start, end = (int(value, 16) for value in fields[0].split("-"))
        mappings.append((start, end, fields[1], len(fields) == 5))
    heaps = 0
    for index, (start, end, mode, anonymous) in enumerate(mappings):
        if not (anonymous and mode == "rw-p" and start % ARENA_HEAP == 0):
            continue
        after = mappings[index + 1] if index + 1 < len(mappings) else None
        reserved_end = after[1] if after and after[0] == end and after[2] == "---p" else end
        heaps += reserved_end - start == ARENA_HEAP
    return heaps


@pytest.mark.parametrize("service", ["product", "payment", "order"])
def test_a_busy_service_allocates_from_two_arenas_at_most(service: str, tmp_path: Path) -> None:
    """The cap holds only for arenas made after it: it is set before gRPC starts any thread."""
    process = ComponentProcess(
        service,
        command=[console_script(f"pasar-{service}"), "serve"],
        env={
            "PASAR_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path / f'{service}.db'}",
            "PASAR_MAIL_DIR": str(tmp_path / "mail"),
            "PASAR_GRPC_WORKERS": "16",
        },
        log_dir=tmp_path / "logs",
    )
    process.start()
    try:

        def check_health(_: int) -> None:
            with grpc.insecure_channel(process.address) as channel:
                for _ in range(20):
                    grpc_health_check(channel)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(check_health, range(32)))
        assert process.process is not None
        assert arena_heaps(process.process.pid) <= 1  # with the main arena: two
    finally:
        process.stop()


def grpc_health_check(channel: grpc.Channel) -> None:
    call = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    answer = call(health_pb2.HealthCheckRequest(), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
