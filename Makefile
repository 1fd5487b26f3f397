# make run  — the whole app locally: SQLite, a Temporal dev server, the worker inside
#             the web process (no Redis needed). Ctrl-C stops everything it started.
# make test — everything CI runs: ruff, makemigrations --check, the full pytest suite
#             (PostgreSQL, real Temporal dev servers from the wheels, Debian Chromium).
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV = $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/approvals
# Tests only (never `make run`): seed_demo hashes the demo passwords for every test
# (1.6 s each with PBKDF2); tests/conftest.py sets the same when pytest runs alone.
FAST_HASHER := PASSWORD_HASHERS=django.contrib.auth.hashers.MD5PasswordHasher
# apt as root, or through sudo when not root.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: run test lint stress bench bench-load bench-ocr bench-flags deps uv chromium tesseract gettext docker-compose messages node-deps vendor-js poppler

# uv from PyPI when missing (user site first; Debian's "externally managed" Python next).
uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || \
		python3 -m pip install --user --quiet uv 2>/dev/null || \
		python3 -m pip install --user --quiet --break-system-packages uv

deps: uv
	@$(UV) sync --locked --quiet

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		$(APT) update -qq && $(APT) install -y -qq chromium >/dev/null; }

# Tesseract with German and English data: receipts are read by OCR (approvals/ocr/).
# Part of `make test`; `make run` tries it but works without it (the form then says
# reading is not available and lines are filled by hand). pdftoppm (poppler) renders a
# PDF receipt's first page for it.
TESSERACT_PKGS := tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng poppler-utils
tesseract:
	@command -v tesseract >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && \
		tesseract --list-langs 2>/dev/null | grep -qx deu && \
		tesseract --list-langs 2>/dev/null | grep -qx eng || { \
		$(APT) update -qq && $(APT) install -y -qq $(TESSERACT_PKGS) >/dev/null; }

# xgettext/msgfmt: the catalog test re-extracts messages; `make messages` compiles.
# (The compiled .mo is committed, so `make run` never needs them.)
gettext:
	@command -v xgettext >/dev/null 2>&1 && command -v msgfmt >/dev/null 2>&1 || { \
		$(APT) update -qq && $(APT) install -y -qq gettext >/dev/null; }

# pdftotext: the evidence-file tests read the rendered PDF back (test-only; rendering is
# reportlab + pypdf, pure Python).
poppler:
	@command -v pdftotext >/dev/null 2>&1 || { \
		$(APT) update -qq && $(APT) install -y -qq poppler-utils >/dev/null; }

# Debian's docker-compose (v1) validates deploy/compose.yaml in the suite; no engine needed.
docker-compose:
	@command -v docker-compose >/dev/null 2>&1 || { \
		$(APT) update -qq && $(APT) install -y -qq docker-compose >/dev/null; }

# Test-only JavaScript (package-lock.json, pinned; never served): axe-core for the browser
# tests' accessibility check, oidc-provider for the OpenID Provider the SSO tests start.
# `npm ci` only when one of them is missing.
node-deps:
	@command -v npm >/dev/null 2>&1 || { $(APT) update -qq && $(APT) install -y -qq npm >/dev/null; }
	@test -f node_modules/axe-core/axe.min.js -a -f node_modules/idiomorph/dist/idiomorph-ext.min.js \
		-a -f node_modules/oidc-provider/package.json || npm ci --no-audit --no-fund --silent

# idiomorph (htmx's morph swap) is served from static/vendor/: the committed copy of the
# pinned npm file (tests/config/test_vendored_js.py checks they are the same).
vendor-js: node-deps
	@cp node_modules/idiomorph/dist/idiomorph-ext.min.js static/vendor/idiomorph-ext.min.js

run: deps
	@$(MAKE) --no-print-directory tesseract 2>/dev/null || \
		echo "Tesseract could not be installed: receipts are not read (lines are filled by hand)."
	@$(PY) scripts/run.py

lint: deps
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run >/dev/null

# pytest-xdist workers (TEST_WORKERS=0 make test: one process): each has its own Temporal
# dev server, test database (test_approvals_gw0, ...), live servers on free ports and tmp
# dirs; Redis keys carry a per-test prefix. Default 0: on this 2-core machine two workers
# took 16 min 30 s-19 min 34 s against 24-27 min in one process, but 2 of 5 full runs had
# timing failures under the load (README, "Tests in parallel"); CI must not flake.
TEST_WORKERS ?= 0
test: deps chromium tesseract gettext poppler docker-compose node-deps lint
	@$(FAST_HASHER) DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_DEBUG=1 $(PY) -m pytest \
		-n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

stress: deps
	@$(FAST_HASHER) DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_DEBUG=1 STRESS_N=$${STRESS_N:-500} $(PY) -m pytest tests/reliability/test_crash.py -s $(PYTEST_ARGS)

# make bench — not part of make test: its own database (dropped and created), Temporal dev
# server, worker and web; needs PostgreSQL and Redis. Results: BENCHMARKS.md, bench/results/.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/approvals_bench
bench: deps
	@BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/run.py

# make bench-load — the inbox at a company's size (bench/load.py, issue 28): its own stack
# with the dev server at a visibility limit; knobs LOAD_* (LOAD_APPROVERS=500, LOAD_OPEN=5000,
# LOAD_LIMIT=10, LOAD_DURATION_S=300, LOAD_WEBS/LOAD_WORKERS, LOAD_FAULT=1). BENCHMARKS.md.
bench-load: deps
	@BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/load.py

# make bench-ocr — receipts read by OCR (bench/ocr.py, issue 26): accuracy on the drawn
# receipts and the photographed fixtures, seconds per receipt on one core, and approval
# latency with and without a burst of 50 receipts (its own stack). BENCHMARKS.md.
bench-ocr: deps tesseract
	@BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/ocr.py
# make bench-flags — submission with the spend checks over 100,000 past lines (bench/flags.py,
# issue 27): its own database (dropped and created), no Temporal. Results: BENCHMARKS.md.
bench-flags: deps
	@BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/approvals_bench_flags $(PY) bench/flags.py

# Re-extract the catalog after changing strings, translate, then compile (commit both files).
messages: deps gettext
	@DJANGO_DEBUG=1 $(PY) manage.py makemessages -l de --add-location file --ignore=.venv --ignore=staticfiles --ignore=var --ignore=node_modules
	@DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv
