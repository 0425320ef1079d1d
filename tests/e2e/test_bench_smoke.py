"""``make bench`` is not part of the suite, but each benchmark runs once, briefly, so none can rot."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.__main__ import TARGETS
from infra.config import sqlalchemy_url
from tests.conftest import ROOT, SERVER_URL


def _bench_databases() -> set[str]:
    engine = create_engine(sqlalchemy_url(SERVER_URL))
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'mentorship_bench_%'"))
                       .scalars())
    finally:
        engine.dispose()


def test_every_benchmark_runs_and_reports_every_figure(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_KEY_PREFIX", "PROMETHEUS_MULTIPROC_DIR", "SSE_MAX_SECONDS", "APP_ENV",
                          "PASSWORD_HASH_PROFILE"}}
    env.update({"DATABASE_URL": SERVER_URL, "VAR_DIR": str(tmp_path / "var")})
    output = tmp_path / "latest.json"
    before = _bench_databases()

    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(output.read_text())
    assert set(report["figures"]) == set(TARGETS)
    for name, figure in report["figures"].items():
        # A memory growth may be none at all (a smoke export of 1,000 rows can end between two samples): every
        # other figure is a rate, a time or a ratio of them.
        least = 0.0 if name == "export_rss_mb" else math.ulp(0.0)
        assert math.isfinite(figure["median"]) and figure["median"] >= least, name
        assert figure["min"] <= figure["median"] <= figure["max"], name
        assert name in done.stdout  # the table
    detail = report["repetitions_detail"]
    assert detail["api_accept"][0]["accept_rps"] > 0
    assert detail["task_throughput"][0]["create_tasks_per_s"] > 0
    assert detail["webhooks"][0]["deliveries_per_s"] > 0
    assert detail["api_accept"][0]["tx_only_rps"] > 0
    assert detail["pipeline"][0]["e2e_workflows_per_s"] > 0
    assert detail["pipeline"][0]["burst_p99_ms"] > 0
    assert detail["drain"][0]["rows_done"] >= detail["drain"][0]["backlog_rows"] > 0
    assert detail["slot_query"][0]["p50_team_ms"] > 0 and detail["slot_query"][0]["team_slots"] > 0
    assert detail["calendar_sync"][0]["caldav_ms"] > 0 and detail["calendar_sync"][0]["ics_ms"] > 0
    assert detail["calendar_sync"][0]["parse_ms"] > 0 and detail["calendar_sync"][0]["read_ratio"] > 0
    # The match's seed finishes everyone's intake: its run matches the cohort's places (10 mentors, 1 to 5 each).
    assert detail["match_cohort"][0]["matched"] >= 10
    # The run removed the database it created.
    assert _bench_databases() == before
