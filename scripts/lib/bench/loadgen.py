"""The load generators: wrk for HTTP/1.1, h2load for gRPC, both C programs from Debian.

A Python load generator would take a core of its own to reach the rates the gateway
serves, on a machine with two: it would starve the servers it measures. wrk and h2load
drive thousands of requests a second on a few per cent of a core. Each run's CPU time
(the generator's user and system time, from the kernel's accounting of waited-for
children) is reported beside its figures, as the share of one core it took.

wrk runs a Lua script made of a data header (paths, packages, keys) written here and one
of the scripts in ``lua/``, followed by ``lua/report.lua``, which prints one JSON line:
requests, errors, latency percentiles and status codes. h2load posts one gRPC frame over
HTTP/2 and logs each request's latency to a file, from which the percentiles are computed.
"""

from __future__ import annotations

import json
import re
import resource
import statistics
import struct
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import message

LUA_DIR = Path(__file__).parent / "lua"
RESULT_PREFIX = "BENCH-RESULT "


class LoadError(RuntimeError):
    """The load generator failed or printed nothing that can be read."""


@dataclass(frozen=True)
class Measurement:
    """One timed run of one scenario."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    # Non-2xx/3xx answers and socket errors (connect, read, write, timeout).
    failed: int
    socket_errors: int
    statuses: Mapping[str, int] = field(default_factory=dict)
    # The generator's CPU time over the run's wall time: the share of one core it took.
    generator_cpu_cores: float = 0.0
    # The servers' CPU milliseconds per request, by group ("servers", "jaeger"), where the
    # scenario names the processes (bench.cpu); empty otherwise.
    cpu_ms_per_request: Mapping[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def lua_literal(value: Any) -> str:
    """A Lua literal for strings, numbers, lists and string-keyed tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua escapes for this text
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"[{json.dumps(str(k))}] = {lua_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    raise TypeError(f"no Lua literal for {value!r}")


def write_wrk_script(path: Path, script: str, data: Mapping[str, Any]) -> Path:
    """Writes data as Lua globals, then lua/<script>.lua and lua/report.lua, into path."""
    header = "\n".join(f"{name} = {lua_literal(value)}" for name, value in data.items())
    body = (LUA_DIR / f"{script}.lua").read_text()
    report = (LUA_DIR / "report.lua").read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{header}\n\n{body}\n{report}")
    return path


class ChildCpu:
    """CPU time of waited-for children, to measure the generator a run started and waited for."""

    def __enter__(self) -> ChildCpu:
        self._before = self._now()
        self._started = time.monotonic()
        self.cores = 0.0
        return self

    def __exit__(self, *_exc: object) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self.cores = (self._now() - self._before) / elapsed

    @staticmethod
    def _now() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime


def run_wrk(
    url: str,
    script: Path,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    timeout_seconds: float = 10.0,
) -> Measurement:
    """wrk with one script at a fixed number of connections (closed loop: one request each)."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout_seconds))}s",
        "-s",
        str(script),
        url,
    ]
    with ChildCpu() as cpu:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if finished.returncode != 0:
        raise LoadError(f"wrk failed ({finished.returncode}): {finished.stderr.strip() or finished.stdout}")
    lines = [line for line in finished.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise LoadError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    latency = result["latency_us"]
    errors = result["errors"]
    elapsed = result["duration_us"] / 1e6
    return Measurement(
        requests=result["requests"],
        seconds=round(elapsed, 3),
        rps=round(result["requests"] / elapsed, 1) if elapsed else 0.0,
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
        max_ms=latency["max"] / 1000,
        failed=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        statuses=dict(sorted(result["statuses"].items())),
        generator_cpu_cores=round(cpu.cores, 3),
    )


def grpc_frame(request: message.Message) -> bytes:
    """One uncompressed gRPC message frame: flag, length, protobuf bytes."""
    payload = request.SerializeToString()
    return b"\x00" + struct.pack(">I", len(payload)) + payload


_FINISHED = re.compile(r"finished in ([\d.]+)s, ([\d.]+) req/s")
_REQUESTS = re.compile(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed")
_STATUSES = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


def run_h2load_grpc(
    address: str,
    method_path: str,
    request: message.Message,
    work_dir: Path,
    *,
    seconds: float,
    connections: int,
    streams: int,
) -> Measurement:
    """h2load posting one gRPC request over HTTP/2 (prior knowledge) for `seconds`.

    h2load checks HTTP statuses, not the grpc-status trailer: the caller checks one call
    through a real gRPC client first, and the response bytes per request are reported.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    body = work_dir / "grpc-request.bin"
    body.write_bytes(grpc_frame(request))
    log_file = work_dir / "h2load.tsv"
    log_file.unlink(missing_ok=True)
    command = [
        "h2load",
        f"--clients={connections}",
        f"--max-concurrent-streams={streams}",
        "--threads=1",
        f"--duration={max(1, round(seconds))}",
        "--header=content-type: application/grpc",
        "--header=te: trailers",
        f"--data={body}",
        f"--log-file={log_file}",
        f"http://{address}{method_path}",
    ]
    with ChildCpu() as cpu:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    output = finished.stdout
    timing, counts, statuses = _FINISHED.search(output), _REQUESTS.search(output), _STATUSES.search(output)
    if finished.returncode != 0 or not (timing and counts and statuses):
        raise LoadError(f"h2load failed ({finished.returncode}):\n{output}\n{finished.stderr}")
    latencies = sorted(
        int(columns[2]) / 1000
        for columns in (line.split("\t") for line in log_file.read_text().splitlines())
        if len(columns) >= 3 and columns[1] == "200"
    )
    if not latencies:
        raise LoadError(f"h2load logged no successful request:\n{output}")
    done, failed = int(counts.group(2)), int(counts.group(4))
    non_2xx = sum(int(statuses.group(i)) for i in (2, 3, 4))
    return Measurement(
        requests=done,
        seconds=float(timing.group(1)),
        rps=float(timing.group(2)),
        p50_ms=round(percentile(latencies, 50), 3),
        p95_ms=round(percentile(latencies, 95), 3),
        p99_ms=round(percentile(latencies, 99), 3),
        mean_ms=round(statistics.fmean(latencies), 3),
        max_ms=round(latencies[-1], 3),
        failed=non_2xx,
        socket_errors=failed,
        statuses={
            "2xx": int(statuses.group(1)),
            "4xx": int(statuses.group(3)),
            "5xx": int(statuses.group(4)),
        },
        generator_cpu_cores=round(cpu.cores, 3),
    )


def percentile(ordered: Sequence[float], rank: float) -> float:
    """The nearest-rank percentile of an ordered, non-empty sequence."""
    index = max(0, min(len(ordered) - 1, round(rank / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
