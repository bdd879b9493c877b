# Set-up and checks on a fresh machine: `make demo` and `make test` create
# .venv, install kdsl with the pinned test dependencies, and run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kdsl-installed
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.PHONY: install test test-slow test-browser demo bench bench-graph bench-lsp catalog clean install-backends test-backends

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

bench-lsp: $(STAMP)
	$(BIN)/python benchmarks/bench_lsp.py

catalog: $(STAMP)
	$(BIN)/python scripts/gen_catalog.py
	$(BIN)/python scripts/gen_ops_catalog.py

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
# The generated modules on the JAX and PyTorch backends, in a venv of their own so
# that `make test` keeps its TensorFlow-only environment. Keras picks its backend
# at import, hence one pytest process per backend, and one more for the tests that
# need 8 simulated JAX devices (XLA_FLAGS is read when JAX starts).
BACKENDS_VENV := .venv-backends
BACKENDS_BIN := $(BACKENDS_VENV)/bin
BACKENDS_STAMP := $(BACKENDS_VENV)/.kdsl-installed

$(BACKENDS_STAMP): pyproject.toml constraints.txt
	test -x $(BACKENDS_BIN)/python || $(PYTHON) -m venv $(BACKENDS_VENV)
	$(BACKENDS_BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[backends]'
	$(BACKENDS_BIN)/python -c "import torch; assert torch.version.cuda is None, 'not a CPU build: ' + torch.__version__"
	touch $(BACKENDS_STAMP)

install-backends: $(BACKENDS_STAMP)

test-backends: $(BACKENDS_STAMP)
	KERAS_BACKEND=jax $(BACKENDS_BIN)/python -m pytest -q tests_backends
	KERAS_BACKEND=torch $(BACKENDS_BIN)/python -m pytest -q tests_backends
	KERAS_BACKEND=jax $(BACKENDS_BIN)/python -m pytest -q tests_backends/distributed
