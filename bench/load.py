"""HTTP load from a separate process: wrk when it is installed, else a Python generator (``bench.pyload``).

Both walk a list of paths (each request takes the next one, so every accept
hits a different booking), count responses by status and report latency
percentiles, as one JSON line. :func:`run_open_loop` sends on a schedule
instead (``bench.openload``), whatever the answers' pace.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT_MARK = "BENCH-RESULT "

_WRK_SCRIPT = """
local paths = {%(paths)s}
local tokens = {%(tokens)s}
local method, body = %(method)s, %(body)s
local headers = {%(headers)s}
local threads, created = {}, 0

function setup(thread)
  thread:set("index", created)
  thread:set("stride", %(threads)d)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  sent, statuses = 0, {}
end

function request()
  local i = (index + sent * stride) %% #paths + 1
  sent = sent + 1
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[i] end
  return wrk.format(method, paths[i], headers, body)
end

function response(status, hdrs, resp_body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do table.insert(parts, string.format('"%%d": %%d', status, count)) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('%(mark)s{"duration_s": %%f, "statuses": {%%s}, "socket_errors": %%d, ' ..
    '"p50_ms": %%f, "p99_ms": %%f}\\n', summary.duration / 1e6, table.concat(parts, ", "), errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


@dataclass(frozen=True)
class LoadResult:
    duration_s: float
    statuses: dict[int, int]
    socket_errors: int
    p50_ms: float
    p99_ms: float

    def ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)  # noqa: PLR2004

    def ok_per_second(self) -> float:
        return self.ok() / self.duration_s


def content_length(head: bytes) -> int:
    """The ``Content-Length`` of an HTTP/1.1 message head (through its blank line); 0 when it has none."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def generator_name() -> str:
    return "wrk" if shutil.which("wrk") else "python (bench.pyload; install wrk for a lighter generator)"


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for our ASCII inputs


def _result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            data: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
            data["statuses"] = {int(k): v for k, v in data["statuses"].items()}
            return data
    raise RuntimeError(f"the load generator reported nothing ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def run_load(base_url: str, paths: list[str], *, seconds: float, connections: int, threads: int = 2,
             method: str = "GET", headers: dict[str, str] | None = None, body: str = "",
             tokens: list[str] | None = None) -> LoadResult:
    """Send requests for ``seconds`` over ``connections`` keep-alive connections; ``paths`` are taken in turn.

    ``tokens``, when given, are bearer tokens, one per path: request *i* authenticates with ``tokens[i]``.
    """
    tokens = tokens or []
    if tokens and len(tokens) != len(paths):
        raise ValueError("one token per path")
    headers = dict(headers or {})
    if body:
        headers.setdefault("Content-Type", "application/json")
    threads = min(threads, connections)
    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("wrk"):
            script = Path(tmp) / "load.lua"
            script.write_text(_WRK_SCRIPT % {
                "paths": ", ".join(_lua(path) for path in paths),
                "tokens": ", ".join(_lua(token) for token in tokens),
                "method": _lua(method), "body": _lua(body) if body else "nil",
                "headers": ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()),
                "threads": threads, "mark": RESULT_MARK,
            })
            argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                    "--timeout", "10s", "-s", str(script), base_url]
        else:
            argv = _pyload(Path(tmp), {"base_url": base_url, "paths": paths, "method": method, "headers": headers,
                                       "body": body, "seconds": seconds, "tokens": tokens,
                                       "connections": connections})
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 120)  # noqa: S603
    data = _result(done)
    return LoadResult(data["duration_s"], data["statuses"], data["socket_errors"], data["p50_ms"], data["p99_ms"])


def _pyload(tmp: Path, spec: dict[str, Any]) -> list[str]:
    path = tmp / "load.json"
    path.write_text(json.dumps(spec))
    return [sys.executable, "-m", "bench.pyload", str(path)]


def run_each_once(base_url: str, paths: list[str], tokens: list[str], *, connections: int,
                  timeout: float = 600) -> LoadResult:
    """POST each path exactly once, with its bearer token, over ``connections`` keep-alive connections."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = _pyload(Path(tmp), {"base_url": base_url, "paths": paths, "method": "POST", "headers": {},
                                   "body": "", "seconds": timeout, "tokens": tokens, "connections": connections,
                                   "once": True})
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout + 60)  # noqa: S603
    data = _result(done)
    return LoadResult(data["duration_s"], data["statuses"], data["socket_errors"], data["p50_ms"], data["p99_ms"])


@dataclass(frozen=True)
class OpenLoopResult:
    """What ``bench.openload`` saw: latencies run from each request's scheduled time, not from when it left."""

    statuses: dict[int, int]
    socket_errors: int
    p50_ms: float
    p99_ms: float
    first_send: float  # time.time() of the first request and the last
    last_send: float
    max_lag_ms: float  # how far behind its schedule the sender fell at worst


def run_open_loop(base_url: str, paths: list[str], tokens: list[str], *, rate: float) -> OpenLoopResult:
    """POST ``paths[i]`` at ``i / rate`` seconds from the start, each on time whether or not earlier ones answered."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "open.json"
        spec.write_text(json.dumps({"base_url": base_url, "paths": paths, "tokens": tokens, "rate": rate}))
        done = subprocess.run([sys.executable, "-m", "bench.openload", str(spec)],  # noqa: S603
                              capture_output=True, text=True, check=False, timeout=len(paths) / rate + 120)
    data = _result(done)
    return OpenLoopResult(data["statuses"], data["socket_errors"], data["p50_ms"], data["p99_ms"],
                          data["first_send"], data["last_send"], data["max_lag_ms"])
