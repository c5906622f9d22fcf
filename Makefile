# Entry points for people and CI; README documents each target.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
POLICY_VENV := policy/venv

.PHONY: venv policy init up preview render stacks check diff test lint typecheck unit schemas bench bench-full mutate clean real-engine-bins real-engine

# The stack commands name their cluster (a default would send a typo'd command to staging);
# checked before any prerequisite is built.
STACK_GOALS := $(filter init up preview render,$(MAKECMDGOALS))
ifneq ($(STACK_GOALS),)
ifeq ($(STACK),)
$(error name the stack: make $(firstword $(STACK_GOALS)) STACK=<stack> (`make stacks` lists them))
endif
endif

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(BIN)/.installed  ## .venv with the tools and the `fleet` command (pip install -e .)

# The policy pack's own environment, which the Pulumi CLI runs the pack in but never creates.
$(POLICY_VENV)/.installed: policy/requirements.txt
	$(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	touch $@

policy: $(POLICY_VENV)/.installed  ## the policy pack's environment policy/venv (make up/preview build it)

init: venv  ## create the stack, store its credentials encrypted: make init STACK=staging
	$(BIN)/python -m fleet init -s $(STACK) --project-dir $(CURDIR)

up: venv policy  ## pulumi up one cluster stack with the policy pack: make up STACK=staging
	$(BIN)/python -m fleet up -s $(STACK) --project-dir $(CURDIR)

preview: venv policy  ## pulumi preview --diff one cluster stack with the policy pack, then its fleet review summary
	$(BIN)/python -m fleet preview -s $(STACK) --project-dir $(CURDIR)

render: venv  ## write the stack's manifests to render/<stack> (no CLI, cluster or credentials)
	$(BIN)/python -m fleet render -s $(STACK) --out render/$(STACK)

stacks: venv  ## list the cluster stacks
	$(BIN)/python -m fleet stacks

check: venv  ## validate every stack's objects (or STACK's) against the upstream schemas
	$(BIN)/python -m fleet check $(STACK)

diff: venv  ## compare two stacks' renders: make diff A=staging B=prod-eu (differences are not an error)
	$(BIN)/python -m fleet diff $(A) $(B) || [ $$? -eq 1 ]

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy

# The upstream schemas the conformance tests read: $FLEET_SCHEMAS_DIR when set, else fetched into
# .schemas/ and checked against the sha256 pins in fleet/tools/offline/schemas.py.
schemas: venv
	@if [ -z "$$FLEET_SCHEMAS_DIR" ]; then $(BIN)/python -m fleet.tools.offline.schemas; fi

unit: venv schemas
	$(BIN)/pytest -q

test: lint typecheck unit

# Mutation testing, never part of `test`: minutes per module (docs/testing.md).
$(BIN)/.mutmut-installed: requirements-mutate.txt $(BIN)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-mutate.txt
	touch $@

mutate: venv schemas $(BIN)/.mutmut-installed  ## mutmut on the fleet/ modules changed against main, or PKG=<file or folder>; BUDGET=<seconds>; MUTANTS=<names or patterns>
	$(BIN)/python -m mutation $(PKG) $(if $(BUDGET),--budget $(BUDGET)) $(if $(MUTANTS),--mutants $(foreach m,$(MUTANTS),'$(m)'))

bench: venv  ## program vs floor, fleet render and check at 2-200 tenants and 50x50; results in bench/
	$(BIN)/python -m benchmarks

bench-full: venv  ## the same at every size up to 1000 tenants and 200x200, 3 pairs; several minutes
	$(BIN)/python -m benchmarks --full

# The real-engine tier (docs/real-engine.md): polyglot machines only (Go 1.26 and the Go module proxy).
# The binaries go to ~/.cache/d1-fleet/real-engine/<key>/bin, never into the checkout.
real-engine-bins: venv  ## build the Pulumi CLI, Kubernetes provider, API server, etcd and kwok (cold: up to an hour on 2 cores)
	$(BIN)/python tests/real_engine/build.py

real-engine: real-engine-bins schemas  ## run tests/real_engine (and the real-CLI ephemeral tests) against the built binaries
	bin=$$($(BIN)/python tests/real_engine/build.py --bin-dir) && \
	FLEET_REAL_ENGINE_BIN=$$bin PATH=$$bin:$$PATH $(BIN)/pytest -v tests/real_engine tests/test_ephemeral_real_cli.py

clean:
	rm -rf $(VENV) render bench .schemas .mypy_cache .pytest_cache .ruff_cache
