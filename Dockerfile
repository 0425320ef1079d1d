# One image for every component of docker-compose.yml: the API (the default CMD),
# the Celery workers, beat, Flower and the one-shot `alembic upgrade head`.
#
#   docker build -t mentorship-booking .

# --- build: the locked runtime dependencies in /app/.venv -------------------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

# The same uv as the Makefile's UV_VERSION.
RUN pip install uv==0.13.9

WORKDIR /app
# Dependencies first, so a code change does not reinstall them. The project itself
# is not a package (`[tool.uv] package = false`): only its dependencies are installed,
# and --no-dev leaves out the dev group with the local stack's (embedded servers, honcho).
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

# --- runtime -------------------------------------------------------------------------
FROM python:3.11-slim

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    API_HOST=0.0.0.0

# SAML sign-in checks signatures with xmlsec1 (pysaml2 calls it); without it SAML is off and says so.
RUN apt-get update \
    && apt-get install -y --no-install-recommends xmlsec1 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --user-group app \
    && mkdir -p /app/var /metrics \
    && chown app:app /app/var /metrics

WORKDIR /app
COPY --from=build /app/.venv /app/.venv
# The service's code only: .dockerignore keeps out the tests, bench/, devstack/ and the Procfile.
COPY . .

USER app
EXPOSE 8000 5555
# gunicorn reads /app/gunicorn.conf.py (bind $API_HOST:$API_PORT, gthread workers).
CMD ["gunicorn", "api:create_app()"]
