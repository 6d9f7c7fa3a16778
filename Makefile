# Lianxin: `make run` brings up the portal with demo data; `make test` runs lint and every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test setup venv lint pytest messages worker beat clean bench

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Lianxin needs Python 3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	# Never `pip install .`: the app `requests` would replace PyPI requests.
	$(PY) -m pip install --quiet --group dev
	touch $@

venv: $(VENV)/.installed

setup: venv
	mkdir -p var
	$(PY) scripts/compile_translations.py
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0

# Without REDIS_URL, tasks run eagerly and celery beat runs beside the server
# (periodic jobs execute in the beat process). With REDIS_URL, start `make worker`
# and `make beat` in two more terminals (see Procfile).
run: setup
	$(PY) manage.py seed_demo --if-empty
	@if [ -z "$$REDIS_URL" ]; then \
	  $(VENV)/bin/celery -A center beat --loglevel=WARNING --pidfile= & BEAT=$$!; \
	  trap "kill $$BEAT 2>/dev/null" EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST); \
	else \
	  $(PY) manage.py runserver $(HOST); \
	fi

# Every queue in one worker (the default, SMS and email); docs/notifications.md
# shows one worker per queue on several machines.
worker: venv
	$(VENV)/bin/celery -A center worker -Q celery,sms,email,reports --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A center beat --loglevel=INFO --pidfile=

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

test: lint
	$(PY) scripts/compile_translations.py
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Developer tool (needs GNU gettext): refresh the catalogues after changing strings.
# django-axes's admin strings are translated by hand in our catalogue: makemessages
# marks them obsolete (#~); remove the "#~ " from those entries before committing.
messages: venv
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --no-location

# The city-scale benchmark (docs/performance.md): builds the data set in a
# database whose name contains "bench" (DATABASE_URL; reused when already
# built), then times every page against requests/bench/budgets.py.
#   make bench BENCH_ARGS="--scale 0.01"      a smoke run
#   make bench BENCH_ARGS="--write-docs"      the table into docs/performance.md
bench: venv
	$(PY) manage.py bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles var db.sqlite3
