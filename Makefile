# tokenauth: `make run` serves on SQLite (SERVER=granian: under granian instead of gunicorn);
# `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8080
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed

.PHONY: run test bench demo migrate clean venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

migrate: venv
	$(BIN)/tokenauth db upgrade

run: migrate
	$(BIN)/tokenauth serve --bind $(HOST):$(PORT) $(if $(SERVER),--server $(SERVER))

# Four pytest-xdist processes on 2 cores: most tests wait on a server, a browser or a
# database rather than compute. TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= 4

test: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# make bench: /verify through real nginx and wrk (docs/benchmark.md); STUDY=servers runs
# the server study instead, STUDY=cold the cold-cache model (valgrind). Debian's wrk, nginx
# and apache2-utils are checked, not installed.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	@echo "make bench: installing the benchmark's pinned extras (requirements-bench.txt) into $(VENV)"
	@$(BIN)/pip install --quiet -r requirements-bench.txt
	@touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(if $(STUDY),--study $(STUDY))

demo: migrate
	$(BIN)/python deploy/demo.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
