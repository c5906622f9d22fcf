# Entry points for people and CI; README documents each target.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= staging

.PHONY: venv up preview render diff test lint typecheck unit schemas bench bench-full clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

up: venv  ## pulumi up one cluster stack: make up STACK=staging
	$(BIN)/python -m fleet up $(STACK)

preview: venv  ## pulumi preview --diff one cluster stack, then its fleet review summary
	$(BIN)/python -m fleet preview $(STACK)

render: venv  ## write the stack's manifests to render/<stack> (no CLI, cluster or credentials)
	$(BIN)/python -m fleet render $(STACK) --out render/$(STACK)

diff: venv  ## compare two stacks' renders: make diff A=staging B=prod-eu (differences are not an error)
	$(BIN)/python -m fleet diff $(A) $(B) || [ $$? -eq 1 ]

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy

# The upstream schemas the conformance tests read: $FLEET_SCHEMAS_DIR when set, else fetched into
# .schemas/ and checked against the sha256 pins in fleet/tools/schemas.py.
schemas: venv
	@if [ -z "$$FLEET_SCHEMAS_DIR" ]; then $(BIN)/python -m fleet.tools.schemas; fi

unit: venv schemas
	$(BIN)/pytest -q

test: lint typecheck unit

bench: venv  ## program vs floor, fleet render and check at 2-200 tenants and 50x50; results in bench/
	$(BIN)/python -m benchmarks

bench-full: venv  ## the same at every size up to 1000 tenants and 200x200, 3 pairs; several minutes
	$(BIN)/python -m benchmarks --full

clean:
	rm -rf $(VENV) render bench .schemas .mypy_cache .pytest_cache .ruff_cache
