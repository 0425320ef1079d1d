# `make run` and `make test` are all a new user needs; see README.md. The packages are installed compiled (as the
# Dockerfile's are): every process then starts without compiling them, whether or not it may write bytecode.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test lint typecheck pytest migrate api worker beat flower bench demo messages clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --locked --inexact --compile-bytecode --python $(BIN)/python
	@touch $@

# Migrate, then API, worker, beat and Flower in the foreground; embedded PostgreSQL
# and Redis under $VAR_DIR when DATABASE_URL / REDIS_URL are unset. Ctrl-C stops all.
run: install
	$(BIN)/python -m devstack run

# Lint, types, then the tests (which include `alembic check` and schemathesis).
test: install lint typecheck
	$(BIN)/python -m devstack exec --fresh -- $(BIN)/pytest $(PYTEST_ARGS)

# Python by ruff; the web app's JavaScript by oxlint (.oxlintrc.json), a binary in a wheel: no Node.js. Where oxlint
# has no wheel (see pyproject.toml), the JavaScript is not linted, and this says so.
lint: install
	$(BIN)/ruff check .
	@if [ -x $(BIN)/oxlint ]; then \
		echo "$(BIN)/oxlint web tests/web"; \
		$(BIN)/oxlint --config .oxlintrc.json --deny-warnings --report-unused-disable-directives-severity error web tests/web; \
	else \
		echo "make lint: oxlint has no wheel for this machine ($$(uname -sm)): the web app's JavaScript is not linted here"; \
	fi

typecheck: install
	$(BIN)/mypy

# Components one by one, configured by the environment only.
migrate: install
	$(BIN)/alembic upgrade head

api: install
	$(BIN)/gunicorn "api:create_app()"

worker: install
	$(BIN)/celery -A workers worker --loglevel INFO

beat: install
	$(BIN)/celery -A workers beat --loglevel INFO --schedule $${VAR_DIR:-var}/celerybeat-schedule

flower: install
	$(BIN)/celery -A workers flower --port=$${FLOWER_PORT:-5555}

# Against a running `make run`: sample data, then one booking's whole life with the webhooks it causes.
demo: install
	$(BIN)/python -m devstack.demo

# The benchmark figures (see bench/README.md): a table, and bench/results/latest.json. Not part of `make test`.
bench: install
	$(BIN)/python -m devstack exec --fresh -- $(BIN)/python -m bench $(BENCH_ARGS)

# The service's texts into workflows/locales/messages.pot, and each language's catalogue brought up to date with it
# (new texts untranslated, reworded ones fuzzy): docs/translating.md.
messages: install
	$(BIN)/python -m devstack.messages

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache
	find . -name .ruff_cache -type d -prune -exec rm -rf {} +
