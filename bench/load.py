"""HTTP load from a separate process: wrk when it is installed, else a Python generator (``bench.pyload``).

Both walk a list of paths (each request takes the next one, so every accept
hits a different booking), count responses by status and report latency
percentiles, as one JSON line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


def generator_name() -> str:
    return "wrk" if shutil.which("wrk") else "python (bench.pyload; install wrk for a lighter generator)"


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for our ASCII inputs


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
            spec = Path(tmp) / "load.json"
            spec.write_text(json.dumps({"base_url": base_url, "paths": paths, "method": method,
                                        "headers": headers, "body": body, "seconds": seconds, "tokens": tokens,
                                        "connections": connections}))
            argv = [sys.executable, "-m", "bench.pyload", str(spec)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 120)  # noqa: S603
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line[len(RESULT_MARK):])
            return LoadResult(data["duration_s"], {int(k): v for k, v in data["statuses"].items()},
                              data["socket_errors"], data["p50_ms"], data["p99_ms"])
    raise RuntimeError(f"the load generator reported nothing ({done.returncode}):\n{done.stdout}\n{done.stderr}")
