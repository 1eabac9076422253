#!/usr/bin/env bash
# Builds the Kubernetes binaries the tests and the demo need from Go modules (no prebuilt downloads),
# caching them in bin/k8s/<version>/ so a second run costs nothing.
#
#   hack/build-k8s-binaries.sh [envtest|all]
#     envtest: kube-apiserver, etcd                       (what the integration tests need)
#     all:     + kube-controller-manager, kube-scheduler, kubectl, kwok   (the simulated GPU cluster)
#
# Prints the folder that holds the binaries on its last line.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
what=${1:-all}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s/$K8S_VERSION-etcd$ETCD_VERSION-kwok$KWOK_VERSION"
work="$root/bin/.build"
mkdir -p "$out" "$work"
export GOFLAGS=-mod=mod
export CGO_ENABLED=0

log() { echo "build-k8s-binaries: $*" >&2; }

# k8s.io/kubernetes replaces its staging modules with local folders, so it cannot be `go install`ed. A scratch
# module that requires it and replaces every staging module with the published one of the same minor builds it.
build_kube() {
  local missing=()
  for b in "$@"; do [ -x "$out/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return
  local dir="$work/kubernetes-$K8S_VERSION"
  mkdir -p "$dir"
  if [ ! -f "$dir/go.sum" ]; then
    log "preparing a scratch module for k8s.io/kubernetes $K8S_VERSION"
    (cd "$dir" && rm -f go.mod && go mod init privatellm.local/k8sbins >/dev/null 2>&1)
    local src
    src=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    local staging_version="v0.${K8S_VERSION#v1.}"
    {
      echo "require k8s.io/kubernetes $K8S_VERSION"
      sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$src/go.mod" | sort -u |
        while read -r m; do echo "replace $m => $m $staging_version"; done
    } >>"$dir/go.mod"
    cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
    (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true; go mod download)
  fi
  for b in "${missing[@]}"; do
    log "building $b $K8S_VERSION (several minutes on a cold cache)"
    (cd "$dir" && go build -tags tools -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION" -o "$out/$b" "k8s.io/kubernetes/cmd/$b")
  done
}

# etcd's server module replaces its sibling modules with local folders: require them at the same version.
build_etcd() {
  [ -x "$out/etcd" ] && return
  local dir="$work/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  if [ ! -f "$dir/go.sum" ]; then
    (cd "$dir" && rm -f go.mod && go mod init privatellm.local/etcdbin >/dev/null 2>&1)
    cat >>"$dir/go.mod" <<MOD
require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
MOD
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$dir/tools.go"
    (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true; go mod download)
  fi
  log "building etcd $ETCD_VERSION"
  (cd "$dir" && go build -tags tools -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  [ -x "$out/kwok" ] && return
  local dir="$work/kwok-$KWOK_VERSION"
  mkdir -p "$dir"
  if [ ! -f "$dir/go.sum" ]; then
    (cd "$dir" && rm -f go.mod && go mod init privatellm.local/kwokbin >/dev/null 2>&1)
    echo "require sigs.k8s.io/kwok $KWOK_VERSION" >>"$dir/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "sigs.k8s.io/kwok/cmd/kwok"\n' >"$dir/tools.go"
    (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true; go mod download)
  fi
  log "building kwok $KWOK_VERSION"
  (cd "$dir" && go build -tags tools -trimpath -ldflags "-s -w" -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok)
  # kwok exits with "no stages found" without stage definitions: keep the module's own next to the binary.
  local kdir
  kdir=$(cd "$dir" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  mkdir -p "$out/kwok-stages"
  cp "$kdir"/kustomize/stage/node/fast/*.yaml "$kdir"/kustomize/stage/node/heartbeat/*.yaml "$out/kwok-stages/" 2>/dev/null || true
  chmod -R u+w "$out/kwok-stages"
}

case "$what" in
  envtest) build_etcd; build_kube kube-apiserver ;;
  all) build_etcd; build_kube kube-apiserver kube-controller-manager kube-scheduler kubectl; build_kwok ;;
  *) echo "usage: $0 [envtest|all]" >&2; exit 2 ;;
esac
echo "$out"
