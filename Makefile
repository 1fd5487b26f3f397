# make run  — the whole app locally (SQLite, Temporal dev server, no Redis needed)
# make test — everything CI runs: lint, migrations check, the full pytest suite
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/approvals

.PHONY: run test lint stress bench deps uv chromium messages

uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || \
		python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv

deps: uv
	@$(UV) sync --locked --quiet

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }

run: deps
	@$(PY) scripts/run.py

lint: deps
	@$(PY) -m ruff check .
	@DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run >/dev/null

test: deps chromium lint
	@DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_DEBUG=1 $(PY) -m pytest $(PYTEST_ARGS)

stress: deps
	@DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_DEBUG=1 STRESS_N=500 $(PY) -m pytest tests/reliability -p no:randomly $(PYTEST_ARGS)

bench: deps
	@DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_DEBUG=1 $(PY) bench/run.py

messages: deps
	@DJANGO_DEBUG=1 $(PY) manage.py makemessages -l de --ignore=.venv --ignore=staticfiles
	@DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv
