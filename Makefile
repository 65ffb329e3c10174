# tokenauth: `make run` serves on SQLite; `make test` runs the whole suite.
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
	$(BIN)/tokenauth serve --bind $(HOST):$(PORT)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python bench/verify_bench.py

demo: migrate
	$(BIN)/python deploy/demo.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
