"""An open-loop HTTP load: ``python -m bench.openload SPEC.json``.

Request *i* (``POST paths[i]`` with ``tokens[i]``) leaves at ``i / rate``
seconds from the start, whether or not earlier ones have been answered: a
slow server faces the same arrivals, as it would from many independent
clients, and its queue shows in the latencies. Each latency runs from the
request's scheduled time, so a late sender cannot hide a slow server.
asyncio, one keep-alive connection per request in flight (opened when none is
idle). Prints one result line, as ``bench.pyload`` does.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import RESULT_MARK, content_length

_WARM_CONNECTIONS = 16
#: A connection idle longer than this is closed rather than reused: gunicorn closes idle keep-alive
#: connections after 2 s, and a request written as it does so is lost.
_IDLE_REUSE_SECONDS = 1.0

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _post(connection: Connection, host: str, path: str, token: str) -> int:
    reader, writer = connection
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                 f"Content-Length: 0\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(content_length(head))
    return int(head.split(b" ", 2)[1])


async def main(spec: dict[str, object]) -> dict[str, object]:
    target = urlsplit(str(spec["base_url"]))
    host, port = target.hostname or "127.0.0.1", target.port or 80
    paths: list[str] = spec["paths"]  # type: ignore[assignment]
    tokens: list[str] = spec["tokens"]  # type: ignore[assignment]
    rate = float(spec["rate"])  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    # Idle connections, with the time each went idle; the most recently used is reused first.
    idle: list[tuple[Connection, float]] = [(await asyncio.open_connection(host, port), loop.time())
                                            for _ in range(_WARM_CONNECTIONS)]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors = 0

    async def connect() -> Connection:
        while idle:
            connection, since = idle.pop()
            if loop.time() - since < _IDLE_REUSE_SECONDS:
                return connection
            connection[1].close()
        return await asyncio.open_connection(host, port)

    async def one(index: int, scheduled: float) -> None:
        nonlocal errors
        connection = await connect()
        try:
            status = await _post(connection, host, paths[index], tokens[index])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            connection[1].close()
            return
        latencies.append(loop.time() - scheduled)
        statuses[status] += 1
        idle.append((connection, loop.time()))

    start = loop.time() + 0.01
    lag, first_send, last_send = 0.0, time.time(), time.time()
    tasks = []
    for index in range(len(paths)):
        scheduled = start + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, loop.time() - scheduled)
        last_send = time.time()
        if index == 0:
            first_send = last_send
        tasks.append(asyncio.create_task(one(index, scheduled)))
    await asyncio.gather(*tasks)
    for (_, writer), _ in idle:
        writer.close()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"statuses": {str(k): v for k, v in statuses.items()}, "socket_errors": errors,
            "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000, "first_send": first_send,
            "last_send": last_send, "max_lag_ms": lag * 1000}


if __name__ == "__main__":
    result = asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))
    print(RESULT_MARK + json.dumps(result), flush=True)
