#!/usr/bin/env bash
# make demo: the operator on a local simulated GPU cluster (real kube-apiserver, etcd, scheduler,
# controller-manager; kwok fake GPU nodes from hack/simcluster/nodes.yaml), with the samples of config/samples.
#   hack/demo.sh up     start everything (the operator with its admission webhook), show kubectl apply refusing a
#                       spec that cannot fit, apply the samples (vLLM, TGI, SGLang, llama.cpp on a GPU and on a CPU
#                       node), show them becoming Ready (and one that cannot fit), issue an API key, and send chat
#                       completions to llama-8b-awq (vLLM) and llama-8b-cpu (llama.cpp on CPU) through the gateway,
#                       once without the key; engine-sim plays the engines on the pod IPs, from the pods' own command
#                       lines. Then the model cache: a gated model downloaded once from the local Hub simulator into
#                       a verified cache, its progress, fit and startup timeline, and a second model served from it.
#                       Writes .demo/env (KUBECONFIG, PATH, GATEWAY_URL, API_KEY) for `source .demo/env`.
#   hack/demo.sh down   stop the operator and the cluster
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=.demo
ns=demo
webhook_port=${PRIVATELLM_DEMO_WEBHOOK_PORT:-19443}
gateway_url=http://127.0.0.1:18080/v1 # also in hack/demo-operator-config.yaml

down() {
  for p in operator gateway hub-sim; do
    if [ -f "$state/$p.pid" ]; then
      kill "$(cat "$state/$p.pid")" 2>/dev/null || true
      rm -f "$state/$p.pid"
    fi
  done
  if [ -x bin/simcluster ]; then bin/simcluster down --dir "$state/cluster"; fi
}

up() {
  mkdir -p "$state"
  down >/dev/null 2>&1 || true
  echo "==> building the Kubernetes binaries (cached in bin/k8s; the first time takes 10-15 minutes)"
  bins=$(hack/build-k8s-binaries.sh all | tail -n 1)
  kubectl="$bins/kubectl"
  echo "==> building the operator, the gateway, the cluster launcher and the engine simulator"
  go build -o bin/manager ./cmd
  go build -o bin/gateway ./cmd/gateway
  go build -o bin/simcluster ./hack/simcluster
  go build -o bin/engine-sim ./test/engine-sim
  go build -o bin/kubectl-privatellm ./cmd/kubectl-privatellm
  go build -o bin/loader ./cmd/loader
  go build -o bin/hub-sim ./test/hub-sim

  echo "==> starting the Hub simulator at http://127.0.0.1:18070 (the model cache's HF_ENDPOINT; log: $state/hub-sim.log)"
  # A gated model: only the demo's token (the Secret hf-token below) may download it, at 8 MiB/s so that the
  # download can be watched.
  setsid bin/hub-sim --addr 127.0.0.1:18070 --cdn-addr 127.0.0.1:18071 --repo acme/tiny-chat-1b --size-mib 192 \
    --bandwidth-mib 4 --token hf_demo_placeholder >"$state/hub-sim.log" 2>&1 </dev/null &
  echo $! >"$state/hub-sim.pid"

  echo "==> starting the simulated GPU cluster"
  PRIVATELLM_K8S_BIN_DIR="$bins" setsid bin/simcluster up --dir "$state/cluster" --nodes hack/simcluster/nodes.yaml \
    --pod-ready-delay 8s --engine-sim bin/engine-sim --loader bin/loader --routable-pod-ips --webhook-port "$webhook_port" --webhook-cert-dir "$state/webhook-certs" \
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
  k wait --for=condition=Established crd/llmdeployments.serving.privatellm.dev crd/apikeys.serving.privatellm.dev \
    crd/modelcaches.serving.privatellm.dev --timeout=60s >/dev/null
  setsid bin/manager --config hack/demo-operator-config.yaml --health-probe-bind-address=0 \
    --enable-webhook --webhook-manage-certs=false --webhook-cert-dir "$state/webhook-certs" --webhook-port "$webhook_port" \
    >"$state/operator.log" 2>&1 </dev/null &
  echo $! >"$state/operator.pid"
  echo "==> starting the OpenAI-compatible gateway at $gateway_url (log: $state/gateway.log)"
  setsid bin/gateway --listen-address 127.0.0.1:18080 --metrics-bind-address 127.0.0.1:18090 --health-probe-bind-address=0 \
    >"$state/gateway.log" 2>&1 </dev/null &
  echo $! >"$state/gateway.pid"
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
  # The samples reference a Hugging Face token: the simulated engine pods download nothing; the model cache's
  # loader below gives it to the Hub simulator, which grants it the gated demo model.
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
  echo
  echo "==> an API key for namespace $ns: the operator writes it into a Secret and publishes only its hash"
  k -n "$ns" apply -f - >/dev/null <<'YAML'
apiVersion: serving.privatellm.dev/v1alpha1
kind: APIKey
metadata:
  name: demo
YAML
  k -n "$ns" wait --for=condition=Ready apikey/demo --timeout=60s >/dev/null
  k -n "$ns" get apikey demo
  api_key=$(k -n "$ns" get secret demo -o jsonpath='{.data.apiKey}' | base64 -d)
  cat >"$state/env" <<ENV
export KUBECONFIG=$KUBECONFIG
export PATH=$(dirname "$kubectl"):$root/bin:\$PATH
export GATEWAY_URL=$gateway_url
export API_KEY=$api_key
export OPENAI_BASE_URL=$gateway_url
export OPENAI_API_KEY=$api_key
ENV

  echo
  echo "==> without the key, the gateway refuses"
  if answer=$(http_post "$gateway_url/chat/completions" '{"model":"llama-8b-awq","messages":[{"role":"user","content":"hi"}]}' ""); then
    echo "(unexpectedly answered: $answer)"; exit 1
  fi
  echo "$answer"
  chat llama-8b-awq
  chat llama-8b-cpu

  model_cache

  echo
  echo "==> what the models cost next to two hosted APIs (prices from hack/demo-operator-config.yaml, with their sources)"
  for _ in $(seq 1 150); do # the operator reads the engines' token counters every 5s and writes status.usage at most every 10s
    tokens=$(k -n "$ns" get llmd llama-8b-awq llama-8b-cpu -o jsonpath='{.items[*].status.usage.total.outputTokens}' 2>/dev/null || true)
    read -r a c <<<"$tokens"
    if [ "${a:-0}" -gt 0 ] && [ "${c:-0}" -gt 0 ]; then break; fi
    sleep 0.2
  done
  echo "\$ kubectl privatellm cost -n $ns --window total"
  bin/kubectl-privatellm cost -n "$ns" --window total
  cat <<MSG

The simulated GPU cluster, the operator and the gateway keep running. Try them with:

  source $state/env
  kubectl -n $ns get llmd -o wide
  kubectl privatellm cost -n $ns          # what each model cost next to the APIs (bin/kubectl-privatellm)
  kubectl privatellm status -n $ns        # what each model waits for
  kubectl -n $ns get modelcaches -o wide  # the model cache: source, commit, progress, users
  curl -s \$GATEWAY_URL/chat/completions -H "Authorization: Bearer \$API_KEY" -H 'Content-Type: application/json' \\
    -d '{"model":"llama-3.1-8b-instruct","messages":[{"role":"user","content":"Hello"}],"stream":true}'

Logs: $state/operator.log, $state/gateway.log. Stop everything with: make demo-down
MSG
}

# model_cache shows the weights path: a model downloaded once, with the token, into a verified cache in the
# cluster; its LLMDeployment waits with the download's progress, then starts offline from it; a second one of the
# same model starts from the same cache without downloading anything.
model_cache() {
  echo
  echo "==> the model cache: acme/tiny-chat-1b (gated, not in the operator's catalogue) downloaded once into the cluster"
  cached_model tiny-chat | k -n "$ns" apply -f -
  local msg=""
  for _ in $(seq 1 300); do
    if k -n "$ns" wait --for=condition=Ready llmd/tiny-chat --timeout=1s >/dev/null 2>&1; then break; fi
    local now
    now=$(k -n "$ns" get llmd tiny-chat -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}' 2>/dev/null || true)
    if [ -n "$now" ] && [ "$now" != "$msg" ]; then echo "  tiny-chat: $now"; msg=$now; fi
    sleep 1
  done
  k -n "$ns" wait --for=condition=Ready llmd/tiny-chat --timeout=120s >/dev/null
  echo
  k -n "$ns" get modelcaches -o wide
  echo
  echo "what the loader found in the checkpoint, and the fit computed from it:"
  k -n "$ns" get modelcache -o jsonpath='{.items[0].status.checkpoint}{"\n"}'
  k -n "$ns" get llmd tiny-chat -o jsonpath='{.status.conditions[?(@.type=="ModelFits")].message}{"\n"}'
  echo
  echo "where tiny-chat's startup went (status.startup):"
  k -n "$ns" get llmd tiny-chat -o jsonpath='{range .status.startup.steps[*]}  {.name}{"\t"}{.time}{"\t+"}{.duration}{"\n"}{end}'
  echo
  echo "==> a second LLMDeployment of the same model: it starts from the cache, downloading nothing"
  cached_model tiny-chat-b | k -n "$ns" apply -f -
  k -n "$ns" wait --for=condition=Ready llmd/tiny-chat-b --timeout=120s >/dev/null
  k -n "$ns" get llmd tiny-chat tiny-chat-b
  k -n "$ns" get modelcaches -o custom-columns='NAME:.metadata.name,COMMIT:.status.commit,USERS:.status.users'
  echo "(the engine pods run with HF_HUB_OFFLINE=1 and --revision=<commit>, the cache mounted read-only and no token;"
  echo " only the download pod mounted the Secret hf-token)"
}

cached_model() {
  cat <<YAML
apiVersion: serving.privatellm.dev/v1alpha1
kind: LLMDeployment
metadata:
  name: $1
spec:
  model:
    uri: hf://acme/tiny-chat-1b
    tokenSecretRef: {name: hf-token}
    cache: {enabled: true}
  gpu:
    count: 1
    products: [NVIDIA-L4]
YAML
}

# chat LLM sends a chat completion for an LLMDeployment through the gateway, with the demo's key. The gateway
# routes it by model name to a ready pod from the model Service's EndpointSlices, where engine-sim answers as the
# engine would.
chat() {
  local llm=$1 engine served body answer
  echo
  echo "==> a chat completion for $llm, through the gateway"
  engine=$(k -n "$ns" get llmd "$llm" -o jsonpath='{.spec.engine.name}')
  served=$(k -n "$ns" get llmd "$llm" -o jsonpath='{.spec.model.servedName}')
  served=${served:-$llm}
  body='{"model":"'"$served"'","messages":[{"role":"user","content":"Say hello to the demo."}],"max_tokens":8}'
  echo "POST $gateway_url/chat/completions (Authorization: Bearer \$API_KEY)"
  echo "$body"
  for _ in $(seq 1 100); do # until the gateway has seen the pod's endpoint and the engine listens (seconds)
    if answer=$(http_post "$gateway_url/chat/completions" "$body" "$api_key" 2>&1); then break; fi
    sleep 0.2
  done
  http_post "$gateway_url/chat/completions" "$body" "$api_key" >/dev/null || { echo "the chat completion failed: $answer"; exit 1; }
  echo "answer:"
  echo "$answer"
  echo "(engine-sim stands in for $engine and the hardware: the answer is filler text.)"
}

# http_post URL BODY [KEY]: POST BODY as JSON (GET when BODY is empty), with the bearer KEY when given, and print
# the response; fails on a non-2xx status. curl when present, else a tiny Go client.
http_post() {
  if command -v curl >/dev/null; then
    local auth=()
    if [ -n "${3:-}" ]; then auth=(-H "Authorization: Bearer $3"); fi
    if [ -n "$2" ]; then curl -sS --fail-with-body --max-time 30 -H 'Content-Type: application/json' "${auth[@]}" -d "$2" "$1"
    else curl -sS --fail --max-time 5 "${auth[@]}" "$1"; fi
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
	method, body := http.MethodGet, io.Reader(nil)
	if os.Args[2] != "" {
		method, body = http.MethodPost, strings.NewReader(os.Args[2])
	}
	req, err := http.NewRequest(method, os.Args[1], body)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	req.Header.Set("Content-Type", "application/json")
	if len(os.Args) > 3 && os.Args[3] != "" {
		req.Header.Set("Authorization", "Bearer "+os.Args[3])
	}
	resp, err := c.Do(req)
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
  go run "$state/httppost/main.go" "$1" "$2" "${3:-}"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
