# The README's two commands: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: setup seal-key run test test-pg translations migrate seed clean loadtest loadtest-cluster bench manual-screenshots

$(VENV)/.installed: requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

# What the tests need besides (pytest, Playwright, schemathesis …): never installed by `make run`.
$(VENV)/.tested: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d evalapp/translations

setup: $(VENV)/.installed translations

instance/config.py:
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print("SECRET_KEY = %r" % secrets.token_hex(32))' > $@

# The seal key of published versions (services/seals.py), added to an instance/config.py made before it existed.
seal-key: instance/config.py
	grep -q '^SEAL_KEYS' instance/config.py || $(BIN)/python -c 'import secrets; \
		print("SEAL_KEYS = {%r: %r}  # back it up apart from the database: docs/deploy.md" % \
		("k1", secrets.token_hex(32)))' >> instance/config.py

migrate: setup seal-key
	$(FLASK) db upgrade

# Fresh machine → set up, migrate, seed the demo when the database is empty, print the address and the demo
# accounts (flask welcome), serve on 127.0.0.1:$(PORT).
# EVALAPP_ENV=development: served over plain http on loopback, so cookies go without the Secure flag.
run: migrate
	EVALAPP_ENV=development $(FLASK) seed-demo-if-empty
	EVALAPP_ENV=development $(FLASK) welcome --url http://127.0.0.1:$(PORT)
	EVALAPP_ENV=development $(BIN)/gunicorn --workers 2 --threads 4 --bind 127.0.0.1:$(PORT) \
		--access-logfile - wsgi:app

seed: migrate
	$(FLASK) seed-demo

# The whole suite, one pytest-xdist worker per core (each builds its own template databases: files under its own
# tmp directory on SQLite, uuid-named databases on PostgreSQL). WORKERS=0 runs it serially in one process.
# TEST_DATABASE_URL=postgresql+psycopg://... runs it against PostgreSQL.
WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -c tests/pytest.ini --rootdir . -q -n $(WORKERS)

test: setup $(VENV)/.tested
	$(PYTEST) $(PYTEST_ARGS)

test-pg: setup $(VENV)/.tested
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PYTEST)

clean:
	rm -rf $(VENV) .pytest_cache

# Bounded load + fault test on loopback (docs/deploy.md): PostgreSQL, then SQLite (WAL).
loadtest: setup
	$(BIN)/python bench/loadtest.py --db postgresql --seconds $${SECONDS_:-60}
	$(BIN)/python bench/loadtest.py --db sqlite --seconds $${SECONDS_:-60}

# The same on two app servers behind nginx (apt-get install nginx-light), sharing PostgreSQL, Redis (database 11) and
# an S3-compatible store (moto's server), with a job worker; one server killed mid-load (docs/loadtest.md).
loadtest-cluster: setup $(VENV)/.tested
	command -v nginx >/dev/null || apt-get install -y -qq nginx-light || (apt-get update -qq && apt-get install -y -qq nginx-light)
	$(BIN)/python bench/cluster.py --seconds $${SECONDS_:-60}

# Benchmarks against same-run floors (bench/run.py), SQLite then PostgreSQL; SIZES=94x20 for a quick look.
bench: setup
	$(BIN)/python bench/run.py --db sqlite --sizes $${SIZES:-94x20,375x20,1500x20}
	$(BIN)/python bench/run.py --db postgresql --sizes $${SIZES:-94x20,375x20,1500x20}

# The 操作手册's pictures (evalapp/static/manual/*.png) from the pages the app serves on the demo data, in Chromium
# at 768×1024 (apt-get install chromium fonts-noto-cjk). Not part of `make test` or CI: run it after changing a page
# the manual shows, look at the pictures, commit them.
manual-screenshots: setup $(VENV)/.tested
	$(BIN)/python -m pytest -c tests/pytest.ini --rootdir . -q -n 0 -p no:cacheprovider tests/browser/manual_screenshots.py
