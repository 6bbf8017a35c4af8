# teamcal — everything a fresh machine needs goes through these targets.
#   make run   create .venv, install, start the local stack on http://127.0.0.1:$(PORT)
#   make test  install what tests need, then lint, type-check, lint the template and run pytest

PYTHON ?= python3
VENV   := .venv
TOOLS  := .venv-tools
BIN    := $(VENV)/bin
PORT   ?= 3000
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install tools lint format typecheck template-lint pytest build bench clean openapi

$(BIN)/.installed: requirements-dev.txt layers/teamcal/requirements.txt layers/teamcal/pyproject.toml functions/google/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

$(TOOLS)/bin/.installed: requirements-tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q -r requirements-tools.txt
	touch $@

install: $(BIN)/.installed
tools: $(TOOLS)/bin/.installed

run: install
	$(BIN)/python -m devstack --port $(PORT)

test: install tools lint typecheck template-lint pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy layers/teamcal/teamcal functions devstack

template-lint: tools
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint

pytest: install
	$(BIN)/pytest

# The OpenAPI 3.1 document of the whole API, generated from the code (tests/unit/test_openapi.py
# fails when the committed file is stale). The local stack serves it with Swagger UI at /swagger.
openapi: install
	$(BIN)/python -m devstack.openapi

# sam build needs a python3.13 interpreter for runtime python3.13 (pyenv holds one here).
build: tools
	@if command -v pyenv >/dev/null 2>&1 && pyenv versions --bare | grep -qx '3.13.0'; then \
		PYENV_VERSION=3.13.0 PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/sam build; \
	elif command -v python3.13 >/dev/null 2>&1; then \
		PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/sam build; \
	else \
		echo "sam build needs Python 3.13 on PATH (runtime python3.13); install it or use pyenv" >&2; exit 1; \
	fi

# Benchmarks print figures; they are not tests (see bench/*.py docstrings).
bench: install
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.recurrence
	$(BIN)/python -m bench.google
	$(BIN)/python -m bench.search

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache
