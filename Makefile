# The two commands a new user runs: `make demo` and `make test` (see README.md).
UV_VERSION := 0.13.8
CHECKOV_VERSION := 3.3.30
AZURITE_VERSION := 3.35.0
TOOLS := .tools
# `uv` if it is on PATH, else the one `make setup` installs with pip (pyenv shims may not show it yet).
UV := $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
# Debian packages need root: CI machines run as root, GitHub-hosted runners use passwordless sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export UV_TOOL_DIR := $(abspath $(TOOLS))/uv-tools
export UV_TOOL_BIN_DIR := $(abspath $(TOOLS))/bin

.PHONY: setup demo test lint fmt plan-dev plan-prod

# `make demo` ends in a prediction: the exported model on the trainer's development server (a free port on
# 127.0.0.1, stopped however the demo ends), asked by the example app once its model status answers.

setup:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	@command -v dot >/dev/null 2>&1 && command -v rclone >/dev/null 2>&1 && \
		command -v docker-registry >/dev/null 2>&1 || \
		($(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends graphviz rclone docker-registry && \
		($(SUDO) systemctl disable --now docker-registry >/dev/null 2>&1 || true))
	@command -v npm >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm)
	$(UV) sync --locked --group test --compile-bytecode
	@test -x $(TOOLS)/bin/checkov || $(UV) tool install --quiet "checkov==$(CHECKOV_VERSION)"
	@test -x $(TOOLS)/node/node_modules/.bin/azurite-blob || \
		npm install --silent --no-audit --no-fund --prefix $(TOOLS)/node "azurite@$(AZURITE_VERSION)"

demo: setup
	$(UV) run --locked python -m plan --stack dev
	rm -rf $(TOOLS)/demo
	$(UV) run --locked python -m trainer prepare-data --out $(TOOLS)/demo/data
	$(UV) run --locked python -m trainer train --data $(TOOLS)/demo/data --model-dir $(TOOLS)/demo/model
	$(UV) run --locked python -m trainer evaluate --model-dir $(TOOLS)/demo/model
	$(UV) run --locked python -m trainer export --model-dir $(TOOLS)/demo/model --out $(TOOLS)/demo/serve
	@port=$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	url=http://127.0.0.1:$$port/v1/models/digits; \
	$(UV) run --locked python -m trainer serve --model-base $(TOOLS)/demo/serve --port $$port & server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server 2>/dev/null' EXIT; trap 'exit 1' HUP INT TERM; \
	tries=0; until python3 -c 'import sys, urllib.request as r; r.build_opener(r.ProxyHandler({})).open(sys.argv[1], timeout=1)' \
			$$url 2>/dev/null; do \
		tries=$$((tries + 1)); \
		if [ $$tries -ge 240 ] || ! kill -0 $$server 2>/dev/null; then \
			echo "make demo: the development server did not answer at $$url" >&2; exit 1; \
		fi; \
		sleep 0.5; \
	done; \
	echo "+ python -m examples.app --url $$url:predict"; \
	$(UV) run --locked python -m examples.app --url $$url:predict

lint:
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy

# Rewrites files: fixes what ruff can fix, then formats (the pre-commit hooks do the same per commit).
fmt:
	$(UV) run --locked ruff check --fix .
	$(UV) run --locked ruff format .

test: setup lint
	$(UV) run --locked pytest

plan-dev plan-prod: setup
	$(UV) run --locked python -m plan --stack $(@:plan-%=%)
