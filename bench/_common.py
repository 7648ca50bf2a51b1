"""Helpers shared by the bench scripts: servers in subprocesses, wrk, CPU use, tables.

Loopback only, every wait bounded. A load generator written in Python
measures itself (docs/architecture.md §9), so throughput and latency come from ``wrk``
(Debian package) with a Lua script; Python clients are for correctness passes.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
WRK_INSTALL_HINT = "wrk is not installed: run `apt-get install -y wrk` (Debian package) or `make bench`."
WRK_MARKER = "BENCH_JSON "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def require_wrk() -> str:
    """The path of ``wrk``; exits with an install hint when it is missing."""
    found = shutil.which("wrk")
    if not found:
        print(WRK_INSTALL_HINT, file=sys.stderr)
        raise SystemExit(2)
    return found


def inspect_kit_command() -> list[str]:
    """The ``inspect-kit`` script next to this Python, else ``python -m inspect_kit``."""
    script = Path(sys.executable).parent / "inspect-kit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "inspect_kit"]


@dataclass
class Server:
    """A server in a subprocess, its base URL and log file."""

    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far: its process and every
        descendant (the worker processes of a multi-process server; Linux /proc).
        A worker that has exited no longer counts."""
        stats: dict[int, tuple[int, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
        total, pending = 0.0, [self.process.pid]
        while pending:
            pid = pending.pop()
            if pid in stats:
                total += stats[pid][1]
            pending.extend(child for child, (parent, _) in stats.items() if parent == pid)
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def spawn_server(name: str, command: Sequence[str], port: int, log_path: Path,
                 env: dict[str, str] | None = None) -> Server:
    """Start ``command`` in the background; :func:`wait_ready` waits for it."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})})
    return Server(name, f"http://{HOST}:{port}", process, log_path)


def wait_ready(server: Server, ready_path: str, timeout: float = 60) -> Server:
    """Wait until ``GET ready_path`` answers 200; stop the server and raise with its log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + ready_path, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer {ready_path} within {timeout:.0f} s:\n{server.log()}")


@dataclass
class LoadResult:
    """One wrk run: throughput, latency (ms), errors and the CPU each side used."""

    name: str
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    wrk_cpu_percent: float = 0.0
    server_cpu_percent: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        return {
            "name": self.name, "clients": self.clients, "requests": self.requests,
            "seconds": round(self.seconds, 3), "requests_per_s": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2), "p90_ms": round(self.p90_ms, 2), "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2), "errors": self.errors, "error_count": self.error_count,
            "wrk_cpu_percent": round(self.wrk_cpu_percent, 1),
            "server_cpu_percent": round(self.server_cpu_percent, 1),
            "server_cpu_ms_per_request": round(self.server_cpu_ms_per_request, 2),
        }

    @property
    def server_cpu_ms_per_request(self) -> float:
        """Server CPU per request: steadier than req/s when other work shares the machine."""
        return self.server_cpu_percent / 100 * self.seconds * 1000 / self.requests if self.requests else 0.0


def run_wrk(name: str, url: str, script: Path, *, clients: int, seconds: float, server: Server | None = None,
            threads: int = 2, env: dict[str, str] | None = None, timeout_s: int = 10) -> LoadResult:
    """Run ``wrk`` against ``url`` with a Lua ``script`` whose ``done()`` prints one BENCH_JSON line."""
    wrk = require_wrk()
    threads = max(1, min(threads, clients))
    command = [wrk, f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s", f"--timeout={timeout_s}s",
               "-s", str(script), url]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server.cpu_seconds() if server else 0.0
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})},
                               timeout=seconds + 60)
    wall = time.monotonic() - started
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = (server.cpu_seconds() - server_before) if server else 0.0
    wrk_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(WRK_MARKER)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(lines[-1][len(WRK_MARKER):])
    errors = {kind: figures[kind] for kind in ("connect", "read", "write", "status", "timeout") if figures[kind]}
    return LoadResult(
        name=name, clients=clients, requests=figures["requests"], seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000, p90_ms=figures["p90_us"] / 1000, p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000, errors=errors,
        wrk_cpu_percent=100 * wrk_cpu / wall, server_cpu_percent=100 * server_cpu / wall,
    )


# The Lua side of run_wrk: every request gets a fresh, unique uuid spliced into
# a JSON template (so no request is an idempotent replay) and one of the API
# tokens; done() prints the figures as JSON for the Python side.
WRK_LUA = r"""
local prefix, suffix, tokens, path, run_tag
local counter = 0
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

function init(args)
  local handle = assert(io.open(os.getenv("BENCH_TEMPLATE"), "r"))
  local template = handle:read("*a")
  handle:close()
  local i, j = template:find("__UUID__", 1, true)
  prefix, suffix = template:sub(1, i - 1), template:sub(j + 1)
  tokens = {}
  for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do tokens[#tokens + 1] = token end
  run_tag = os.getenv("BENCH_RUN_TAG")
  path = os.getenv("BENCH_PATH")
end

function request()
  counter = counter + 1
  local uuid = string.format("%s-%04x-4000-8000-%012x", run_tag, tid, counter)
  local headers = {["Content-Type"] = "application/json"}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter + tid) % #tokens + 1]
  end
  return wrk.format("POST", path, headers, prefix .. uuid .. suffix)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain text table, columns padded to their widest cell."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    lines = [line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]
    return "\n".join(lines)
