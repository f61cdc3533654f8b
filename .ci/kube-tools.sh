#!/usr/bin/env bash
# Builds the real Kubernetes parts the integration tests of deploy/helm and
# monitor/kube run against — kube-apiserver and helm — from the Go module
# proxy, once, into a cache directory, and reuses them when already there.
# etcd comes from Debian's etcd-server (see .ci/run).
#
#   .ci/kube-tools.sh            build what is missing, print the directory
#
# kube-apiserver is built in a throwaway module (never fuka's go.mod):
# k8s.io/kubernetes replaces its k8s.io/* staging modules with local paths
# that the module zip does not hold, so each is pinned to the matching
# v0.x release instead. On 2 cores the first build takes minutes; later runs
# find the binary and return at once. The last build's output is in
# $CACHE/build.log.
set -euo pipefail

KUBE_VERSION=${FUKA_KUBE_VERSION:-v1.37.2}
HELM_VERSION=${FUKA_HELM_VERSION:-v4.3.2}
home=${HOME:-$(cd ~ && pwd)} # ~ falls back to the passwd entry
CACHE=${FUKA_KUBE_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/fuka}
staging=v0.${KUBE_VERSION#v1.} # v1.37.2 -> v0.37.2

mkdir -p "$CACHE"
apiserver=$CACHE/kube-apiserver-$KUBE_VERSION
helm=$CACHE/helm-$HELM_VERSION

if [ ! -x "$apiserver" ]; then
  start=$(date +%s)
  mod=$(mktemp -d)
  trap 'rm -rf "$mod"' EXIT
  echo "kube-tools: building kube-apiserver $KUBE_VERSION (staging modules at $staging)" >&2
  (
    cd "$mod"
    go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null
    kmod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBE_VERSION.mod
    {
      echo "module fuka.local/kube-apiserver-build"
      echo
      echo "go $(awk '$1 == "go" {print $2; exit}' "$kmod")"
      echo
      echo "require k8s.io/kubernetes $KUBE_VERSION"
      echo
      echo "replace ("
      # Every "k8s.io/X => ./staging/src/k8s.io/X" of kubernetes' go.mod.
      awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print "\t" $1 " => " $1 " '"$staging"'"}' "$kmod"
      echo ")"
    } >go.mod
    printf 'package main\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >tools.go
    ldflags="-s -w"
    for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
      major=${KUBE_VERSION#v}
      minor=${major#*.}
      ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=${major%%.*} -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
    done
    GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  ) >"$CACHE/build.log" 2>&1 || { tail -40 "$CACHE/build.log" >&2; exit 1; }
  mv "$apiserver.tmp" "$apiserver"
  echo "kube-tools: kube-apiserver built in $(($(date +%s) - start))s" >&2
fi

if [ ! -x "$helm" ]; then
  start=$(date +%s)
  echo "kube-tools: building helm $HELM_VERSION" >&2
  gobin=$(mktemp -d)
  GOBIN=$gobin go install -trimpath -ldflags "-s -w" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >"$CACHE/build.log" 2>&1 ||
    { rm -rf "$gobin"; tail -40 "$CACHE/build.log" >&2; exit 1; }
  mv "$gobin/helm" "$helm"
  rm -rf "$gobin"
  echo "kube-tools: helm built in $(($(date +%s) - start))s" >&2
fi

echo "$CACHE"
