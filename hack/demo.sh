#!/usr/bin/env bash
# make demo: the operator on a local simulated GPU cluster (real kube-apiserver, etcd, scheduler,
# controller-manager; kwok fake GPU nodes from hack/simcluster/nodes.yaml), with the samples of config/samples.
#   hack/demo.sh up     start everything (the operator with its admission webhook), show kubectl apply refusing a
#                       spec that cannot fit, apply the samples (vLLM, TGI, SGLang, llama.cpp on a GPU and on a CPU
#                       node), show them becoming Ready (and one that cannot fit), then send a chat completion to
#                       llama-8b-awq (vLLM) and to llama-8b-cpu (llama.cpp on CPU); engine-sim plays the engines
#                       on the pod IPs, from the pods' own command lines
#   hack/demo.sh down   stop the operator and the cluster
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=.demo
ns=demo
webhook_port=${PRIVATELLM_DEMO_WEBHOOK_PORT:-19443}

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
  echo "==> building the operator, the cluster launcher and the engine simulator"
  go build -o bin/manager ./cmd
  go build -o bin/simcluster ./hack/simcluster
  go build -o bin/engine-sim ./test/engine-sim

  echo "==> starting the simulated GPU cluster"
  PRIVATELLM_K8S_BIN_DIR="$bins" setsid bin/simcluster up --dir "$state/cluster" --nodes hack/simcluster/nodes.yaml \
    --pod-ready-delay 8s --engine-sim bin/engine-sim --webhook-port "$webhook_port" --webhook-cert-dir "$state/webhook-certs" \
    >"$state/cluster.out" 2>"$state/cluster.log" </dev/null &
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

  echo "==> installing the CRD and starting the operator with its admission webhook (log: $state/operator.log)"
  k apply --server-side -f config/crd/bases >/dev/null
  k wait --for=condition=Established crd/llmdeployments.serving.privatellm.dev --timeout=60s >/dev/null
  setsid bin/manager --config hack/demo-operator-config.yaml --health-probe-bind-address=0 \
    --enable-webhook --webhook-manage-certs=false --webhook-cert-dir "$state/webhook-certs" --webhook-port "$webhook_port" \
    >"$state/operator.log" 2>&1 </dev/null &
  echo $! >"$state/operator.pid"
  k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
  for _ in $(seq 1 150); do # the webhook fails closed: wait until the operator answers it
    k -n "$ns" apply --dry-run=server -f config/samples/serving_v1alpha1_llmdeployment_vllm_awq_l4.yaml >/dev/null 2>&1 && break
    sleep 0.2
  done

  echo "==> a spec that cannot fit its GPUs: kubectl apply itself refuses it, and says what would fit"
  if k -n "$ns" apply -f - <<'YAML'; then echo "(unexpectedly admitted)"; exit 1; fi
apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: llama-70b-on-a100
spec:
  model:
    uri: hf://meta-llama/Llama-3.3-70B-Instruct
  maxModelLen: 8192
  gpu:
    count: 1
    products: [NVIDIA-A100-SXM4-40GB]
YAML

  echo "==> applying the samples in namespace $ns"
  # The samples reference a Hugging Face token; the simulated pods download nothing, so any value will do.
  k -n "$ns" create secret generic hf-token --from-literal=token=hf_demo_placeholder --dry-run=client -o yaml | k apply -f - >/dev/null
  k -n "$ns" apply -k config/samples

  echo "==> waiting for the models that fit to become Ready"
  k -n "$ns" wait --for=condition=Ready llmd/llama-8b-awq llmd/llama-70b-fp8 llmd/mistral-7b-tgi llmd/qwen-72b-sglang \
    llmd/llama-8b-gguf-l4 llmd/llama-8b-cpu --timeout=180s
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
  chat llama-8b-awq
  chat llama-8b-cpu
}

# chat LLM sends a real chat completion to an LLMDeployment. This machine cannot resolve Service DNS, so it calls
# the Ready pod's IP and engine port, where engine-sim answers as the engine would.
chat() {
  local llm=$1 pod_ip port engine served endpoint url body answer
  echo
  echo "==> a chat completion through $llm"
  pod_ip=$(k -n "$ns" get pod -l "serving.privatellm.dev/llmdeployment=$llm" --field-selector=status.phase=Running \
    -o jsonpath='{.items[0].status.podIP}')
  [ -n "$pod_ip" ] || { echo "no Running pod of $llm"; exit 1; }
  port=$(k -n "$ns" get pod -l "serving.privatellm.dev/llmdeployment=$llm" --field-selector=status.phase=Running \
    -o jsonpath='{.items[0].spec.containers[0].ports[0].containerPort}')
  engine=$(k -n "$ns" get llmd "$llm" -o jsonpath='{.spec.engine.name}')
  served=$(k -n "$ns" get llmd "$llm" -o jsonpath='{.spec.model.servedName}')
  served=${served:-$llm}
  endpoint=$(k -n "$ns" get llmd "$llm" -o jsonpath='{.status.endpoint}')
  url="http://$pod_ip:$port/v1/chat/completions"
  body='{"model":"'"$served"'","messages":[{"role":"user","content":"Say hello to the demo."}],"max_tokens":8}'
  for _ in $(seq 1 50); do # the engine answers once the pod agent has started it (at most seconds)
    if http_post "http://$pod_ip:$port/health" "" >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  echo "POST $url"
  echo "$body"
  answer=$(http_post "$url" "$body") || { echo "the chat completion failed: $answer"; exit 1; }
  echo "answer:"
  echo "$answer"
  echo "(In a real cluster the same request goes to the endpoint in status.endpoint: ${endpoint:-<not set>}/chat/completions;"
  echo " here engine-sim stands in for $engine and the hardware: the answer is filler text.)"
}

# http_post URL BODY: POST BODY as JSON (GET when BODY is empty) and print the response; fails on a non-2xx status.
# curl when present, else a tiny Go client.
http_post() {
  if command -v curl >/dev/null; then
    if [ -n "$2" ]; then curl -sS --fail-with-body --max-time 30 -H 'Content-Type: application/json' -d "$2" "$1"
    else curl -sS --fail --max-time 5 "$1"; fi
    return
  fi
  mkdir -p "$state/httppost"
  cat >"$state/httppost/main.go" <<'GO'
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	c := &http.Client{Timeout: 30 * time.Second}
	var resp *http.Response
	var err error
	if os.Args[2] == "" {
		resp, err = c.Get(os.Args[1])
	} else {
		resp, err = c.Post(os.Args[1], "application/json", strings.NewReader(os.Args[2]))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(strings.TrimSpace(string(b)))
	if resp.StatusCode/100 != 2 {
		fmt.Fprintln(os.Stderr, resp.Status)
		os.Exit(1)
	}
}
GO
  go run "$state/httppost/main.go" "$1" "$2"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
