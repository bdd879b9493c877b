# Set-up and checks on a fresh machine: `make demo` and `make test` create
# .venv, install kdsl with the pinned test dependencies, and run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kdsl-installed
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.PHONY: install test test-slow demo bench catalog clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

demo: $(STAMP)
	$(BIN)/kdsl summary examples/question_answering.kd
	$(BIN)/kdsl compile examples/question_answering.kd -o build/demo --force
	$(BIN)/python scripts/demo.py build/demo/question_answering.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_check.py

catalog: $(STAMP)
	$(BIN)/python scripts/gen_catalog.py
	$(BIN)/python scripts/gen_ops_catalog.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
