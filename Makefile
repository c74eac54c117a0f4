# Two entry points do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: run test lint typecheck unit bench migrate system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser client's linter and formatter (Biome, a single native binary from npm); the client
# itself has no build step.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	@$(MAKE) --no-print-directory system-deps SYSTEM_TOOLS=npm
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

run: $(STAMP)
	@$(MAKE) --no-print-directory system-deps SYSTEM_TOOLS=git
	$(BIN)/allin serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

migrate: $(STAMP)
	$(BIN)/allin migrate

# Debian packages the tests use: Chromium drives the browser tests (Playwright cannot download its
# own build here); espeak-ng is the second voice the voice tests speak with; git fetches and reads
# the team's repositories (the app needs it too).
SYSTEM_TOOLS := chromium espeak-ng git

system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing:$$missing; run 'sudo apt-get install$$missing'"; exit 1; fi; fi

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	node_modules/.bin/biome ci --colors=off

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) system-deps
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/chat_overhead.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/learning.py
	$(BIN)/python bench/knowledge_base.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/voice.py
	$(BIN)/python bench/repositories.py
	$(BIN)/python bench/mcp_overhead.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) node_modules .allin .pytest_cache .mypy_cache .ruff_cache
