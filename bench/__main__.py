"""``python -m bench``: every figure of bench/README.md, as a table and as ``bench/results/latest.json``.

``--smoke`` runs each benchmark once, for a second, on small tables: the test
suite uses it so the benchmarks cannot rot; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

ROOT = Path(__file__).resolve().parent.parent

# figure: (where it comes from, the key in each repetition, the target, "min" or "max"); a target of None
# marks a figure reported for information, with no target.
TARGETS: dict[str, tuple[str, str, float | None, str]] = {
    "api_accept_ratio": ("api_accept", "ratio", 0.06, "min"),
    "api_accept_tx_only_ratio": ("api_accept", "tx_only_ratio", None, "min"),
    "task_ratio": ("task_throughput", "ratio", 0.25, "min"),
    "webhook_ratio": ("webhooks", "ratio", 0.5, "min"),
    "workflow_latency_ratio_p50": ("workflow_latency", "p50_ratio", 4.5, "max"),
    "workflow_latency_ratio_p99": ("workflow_latency", "p99_ratio", 10.0, "max"),
    "list_scaling_ratio": ("list_scaling", "ratio", 1.5, "max"),
    "rss_mb_api_worker": ("api_accept", "rss_api_mb", 150.0, "max"),
    "rss_mb_celery_worker": ("task_throughput", "rss_celery_mb", 200.0, "max"),
    "e2e_throughput_ratio": ("pipeline", "e2e_ratio", 0.7, "min"),
    "burst_p99_ratio": ("pipeline", "burst_p99_ratio", 10.0, "max"),
    "burst_done_after_s": ("pipeline", "burst_done_after_s", None, "max"),
    "drain_ratio": ("drain", "drain_ratio", 3.0, "min"),
    "slot_query_scaling": ("slot_query", "ratio", 5.0, "max"),
    "slots_rules_ratio": ("slot_rules", "ratio", 2.0, "max"),
    "calendar_sync_ratio": ("calendar_sync", "ratio", 5.0, "max"),
    "calendar_read_ratio": ("calendar_sync", "read_ratio", 3.0, "max"),
    "series_accept_ratio": ("series_accept", "ratio", 3.0, "max"),
    "pairing_activation_ratio": ("pairing_activation", "ratio", 3.0, "max"),
    "match_cohort_s": ("match_cohort", "cohort_s", 30.0, "max"),
    "match_cohort_matched": ("match_cohort", "matched", None, "min"),  # mentees paired by that run, beside it
    "match_scaling_ratio": ("match_cohort", "scaling_ratio", 150.0, "max"),
    "match_quality_ratio": ("match_cohort", "quality_ratio", 1.0, "min"),
    "export_rss_mb": ("export_rss", "rss_growth_mb", 40.0, "max"),
    "report_scaling_ratio": ("report_scaling", "ratio", 2.0, "max"),
    "announcement_fanout_s": ("announcement_fanout", "fanout_s", 30.0, "max"),
    "message_live_ratio": ("message_live", "ratio", 2.0, "max"),
    "scim_provision_ratio": ("scim_provision", "ratio", 2.0, "max"),
}
# figure: the key of its bound in each repetition, the same ratio for the least work any implementation
# of the figure's operation must do on this stack (see bench/NOTES.md, "Bounds").
BOUNDS: dict[str, str] = {
    "api_accept_ratio": "floor_ratio",
    "task_ratio": "floor_ratio",
    "workflow_latency_ratio_p50": "floor_p50_ratio",
}
BENCHMARKS = ("api_accept", "task_throughput", "workflow_latency", "webhooks", "list_scaling", "pipeline", "drain",
              "slot_query", "slot_rules", "calendar_sync", "series_accept", "pairing_activation", "match_cohort",
              "export_rss", "report_scaling", "announcement_fanout", "message_live", "scim_provision")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured run (default 10)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each figure (default 3, at least 3)")
    parser.add_argument("--large", type=int, default=1_000_000, help="session rows for the large list (1M)")
    parser.add_argument("--small", type=int, default=10_000, help="session rows for the small list (10k)")
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run only these benchmarks")
    parser.add_argument("--smoke", action="store_true", help="one short repetition of each, small tables")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    return parser


def summarise(results: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    figures = {}
    for figure, (bench, key, target, direction) in TARGETS.items():
        if bench not in results:
            continue
        values = [rep[key] for rep in results[bench]]
        median = statistics.median(values)
        figures[figure] = {"median": median, "min": min(values), "max": max(values), "reps": values,
                           "target": target, "met": None, "target_text": ""}
        if target is not None:
            figures[figure] |= {"met": median >= target if direction == "min" else median <= target,
                                "target_text": f"{'≥' if direction == 'min' else '≤'} {target:g}"}
        if figure in BOUNDS:
            figures[figure]["bound"] = statistics.median(rep[BOUNDS[figure]] for rep in results[bench])
            # The distance to the floor, read at a glance: the figure over its bound, per repetition (a throughput
            # aims at 1 from below, a latency from above).
            figures[figure]["of_floor"] = statistics.median(rep[key] / rep[BOUNDS[figure]] for rep in results[bench])
    return figures


def table(figures: dict[str, dict[str, Any]]) -> str:
    head = f"{'figure':<28} {'median':>9} {'min':>9} {'max':>9}  {'target':<8} {'met':<4} {'bound':>6} {'÷ bound':>7}"
    lines = [head, "-" * 86]
    for name, fig in figures.items():
        bound = f"{fig['bound']:>6.3f} {fig['of_floor']:>7.2f}" if "bound" in fig else ""
        met = "" if fig["met"] is None else "yes" if fig["met"] else "NO"
        lines.append(f"{name:<28} {fig['median']:>9.3f} {fig['min']:>9.3f} {fig['max']:>9.3f}  "
                     f"{fig['target_text']:<8} {met:<4} {bound}".rstrip())
    return "\n".join(lines)


def details(results: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for bench, reps in results.items():
        keys = [k for k in reps[0] if not k.endswith("ratio")]
        medians = ", ".join(f"{k} {statistics.median(r[k] for r in reps):.2f}" for k in keys)
        lines.append(f"  {bench}: {medians}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.smoke:
        args.seconds, args.reps, args.small, args.large = 1.0, 1, 200, 2000
    elif args.reps < 3:  # noqa: PLR2004
        print("--reps must be at least 3 (figures are medians)", file=sys.stderr)
        return 2
    from bench.stack import bench_stack  # noqa: PLC0415 - keeps --help fast

    began = time.monotonic()
    work_dir = Path(os.environ.get("VAR_DIR", ROOT / "var")) / "bench"
    with bench_stack(work_dir) as stack:
        # Only now, with the run's database and Redis prefix in the environment.
        # These imports read the settings as they load: they must follow the run's environment.
        from bench import (  # noqa: PLC0415
            announcements,
            calendars,
            deliveries,
            exports,
            latency,
            matching,
            messages,
            pairings,
            pipeline,
            reports,
            scim,
            series,
            slots,
        )
        from bench import figures as bench_figures  # noqa: PLC0415
        from bench.load import generator_name  # noqa: PLC0415
        from infra.celery_config import create_celery  # noqa: PLC0415
        from infra.config import get_settings  # noqa: PLC0415

        # The workflows this process runs to prepare data log at INFO; the servers' logs go to files.
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        get_settings()  # creates the development signing key before any server reads it
        cfg = bench_figures.Config(seconds=args.seconds, reps=args.reps, list_rows_small=args.small,
                                   list_rows_large=args.large,
                                   latency_samples=20 if args.smoke else 100,
                                   # Smoke: 3 s, long enough to be answered while the workers just started settle.
                                   e2e_seconds=3 if args.smoke else 2 * args.seconds,
                                   backlog=100 if args.smoke else 5000,
                                   slot_bookings=60 if args.smoke else 3000,
                                   slot_bookings_inside=10 if args.smoke else 500,
                                   calendar_events=50 if args.smoke else 1000,
                                   series_samples=3 if args.smoke else 12,
                                   match_small=(6, 2) if args.smoke else (100, 30),
                                   match_large=(30, 10) if args.smoke else (1000, 300),
                                   report_pairs=(5, 50) if args.smoke else (50, 5000),
                                   announcement_recipients=20 if args.smoke else announcements.RECIPIENTS,
                                   message_samples=5 if args.smoke else 100,
                                   progress=lambda line: print(f"  {line}", flush=True))
        app = create_celery()
        print(f"load generator: {generator_name()}; {cfg.reps} repetitions of {cfg.seconds:g} s", flush=True)
        runs: dict[str, Callable[[], list[dict[str, Any]]]] = {
            "api_accept": lambda: bench_figures.api_accept(stack, cfg),
            "task_throughput": lambda: bench_figures.task_throughput(stack, cfg, app),
            "workflow_latency": lambda: latency.workflow_latency(stack, cfg, app),
            "webhooks": lambda: deliveries.webhooks(stack, cfg, app),
            "list_scaling": lambda: bench_figures.list_scaling(stack, cfg),
            "pipeline": lambda: pipeline.pipeline(stack, cfg),
            "drain": lambda: pipeline.drain(stack, cfg, app),
            "slot_query": lambda: slots.slot_query(stack, cfg),
            "slot_rules": lambda: slots.slot_rules(stack, cfg),
            "calendar_sync": lambda: calendars.calendar_sync_ratio(cfg),
            "series_accept": lambda: series.series_accept(stack, cfg),
            "pairing_activation": lambda: pairings.pairing_activation(stack, cfg),
            "match_cohort": lambda: matching.match_cohort(stack, cfg),
            "export_rss": lambda: exports.export_rss(stack, cfg, 1000 if args.smoke else 100_000),
            "report_scaling": lambda: reports.report_scaling(stack, cfg),
            "announcement_fanout": lambda: announcements.announcement_fanout(stack, cfg),
            "message_live": lambda: messages.message_live(stack, cfg),
            "scim_provision": lambda: scim.scim_provision(stack, cfg),
        }
        results = {}
        for name in args.only or BENCHMARKS:
            print(f"{name}:", flush=True)
            stack.vacuum()
            results[name] = runs[name]()
        generator = generator_name()
    figures = summarise(results)
    print()
    print(table(figures))
    print(details(results))
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_generator": generator, "seconds_per_run": args.seconds, "repetitions": args.reps,
        "smoke": args.smoke, "wall_seconds": round(time.monotonic() - began, 1),
        "figures": figures, "repetitions_detail": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {args.output} in {report['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
