# e-retraite — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CMR_PORT ?= 8001
export PORT

# Under CI (CI=true) the tests run on PostgreSQL and Redis; elsewhere too, unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/eretraite
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/eretraite_bench
# Three pytest workers (pytest-xdist) on the machine's two cores: the longest tests mostly wait (a Celery
# worker through faults, a browser on a throttled line, the fuzzer's server), so a third worker cuts the
# run from 22 to 15 minutes. `make test PYTEST_ARGS=...` replaces them.
PYTEST_ARGS ?= -n 3

.PHONY: install run test lint bench messages clean

# scripts/install-venv holds a lock: `make run` and `make test` may start together on a fresh clone.
$(VENV)/.installed: pyproject.toml
	VENV=$(VENV) PYTHON=$(PYTHON) scripts/install-venv

install: $(VENV)/.installed

# Development server on SQLite with an embedded (eager) Celery: no database or broker server needed.
# The mock CMR back office runs beside it (port CMR_PORT) and stops with it.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: export CMR_BASE_URL ?= http://127.0.0.1:$(CMR_PORT)
run: install
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py load_demo
	@$(BIN)/python manage.py run_cmr_mock --port $(CMR_PORT) & mock=$$!; \
	  trap 'kill $$mock 2>/dev/null' EXIT INT TERM; \
	  echo "  Mock CMR back office: http://127.0.0.1:$(CMR_PORT)/"; \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	scripts/system-packages
	$(BIN)/ruff check .
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/python -m bench

# Recompile the translation catalogues (needs GNU gettext); the compiled .mo files are committed.
messages: install
	$(BIN)/python manage.py makemessages -l fr -l ar --no-obsolete --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var db.sqlite3
