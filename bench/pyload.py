"""A small HTTP load generator for machines without wrk: ``python -m bench.pyload SPEC.json``.

Keep-alive connections, one thread each, taking the spec's paths in turn (each
path once, then stop, when the spec says ``once``); prints
the same result line as the wrk script. It costs more CPU per request than wrk,
which on a small machine takes some from the server: figures measured with it
are lower bounds of what wrk measures.
"""

from __future__ import annotations

import http.client
import itertools
import json
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import RESULT_MARK


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    target = urlsplit(spec["base_url"])
    paths: list[str] = spec["paths"]
    tokens: list[str] = spec["tokens"]
    body = spec["body"].encode() or None
    counter = itertools.count()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + spec["seconds"]

    def worker() -> None:
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=10)
        mine: Counter[int] = Counter()
        times: list[float] = []
        while time.monotonic() < deadline:
            index = next(counter)
            if spec.get("once") and index >= len(paths):
                break
            index %= len(paths)
            headers = spec["headers"]
            if tokens:
                headers = {**headers, "Authorization": f"Bearer {tokens[index]}"}
            began = time.perf_counter()
            try:
                conn.request(spec["method"], paths[index], body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                with lock:
                    errors[0] += 1
                continue
            times.append(time.perf_counter() - began)
            mine[response.status] += 1
        with lock:
            statuses.update(mine)
            latencies.extend(times)

    began = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(spec["connections"])]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    duration = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(RESULT_MARK + json.dumps({
        "duration_s": duration, "statuses": {str(k): v for k, v in statuses.items()}, "socket_errors": errors[0],
        "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000,
    }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
