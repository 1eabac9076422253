#!/usr/bin/env bash
# make demo: the operator on a local simulated GPU cluster (real kube-apiserver, etcd, scheduler,
# controller-manager; kwok fake GPU nodes from hack/simcluster/nodes.yaml), with the samples of config/samples.
#   hack/demo.sh up     start everything, apply the samples, show them becoming Ready (and one that cannot fit)
#   hack/demo.sh down   stop the operator and the cluster
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=.demo
ns=demo

down() {
  if [ -f "$state/operator.pid" ]; then
    kill "$(cat "$state/operator.pid")" 2>/dev/null || true
    rm -f "$state/operator.pid"
  fi
  if [ -x bin/simcluster ]; then bin/simcluster down --dir "$state/cluster"; fi
}

up() {
  mkdir -p "$state"
  down >/dev/null 2>&1 || true
  echo "==> building the Kubernetes binaries (cached in bin/k8s; the first time takes 10-15 minutes)"
  bins=$(hack/build-k8s-binaries.sh all | tail -n 1)
  kubectl="$bins/kubectl"
  echo "==> building the operator and the cluster launcher"
  go build -o bin/manager ./cmd
  go build -o bin/simcluster ./hack/simcluster

  echo "==> starting the simulated GPU cluster"
  PRIVATELLM_K8S_BIN_DIR="$bins" setsid bin/simcluster up --dir "$state/cluster" --nodes hack/simcluster/nodes.yaml \
    --pod-ready-delay 8s >"$state/cluster.out" 2>"$state/cluster.log" </dev/null &
  for _ in $(seq 1 900); do
    grep -q '^export KUBECONFIG=' "$state/cluster.out" 2>/dev/null && break
    if ! kill -0 $! 2>/dev/null; then echo "the cluster failed to start:"; tail -n 30 "$state/cluster.log"; exit 1; fi
    sleep 0.2
  done
  kubeconfig=$(sed -n 's/^export KUBECONFIG=//p' "$state/cluster.out")
  [ -n "$kubeconfig" ] || { echo "the cluster did not come up in time:"; tail -n 30 "$state/cluster.log"; exit 1; }
  export KUBECONFIG="$kubeconfig"
  k() { "$kubectl" "$@"; }
  k get nodes -L nvidia.com/gpu.product -L nvidia.com/gpu.count

  echo "==> installing the CRD and starting the operator (log: $state/operator.log)"
  k apply --server-side -f config/crd/bases >/dev/null
  k wait --for=condition=Established crd/llmdeployments.serving.privatellm.dev --timeout=60s >/dev/null
  setsid bin/manager --config hack/demo-operator-config.yaml --health-probe-bind-address=0 \
    >"$state/operator.log" 2>&1 </dev/null &
  echo $! >"$state/operator.pid"

  echo "==> applying the samples in namespace $ns"
  k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
  # The samples reference a Hugging Face token; the simulated pods download nothing, so any value will do.
  k -n "$ns" create secret generic hf-token --from-literal=token=hf_demo_placeholder --dry-run=client -o yaml | k apply -f - >/dev/null
  k -n "$ns" apply -k config/samples

  echo "==> waiting for the models that fit to become Ready"
  k -n "$ns" wait --for=condition=Ready llmd/llama-8b-awq llmd/llama-70b-fp8 llmd/mistral-7b-tgi --timeout=180s
  echo "==> waiting for the one that cannot fit to be reported"
  k -n "$ns" wait --for=condition=Stalled llmd/llama-405b-fp8 --timeout=120s
  echo
  k -n "$ns" get llmdeployments
  echo
  k -n "$ns" get llmdeployment llama-405b-fp8 -o jsonpath='llama-405b-fp8: {.status.conditions[?(@.type=="Stalled")].message}{"\n"}'
  echo
  k -n "$ns" get pods -o wide
  cat <<MSG

The simulated GPU cluster and the operator keep running. Point kubectl at them with:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$(dirname "$kubectl"):\$PATH
  kubectl -n $ns get llmd -o wide
  kubectl -n $ns scale llmd/llama-8b-awq --replicas=3

Operator log: $state/operator.log. Stop everything with: make demo-down
MSG
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
