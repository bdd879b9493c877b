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

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis

# Editor support (editors/, docs/editors.md): the VS Code extension's npm
# packages, its .vsix, and the tests of the TextMate grammar, the extension
# and the Vim files. Needs Node 20 and npm 11; Vim is installed if missing.
.PHONY: vsix test-editors
VSCODE_DIR := editors/vscode
NPM_STAMP := $(VSCODE_DIR)/node_modules/.package-lock.json
VSIX ?= build/kdsl.vsix

$(NPM_STAMP): $(VSCODE_DIR)/package.json $(VSCODE_DIR)/package-lock.json
	cd $(VSCODE_DIR) && npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

vsix: $(NPM_STAMP)
	mkdir -p $(dir $(abspath $(VSIX)))
	cd $(VSCODE_DIR) && npx --no-install vsce package --skip-license --allow-missing-repository --out $(abspath $(VSIX))

test-editors: $(STAMP) $(NPM_STAMP)
	command -v vim >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq vim >/dev/null; } \
		|| echo "vim could not be installed: the Vim tests will be skipped"
	$(BIN)/python -m pytest -q tests/test_editors.py
