# Set-up and checks on a fresh machine: `make demo` and `make test` create
# .venv, install kdsl with the pinned test dependencies, and run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kdsl-installed
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.PHONY: install test test-slow test-browser demo bench bench-graph catalog clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# The graph page in Debian's Chromium (playwright-core from npm, no browser
# download) and the DOT text in Graphviz; installs what is missing (CI is root).
test-browser: $(STAMP)
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	KDSL_BROWSER_TESTS=1 $(BIN)/python -m pytest -q tests/browser

demo: $(STAMP)
	$(BIN)/kdsl summary examples/question_answering.kd
	$(BIN)/kdsl compile examples/question_answering.kd -o build/demo --force
	$(BIN)/python scripts/demo.py build/demo/question_answering.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_check.py

bench-graph: $(STAMP)
	$(BIN)/python benchmarks/bench_graph.py

catalog: $(STAMP)
	$(BIN)/python scripts/gen_catalog.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
