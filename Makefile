# teamcal — everything a fresh machine needs goes through these targets.
#   make run   create .venv, install, start the local stack on http://127.0.0.1:$(PORT)
#              (ARGS="--parameter-overrides NAME=VALUE ..." passes flags to python -m devstack)
#   make test  install what tests need, then lint, type-check, lint the template and run pytest

PYTHON ?= python3
VENV   := .venv
TOOLS  := .venv-tools
BIN    := $(VENV)/bin
PORT   ?= 3000
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install tools lint format typecheck template-lint pytest build bench clean openapi \
	lock sizes test-lowest test-py313

# .venv: exactly requirements-dev.lock (hashes checked), then the layer's package, editable.
$(BIN)/.installed: requirements-dev.lock layers/teamcal/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e layers/teamcal
	touch $@

# .venv-tools: exactly requirements-tools.lock (hashes checked; the lock holds every dependency,
# so pip resolves nothing: it would refuse sam-cli's boto3-stubs[...] extra under --require-hashes).
$(TOOLS)/bin/.installed: requirements-tools.lock
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --no-deps --require-hashes -r requirements-tools.lock
	touch $@

install: $(BIN)/.installed
tools: $(TOOLS)/bin/.installed

run: install
	$(BIN)/python -m devstack --port $(PORT) $(ARGS)

test: install tools lint typecheck template-lint pytest test-lowest test-py313 build sizes

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

# Tiers run on every core (pytest-xdist), a test file at a time on one worker: an e2e file's stacks
# are module fixtures, and tests/integration/test_ical_corpus.py sums up its own per-file tests.
XDIST := -n auto --dist loadfile

pytest: install
	$(BIN)/pytest $(XDIST)

# The OpenAPI 3.1 document of the whole API, generated from the code (tests/unit/test_openapi.py
# fails when the committed file is stale). The local stack serves it with Swagger UI at /swagger.
openapi: install
	$(BIN)/python -m devstack.openapi

# Lock files (hashes) from the requirements files: run after editing a requirements*.txt, and to
# take newer versions (`make lock UPGRADE=1`); commit the locks (scripts/lock.py says which is which).
lock: tools
	$(TOOLS)/bin/python -m scripts.lock $(if $(UPGRADE),--upgrade)

# Python 3.13, the Lambda runtime's: pyenv's 3.13.x when present, else python3.13 on PATH.
PY313 = $(shell if command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.13 >/dev/null 2>&1; then \
	echo "$$(pyenv prefix 3.13)/bin/python3.13"; else command -v python3.13; fi)
NO_PY313 = echo "this target needs Python 3.13 (the Lambda runtime python3.13): install it, e.g. pyenv install 3.13" >&2; exit 1

# sam build for python3.13 on arm64 (the layer and the Google function build through their own
# Makefiles from the Lambda lock files); then `make sizes` checks the result against the budgets.
build: tools
	@test -n "$(PY313)" || { $(NO_PY313); }
	PATH="$(dir $(PY313)):$(CURDIR)/$(TOOLS)/bin:$$PATH" PYTHON="$(PY313)" $(TOOLS)/bin/sam build

sizes: install
	$(BIN)/python -m scripts.sizes

# The unit tier on the LOWEST versions the layer's and the Google function's requirements allow
# (uv's lowest-direct resolution), so the minimums stay true. The committed docs/openapi.json is
# generated with the locked versions (another pydantic words its schemas differently): its
# byte-for-byte check runs in `make pytest` only.
test-lowest: tools
	$(TOOLS)/bin/uv pip compile -q --resolution lowest-direct --python-version 3.11 --no-header \
		layers/teamcal/requirements.txt functions/google/requirements.txt -o .venv-lowest.txt
	test -x .venv-lowest/bin/python || $(TOOLS)/bin/uv venv -q -p $(PYTHON) .venv-lowest
	VIRTUAL_ENV=.venv-lowest $(TOOLS)/bin/uv pip install -q -r requirements-dev.txt -c .venv-lowest.txt
	VIRTUAL_ENV=.venv-lowest $(TOOLS)/bin/uv pip install -q --no-deps -e layers/teamcal
	.venv-lowest/bin/python -m pytest -q -p no:cacheprovider $(XDIST) tests/unit \
		--deselect tests/unit/test_openapi.py::test_the_committed_document_is_current

# The unit and integration tiers under Python 3.13 (the Lambda runtime), from the same lock.
test-py313: tools
	@test -n "$(PY313)" || { $(NO_PY313); }
	test -x .venv-py313/bin/python || $(TOOLS)/bin/uv venv -q -p "$(PY313)" .venv-py313
	VIRTUAL_ENV=.venv-py313 $(TOOLS)/bin/uv pip install -q --require-hashes -r requirements-dev.lock
	VIRTUAL_ENV=.venv-py313 $(TOOLS)/bin/uv pip install -q --no-deps -e layers/teamcal
	.venv-py313/bin/python -m pytest -q -p no:cacheprovider $(XDIST) tests/unit tests/integration

# Benchmarks print figures; they are not tests (see bench/*.py docstrings).
bench: install
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.recurrence
	$(BIN)/python -m bench.google
	$(BIN)/python -m bench.jira
	$(BIN)/python -m bench.search

clean:
	rm -rf $(VENV) $(TOOLS) .venv-lowest .venv-lowest.txt .venv-py313 .aws-sam .pytest_cache .mypy_cache .ruff_cache
