"""The baseline of the webhook figure: ``python -m bench.rawpost URL SECONDS BODY_FILE``.

Plain HTTP POSTs of a webhook-sized body with the client the workers send
with (httpx), in a loop, one process per worker slot: what the HTTP requests
alone cost, with nothing of the delivery machinery around them. Prints the
number of 2xx responses.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx


def main(url: str, seconds: float, body_file: str) -> None:
    body = Path(body_file).read_bytes()
    headers = {"content-type": "application/json", "webhook-id": "msg_baseline",
               "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,baseline"}
    ok = 0
    with httpx.Client(timeout=10, trust_env=False) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if client.post(url, content=body, headers=headers).is_success:
                ok += 1
    print(ok, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3])
