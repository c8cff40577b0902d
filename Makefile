# The only commands anyone needs: make demo, make test (and make generate, make lint, make bench).
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

GO ?= go
BIN := bin
# E2E tests start real control planes; give the whole run room but not forever.
TEST_TIMEOUT ?= 45m

.PHONY: all tools generate build test unit-test demo bench lint release images clean

all: build

## tools: build or install everything the tests need (cached outside the repo); make demo builds only its own
tools:
	hack/tools.sh all
	hack/tools.sh vault

## generate: deepcopy, CRDs (charts/keda/crds), scalers/schema.yaml and the external scaler gRPC code
generate:
	hack/generate.sh

## build: the operator and the kubectl plugin
build:
	$(GO) build -o $(BIN)/ ./cmd/operator ./cmd/kubectl-keda

## test: every test, including the end-to-end tests on the local cluster. Vault, the slowest tool to
## build cold, builds in the background at low priority meanwhile, and the npm emulators install in
## the background too; the tests that need them wait for them.
test:
	nice -n 10 hack/tools.sh vault > "$${TMPDIR:-/tmp}/kedactl-vault-build.log" 2>&1 &
	hack/tools.sh npm > "$${TMPDIR:-/tmp}/kedactl-npm-install.log" 2>&1 &
	hack/tools.sh core
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	GO=$(GO) FUZZTIME=$${FUZZTIME:-3s} hack/fuzz.sh
	cd hack/images && $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

## unit-test: the tests that need no cluster and no server
unit-test:
	$(GO) test -count=1 -short ./...

## demo: local cluster + Redis + operator; a Deployment goes 0 -> N -> 0, then kubectl keda top, timeline,
## pause/resume and describe on it (DEMO_KEEP=1 keeps it running). It builds only what it uses (the
## control plane, kwok, helm, Redis), in the background while the demo itself compiles; one progress
## line per step on the terminal, the tools', apt's and builds' output in DEMO_LOG.
DEMO_LOG ?= $(or $(TMPDIR),/tmp)/kedactl-demo.log
demo:
	@start=$$(date +%s%N); : > "$(DEMO_LOG)"; \
	echo "[ 0:00] make demo: tool, apt, build and cluster output goes to $(DEMO_LOG)"; \
	hack/tools.sh demo >> "$(DEMO_LOG)" 2>&1 & \
	if ! $(GO) build -o $(BIN)/ ./test/cmd/demo ./cmd/kubectl-keda >> "$(DEMO_LOG)" 2>&1; then \
	  echo "make demo: building the demo and the plugin failed:"; tail -n 20 "$(DEMO_LOG)"; exit 1; fi; \
	DEMO_START=$$start DEMO_LOG="$(DEMO_LOG)" DEMO_BIN="$(CURDIR)/$(BIN)" $(BIN)/demo

## bench: the go test micro-benchmarks (bench.out), then kedactl vs KEDA on the local cluster into
## bench/REPORT.md and its charts, while the fuzz targets run 20s each at nice 19 beside it
## (bench/fuzz.log); BENCH_SCALE=smoke for a few-minute run
BENCH_SCALE ?= full
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./operator/... ./scalers/... | tee bench.out
	hack/tools.sh cluster
	hack/tools.sh keda
	@echo ">> fuzzing in the background (nice 19, one worker): bench/fuzz.log"
	@GO=$(GO) FUZZTIME=$${FUZZTIME:-20s} FUZZ_PARALLEL=1 nice -n 19 hack/fuzz.sh > bench/fuzz.log 2>&1 & fuzz=$$!; \
	$(GO) run ./bench -scale $(BENCH_SCALE); rc=$$?; \
	if ! wait $$fuzz; then echo "make bench: a fuzz target failed: bench/fuzz.log" >&2; rc=1; fi; \
	tail -1 bench/fuzz.log; exit $$rc

## lint: formatting and vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## release: cross-build the kubectl-keda archives into dist/ and fill krew/keda.yaml (VERSION=v1.2.3)
release:
	hack/release.sh $(VERSION)

## images: the operator's OCI image (linux/amd64, linux/arm64, the chart's default name) as dist/images/*.oci.tar, no Docker
images:
	cd hack/images && $(GO) run . -repo-root ../.. -out ../../dist/images

clean:
	rm -rf $(BIN) bench.out dist
