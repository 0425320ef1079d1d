"""The API as gunicorn serves it, plus the no-op route the accept figure is compared with."""

from __future__ import annotations

from flask import Flask

from api import create_app


def create_bench_app() -> Flask:
    """``create_app()`` with ``POST /bench/noop``: same middleware, same gunicorn, no work."""
    app = create_app()

    @app.post("/bench/noop")
    def noop() -> tuple[dict[str, bool], int]:
        return {"ok": True}, 200

    return app
