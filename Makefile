# The two commands a new user runs: `make demo` and `make test` (see README.md).
UV_VERSION := 0.13.8
CHECKOV_VERSION := 3.3.30
AZURITE_VERSION := 3.35.0
TOOLS := .tools
export UV_TOOL_DIR := $(abspath $(TOOLS))/uv-tools
export UV_TOOL_BIN_DIR := $(abspath $(TOOLS))/bin

.PHONY: setup demo test lint plan-dev plan-prod

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	uv sync --locked --group test
	@test -x $(TOOLS)/bin/checkov || uv tool install --quiet "checkov==$(CHECKOV_VERSION)"
	@test -x $(TOOLS)/node/node_modules/.bin/azurite-blob || \
		npm install --silent --no-audit --no-fund --prefix $(TOOLS)/node "azurite@$(AZURITE_VERSION)"

demo: setup
	uv run --locked python -m infra.plan --stack dev

lint:
	uv run --locked ruff check .
	uv run --locked ruff format --check .
	uv run --locked mypy

test: setup lint
	uv run --locked pytest

plan-dev plan-prod: setup
	uv run --locked python -m infra.plan --stack $(@:plan-%=%)
