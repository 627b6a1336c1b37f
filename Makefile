# Every target bootstraps .venv from pyproject.toml by itself: on a fresh machine
# `make run` and `make test` are the only commands a user types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench worker clean venv image deploy-test

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/taskrunner run

demo: $(STAMP)
	$(BIN)/taskrunner demo

worker: $(STAMP)
	$(BIN)/python worker.py

# pytest's exit code 5 means "no tests collected": that is a failure here too,
# since `make test` must run every test. tests/run.py exits before interpreter
# teardown (temporalio sdk-python #300).
test: $(STAMP)
	$(BIN)/python tests/run.py $(PYTEST_ARGS)

# The worker image, built here even where no registry answers (deploy/image.py), and the
# deployment test: two worker containers, one SIGKILLed. Slow the first time (minutes):
# not part of `make test`; .ci/run runs it.
image: $(STAMP)
	$(BIN)/python -m deploy.image

deploy-test: $(STAMP)
	$(BIN)/python tests/run.py -p no:cacheprovider -s deploy/tests $(PYTEST_ARGS)

# The architecture rules (import contract, module size) are a test: lint runs it too.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

# The bench extra (Celery, for the peer figures) is installed here only: `make test` never
# needs it. `make bench BENCH_ARGS="--quick --only peer"` runs the Celery comparison alone.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
