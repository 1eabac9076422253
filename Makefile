# privatellm — Kubernetes operator for private LLM serving.

IMG ?= ghcr.io/privatellm/privatellm:dev
# Tool versions: pinned, built from the Go module proxy into bin/.
CONTROLLER_TOOLS_VERSION ?= v0.23.0
K8S_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.6.16
KWOK_VERSION ?= v0.8.0
HELM_VERSION ?= v3.22.0

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
K8S_BIN_DIR := $(LOCALBIN)/k8s/$(K8S_VERSION)-etcd$(ETCD_VERSION)-kwok$(KWOK_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
export K8S_VERSION ETCD_VERSION KWOK_VERSION

GO_TEST_FLAGS ?= -count=1
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD (Go markers plus the engine registry's rules) and the RBAC of the operator and the gateway.
	$(CONTROLLER_GEN) rbac:roleName=privatellm-manager crd paths="./api/...;./controllers/...;./internal/webhook/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=privatellm-gateway paths="./internal/gateway/..." output:rbac:artifacts:config=config/gateway
	go run ./hack/crd-engine-rules config/crd/bases/serving.privatellm.dev_llmdeployments.yaml
	hack/sync-chart.sh

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: vet ## Run go vet and check gofmt.
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: verify
verify: manifests generate ## Regenerate everything and fail if the tree changed (generated files out of sync).
	go mod tidy
	@if [ -n "$$(git status --porcelain)" ]; then echo "generated files are out of sync:"; git status --porcelain; git --no-pager diff --stat; exit 1; fi

##@ Test

.PHONY: test
test: lint verify-quiet test-unit test-integration test-e2e test-helm ## Run all tests (unit, envtest integration, end-to-end); builds what they need.

.PHONY: verify-quiet
verify-quiet: manifests generate
	@git diff --exit-code --stat -- config api charts || (echo "generated files are out of sync: run make manifests generate and commit"; exit 1)

.PHONY: test-unit
test-unit: ## Unit tests: engines, renderers, status (no API server).
	go test $(GO_TEST_FLAGS) ./api/... ./internal/...

.PHONY: test-integration
test-integration: envtest-bins ## Integration tests against a real kube-apiserver and etcd (envtest).
	KUBEBUILDER_ASSETS=$(K8S_BIN_DIR) PRIVATELLM_REQUIRE_ENVTEST=1 go test $(GO_TEST_FLAGS) ./controllers/... ./internal/webhook/... ./internal/gateway/feed/...

.PHONY: test-e2e
test-e2e: k8s-bins ## End-to-end tests on the simulated GPU cluster (scheduler, controller-manager, kwok GPU nodes).
	PRIVATELLM_REQUIRE_SIMCLUSTER=1 PRIVATELLM_K8S_BIN_DIR=$(K8S_BIN_DIR) go test $(GO_TEST_FLAGS) -timeout 20m $$(go list ./test/... | grep -v /test/helm)

.PHONY: test-helm
test-helm: k8s-bins helm ## Helm chart on the simulated cluster: lint, golden template, install/upgrade, RBAC, leader election.
	PRIVATELLM_REQUIRE_SIMCLUSTER=1 PRIVATELLM_K8S_BIN_DIR=$(K8S_BIN_DIR) PRIVATELLM_HELM=$(HELM) go test $(GO_TEST_FLAGS) -timeout 20m ./test/helm/...

.PHONY: update-golden
update-golden: ## Regenerate the golden files of rendered manifests (review the diff).
	go test ./internal/render/... -update
	go test ./internal/cli/... -update

##@ Build

.PHONY: build
build: ## Build the manager, gateway and loader binaries.
	go build -o bin/manager ./cmd
	go build -o bin/gateway ./cmd/gateway
	go build -o bin/loader ./cmd/loader

.PHONY: kubectl-plugin
kubectl-plugin: ## Build the kubectl plugin bin/kubectl-privatellm (kubectl privatellm fit|cost|status; docs/kubectl-plugin.md).
	go build -o bin/kubectl-privatellm ./cmd/kubectl-privatellm

.PHONY: run
run: manifests ## Run the operator against the cluster in $KUBECONFIG.
	go run ./cmd --config config/manager/operator-config.yaml

##@ Deployment

.PHONY: install
install: manifests kubectl ## Install the CRD into the cluster in $KUBECONFIG.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: kubectl ## Remove the CRD (and every LLMDeployment) from the cluster in $KUBECONFIG.
	$(KUBECTL) delete --ignore-not-found -f config/crd/bases

.PHONY: deploy
deploy: manifests kubectl ## Deploy the operator (config/default) to the cluster in $KUBECONFIG.
	$(KUBECTL) apply --server-side -k config/default

##@ Tools

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Build controller-gen into bin/.
$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN)/.gobin go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/.gobin/controller-gen $(CONTROLLER_GEN)

.PHONY: helm
helm: $(HELM) ## Build helm into bin/.
$(HELM): | $(LOCALBIN)
	GOBIN=$(LOCALBIN)/.gobin go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/.gobin/helm $(HELM)

.PHONY: envtest-bins
envtest-bins: ## Build kube-apiserver and etcd from Go modules into bin/k8s (cached).
	hack/build-k8s-binaries.sh envtest

.PHONY: k8s-bins
k8s-bins: ## Build every Kubernetes binary of the simulated cluster into bin/k8s (cached).
	hack/build-k8s-binaries.sh all

KUBECTL ?= $(K8S_BIN_DIR)/kubectl
.PHONY: kubectl
kubectl:
	@[ -x "$(KUBECTL)" ] || hack/build-k8s-binaries.sh all >/dev/null

##@ Demo

.PHONY: demo
demo: ## The main job: the operator on a local simulated GPU cluster with the samples.
	hack/demo.sh up

.PHONY: demo-down
demo-down: ## Stop the demo's operator and cluster.
	hack/demo.sh down

.PHONY: bench-loader
bench-loader: ## Loader benchmark: MB/s and CPU-s per GB against the local Hub simulator, cold and cached.
	go run ./test/bench-loader $(BENCH_LOADER_ARGS)

.PHONY: bench-cache
bench-cache: k8s-bins ## Model cache benchmark: apply to Ready, cold (download first) vs cached, on the simulated cluster.
	PRIVATELLM_K8S_BIN_DIR=$(K8S_BIN_DIR) go run ./test/bench-cache $(BENCH_CACHE_ARGS)

.PHONY: bench-gateway
bench-gateway: ## Gateway benchmark: added latency, requests/s on one core, memory per open stream (engine-sim backends).
	go run ./test/bench-gateway $(BENCH_GATEWAY_ARGS)

.PHONY: bench
bench: k8s-bins ## Control-plane benchmark: N LLMDeployments vs N plain Deployments on the simulated cluster.
	PRIVATELLM_K8S_BIN_DIR=$(K8S_BIN_DIR) go run ./test/bench $(BENCH_ARGS)
