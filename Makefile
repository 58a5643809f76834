# The two commands of the README: `make setup` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROTOS := $(wildcard protos/facerec/v1/*.proto)

.PHONY: setup test lint proto proto-check screenshots fuzz

setup:
	@# Debian's chromium for the browser tests (Playwright drives it; it downloads no browser).
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	@# The Node.js client example and worker. npm 11 runs no install scripts unless approved;
	@# the variable also keeps onnxruntime-node from fetching CUDA binaries with older npm.
	cd clients/node && npm ci --no-audit --no-fund
	cd workers/node && npm_config_onnxruntime_node_install=skip npm ci --no-audit --no-fund


## Regenerates the committed Python code from protos/.
proto:
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=protos --pyi_out=protos \
		--grpc_python_out=protos $(PROTOS)

## Fails when the committed generated code differs from a fresh generation.
proto-check:
	@tmp=$$(mktemp -d) && \
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=$$tmp --pyi_out=$$tmp \
		--grpc_python_out=$$tmp $(PROTOS) && \
	for f in $$tmp/facerec/v1/*; do \
		diff -u "protos/facerec/v1/$$(basename $$f)" "$$f" || { echo "generated code is stale: run 'make proto'"; exit 1; }; \
	done && echo "generated code is up to date"

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint proto-check
	cd clients/node && npm test --silent
	cd workers/node && npm test --silent
	$(BIN)/python -m pytest -q

## A long fuzzing run (the test suite runs the same targets briefly): FUZZ_EXAMPLES per target.
FUZZ_EXAMPLES ?= 20000
fuzz:
	FACEREC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

## Screenshots of every view at 1280x800 and 375x800 into build/screenshots (and the
## README's three into docs/).
screenshots:
	$(BIN)/python docs/screenshots.py
