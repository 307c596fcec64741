# VoIPXS: `make run` for a first look, `make test` for the whole suite.
# Needs only Python 3.11 and make; everything else goes into ./.venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-x tests/voipxs"`.
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install install-dev lock run migrate seed worker beat backup test e2e fuzz lint check clean-venv \
        bench-ingest bench-portal bench-purge bench-export bench-disclosure bench-load bench-soak bench-push

help:
	@echo "make run      virtualenv, install, migrate, demo data, server on http://127.0.0.1:$(PORT)"
	@echo "make test     virtualenv, install, the whole suite (browser and fuzz tests skip without Chromium)"
	@echo "make worker   Celery worker (needs REDIS_URL)      make beat   Celery beat (needs REDIS_URL)"
	@echo "make migrate  apply migrations                     make e2e / make fuzz   browser / API fuzz tests only"
	@echo "make backup   database + private files into $(BACKUP_DIR)/voipxs-<time>/, month keys into BACKUP_KEYS_FILE"
	@echo "make bench-ingest | bench-portal | bench-purge | bench-export | bench-disclosure   (PostgreSQL: DATABASE_URL)"
	@echo "make bench-load | bench-soak   gunicorn under 32 signed-in customers, 60 s / 10 min (DATABASE_URL, REDIS_URL)"
	@echo "make bench-push   64 switches pushing CDRs over HTTP to gunicorn for 20 s (DATABASE_URL)"

# --- virtualenv and dependencies -----------------------------------------------------------------
# requirements.txt and requirements-dev.txt name what we depend on; the .lock files pin every package,
# transitive ones included, with the SHA-256 of each file, and pip installs only those files
# (--require-hashes). `make lock` regenerates the locks after a requirements file changed.
# The stamp files are newer than the locks they were installed from; an unchanged lock costs nothing.
$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.lock | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed-runtime
	$(PY) -m pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.lock
	@touch $@

PIP_TOOLS_VERSION ?= 7.7.0
LOCK_VENV ?= var/lock-venv
# pip-tools runs in a venv of its own, so the project's venv stays exactly what the locks say.
lock: | var
	@test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/pip install --disable-pip-version-check -q pip-tools==$(PIP_TOOLS_VERSION))
	$(LOCK_VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-header \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock requirements.txt
	$(LOCK_VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-header \
	  --no-emit-index-url --no-emit-find-links -o requirements-dev.lock requirements-dev.txt

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

# Written once with fresh keys; git-ignored. Delete it to start over (the SQLite data then no longer decrypts).
.env: | $(VENV)/.installed-runtime
	@$(PY) -m voipxs.privacy.keys > .env.new
	@echo "DJANGO_DEBUG=True" >> .env.new
	@mv .env.new .env
	@echo "Wrote .env with fresh keys (git-ignored; keep it: the demo data is encrypted with them)."

var:
	@mkdir -p var

# --- running -------------------------------------------------------------------------------------
migrate: install .env var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@if [ -n "$$DATABASE_URL" ]; then echo "Database: PostgreSQL from DATABASE_URL"; else echo "Database: SQLite file var/db.sqlite3"; fi
	@if [ -n "$$REDIS_URL" ]; then echo "Broker: $$REDIS_URL. Start the worker and beat in two more terminals: make worker; make beat"; \
	 else echo "Broker: none; tasks run in-process (set REDIS_URL to use Celery)"; fi
	@echo "Open http://127.0.0.1:$(PORT)/ and sign in with a demo login above."
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

worker: install .env var
	$(VENV)/bin/celery -A voipxs worker --loglevel=INFO

beat: install .env var
	$(VENV)/bin/celery -A voipxs beat --loglevel=INFO --schedule var/celerybeat-schedule

# A backup (retention/backup/): database and encrypted private files into a new directory under
# BACKUP_DIR, the month keys into their own file (BACKUP_KEYS_FILE), the master keys nowhere. Restore:
# `manage.py backup_restore --from DIR` into a new, empty database (README, "Backups and restore").
BACKUP_DIR ?= var/backups
backup: install var
	$(PY) manage.py backup_create --out $(BACKUP_DIR)

# --- tests ---------------------------------------------------------------------------------------
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

e2e: install-dev
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

fuzz: install-dev
	$(PY) -m pytest -m fuzz $(PYTEST_ARGS)

check: install-dev
	DJANGO_SETTINGS_MODULE=voipxs.settings_test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=voipxs.settings_test $(PY) manage.py check

RUFF_VERSION ?= 0.17.6
lint: install-dev
	@$(PY) -m ruff --version >/dev/null 2>&1 || $(PY) -m pip install --disable-pip-version-check -q ruff==$(RUFF_VERSION)
	# The serious set only (syntax errors, undefined names, broken comparisons); not part of CI.
	$(PY) -m ruff check --select E9,F63,F7,F82 .

# --- benchmarks (code in bench/; they read DATABASE_URL and create what they need) ---------------
bench-ingest: install-dev .env
	$(PY) -m bench.ingest
bench-portal: install-dev .env
	$(PY) -m bench.portal
bench-purge: install-dev .env
	$(PY) -m bench.purge $(BENCH_ARGS)
bench-export: install-dev .env
	$(PY) -m bench.export
bench-disclosure: install-dev .env
	$(PY) -m bench.disclosure
# By hand only, never in CI: gunicorn (production settings) on 127.0.0.1 and a bounded load generator.
# BENCH_ARGS e.g. "--reuse" (keep the seeded database), "--duration 30", "--profile 5" (no server: cProfile).
bench-load: install-dev .env
	$(PY) -m bench.load $(BENCH_ARGS)
bench-soak: install-dev .env
	$(PY) -m bench.load --soak $(BENCH_ARGS)
bench-push: install-dev .env
	$(PY) -m bench.push $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
