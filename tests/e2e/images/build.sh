#!/usr/bin/env bash
# Builds the offline test images the e2e stack maps the public images onto (no registry is reachable here).
#   podnet-e2e/node:test    Debian bookworm (debootstrap) with dockerd, iproute2, iptables, busybox (the cockpit's
#                           probes: nc, httpd), tcpdump and ping (the overlay's capture and MTU checks), jq (the CNI
#                           plugin and runtime read JSON with it), the standard CNI plugins (host-local, bridge, portmap,
#                           in /usr/lib/cni), the CNI project's reference runtime, cnitool (the e2e suite's judge), and
#                           for kubelet and cluster modes containerd (docker.io brings it), openssl (the lab PKI),
#                           Kubernetes v1.34.0 (one multi-call binary: kubelet, the control plane, kubectl) and etcd:
#                           a lab node or the lab's control plane
#   podnet-e2e/pause:test   busybox-static whose /pause sleeps until TERM: stands in for registry.k8s.io/pause
#   podnet-e2e/web:test     busybox-static httpd on :80 logging each client (-vv): stands in for nginx
#   podnet-e2e/client:test  busybox-static shell with nc: stands in for ubuntu
#   podnet-e2e/coredns:test CoreDNS v1.12.1, built from the Go module proxy: stands in for registry.k8s.io/coredns/coredns
# Only missing images are built, or images built by an older version of this script (each carries the
# label podnet-e2e.recipe, a hash of this file). Env: DEBIAN_MIRROR (default: the first mirror in /etc/apt/sources.list.d).
set -euo pipefail
recipe=$(sha256sum "$0" | cut -c1-12)
have() { [ "$(docker image inspect -f '{{index .Config.Labels "podnet-e2e.recipe"}}' "$1" 2>/dev/null)" = "$recipe" ]; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "build-images: '$1' is missing (apt-get install -y $2)" >&2; exit 1; }; }
work=$(mktemp -d /var/tmp/podnet-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

busybox_root() {
  local root=$1
  need busybox busybox-static
  local bb; bb=$(command -v busybox)
  # The images hold nothing else, so busybox must be the static build (package busybox-static).
  if ldd "$bb" >/dev/null 2>&1; then echo "build-images: $bb is dynamically linked; apt-get install -y busybox-static" >&2; exit 1; fi
  mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$bb" --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  cat > "$root/pause" <<'SH'
#!/bin/sh
# Holds the pod's network namespace, like registry.k8s.io/pause: sleeps until TERM.
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
SH
  cat > "$root/web" <<'SH'
#!/bin/sh
# Stands in for nginx: serves / on :80 and logs every client address to stderr (docker logs).
echo "hello from podnet-lab web ($(hostname))" > /www/index.html
exec httpd -f -vv -p 80 -h /www
SH
  chmod +x "$root/pause" "$root/web"
}

for img in pause web client; do
  have "podnet-e2e/$img:test" && continue
  root="$work/busybox"; [ -d "$root" ] || busybox_root "$root"
  case $img in
    pause)  change='ENTRYPOINT ["/pause"]' ;;
    web)    change='ENTRYPOINT ["/web"]' ;;
    client) change='CMD ["/bin/sh"]' ;;
  esac
  tar -C "$root" -c . | docker import -c "$change" -c 'ENV PATH=/bin' -c "LABEL podnet-e2e.recipe=$recipe" - "podnet-e2e/$img:test" >/dev/null
  echo "build-images: built podnet-e2e/$img:test"
done

# go_install WHAT CACHE MODULE@VERSION HOW_LONG [GO FLAGS...]: a command with a main package of its own, built once
# per machine from the Go module proxy with `go install` into CACHE (kept; skipped when CACHE holds the binary).
go_install() {
  local what=$1 cache=$2 module=$3 how_long=$4; shift 4
  [ -x "$cache/$(basename "${module%%@*}")" ] && return 0
  local go; go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { echo "build-images: Go is needed to build $what ($module)" >&2; exit 1; }
  echo "build-images: building $what ${module##*@} from the Go module proxy ($how_long, once per machine)"
  mkdir -p "$cache"
  # (Go keeps its caches under HOME, which a CI shell may not set.)
  # shellcheck disable=SC2031  # HOME for this command only
  HOME="${HOME:-/root}" GOBIN="$cache" CGO_ENABLED=0 "$go" install "$@" "$module"
}

# The CNI project's own runtime, built once per machine from the Go module proxy at a pinned version and kept.
CNITOOL_VERSION=v1.2.3
cnitool_cache=${PODNET_TOOLS_CACHE:-/var/cache/podnet-lab}/cnitool-$CNITOOL_VERSION
cnitool() { go_install cnitool "$cnitool_cache" "github.com/containernetworking/cni/cnitool@$CNITOOL_VERSION" "about a minute"; }

# Kubernetes v1.34.0, as node/Dockerfile downloads its release binaries, built here from the Go module proxy instead
# (no internet): one static multi-call binary, `kube`, that runs kubelet, kube-apiserver, kube-controller-manager,
# kube-scheduler, kube-proxy or kubectl by the name it is called under (a symlink each), so that one build gives the
# node, the control plane and the tests' kubectl. k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces its
# staging modules with folders), so a wrapper module requires it and points each staging module at its published
# version. About 6 minutes on 2 cores, once per machine; about 130 MiB.
KUBE_VERSION=v1.34.0
KUBE_COMMANDS="kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl"
kube_cache=${PODNET_TOOLS_CACHE:-/var/cache/podnet-lab}/kube-$KUBE_VERSION
kube() {
  [ -x "$kube_cache/kube" ] && return 0
  local go; go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { echo "build-images: Go is needed to build Kubernetes (k8s.io/kubernetes $KUBE_VERSION)" >&2; exit 1; }
  echo "build-images: building Kubernetes $KUBE_VERSION ($KUBE_COMMANDS) from the Go module proxy (about 6 minutes, once per machine)"
  local mod; mod=$(mktemp -d "$work/kube.XXXXXX")
  (
    cd "$mod"
    # shellcheck disable=SC2030,SC2031  # each build's environment is its own subshell's, on purpose
    export HOME="${HOME:-/root}" CGO_ENABLED=0 GOFLAGS=-mod=mod
    "$go" mod init podnet-lab/kube >/dev/null 2>&1
    info=$("$go" mod download -json "k8s.io/kubernetes@$KUBE_VERSION")
    gomod=$(echo "$info" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    {
      echo "require k8s.io/kubernetes $KUBE_VERSION"
      # Staging module k8s.io/X is published as k8s.io/X v0.<minor>.<patch>.
      sed -n "s#^[[:space:]]*\(k8s\.io/[^ ]*\) => ./staging/.*#replace \1 => \1 v0.${KUBE_VERSION#v1.}#p" "$gomod"
    } >> go.mod
    cat > main.go <<'GO'
// One binary for the lab's Kubernetes commands, picked by the name it runs under (as each cmd/*/main.go runs them).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	_ "time/tzdata"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	switch name := filepath.Base(os.Args[0]); name {
	case "kubelet":
		os.Exit(cli.Run(kubelet.NewKubeletCommand(context.Background())))
	case "kube-apiserver":
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "kube-controller-manager":
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	case "kube-scheduler":
		os.Exit(cli.Run(scheduler.NewSchedulerCommand()))
	case "kube-proxy":
		os.Exit(cli.Run(proxy.NewProxyCommand()))
	case "kubectl":
		logs.GlogSetter(kubectl.GetLogVerbosity(os.Args)) // nolint:errcheck
		if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
	default:
		fmt.Fprintf(os.Stderr, "kube: run me as one of kubelet, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, kubectl (not %q)\n", name)
		os.Exit(2)
	}
}
GO
    "$go" mod tidy >/dev/null
    mkdir -p "$kube_cache"
    "$go" build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION" -o "$kube_cache/kube.new" .
    for c in $KUBE_COMMANDS; do ln -sf kube "$kube_cache/$c"; done
    mv -f "$kube_cache/kube.new" "$kube_cache/kube"
  )
}

# etcd for the control plane (podRuntime: cluster), as node/Dockerfile downloads its release, built here from the Go
# module proxy: a wrapper module whose main is etcd's own (etcdmain.Main). About 40 s, once per machine; about 26 MiB.
ETCD_VERSION=v3.6.4
etcd_cache=${PODNET_TOOLS_CACHE:-/var/cache/podnet-lab}/etcd-$ETCD_VERSION
etcd() {
  [ -x "$etcd_cache/etcd" ] && return 0
  local go; go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { echo "build-images: Go is needed to build etcd (go.etcd.io/etcd/server/v3 $ETCD_VERSION)" >&2; exit 1; }
  echo "build-images: building etcd $ETCD_VERSION from the Go module proxy (about a minute, once per machine)"
  local mod; mod=$(mktemp -d "$work/etcd.XXXXXX")
  (
    cd "$mod"
    # shellcheck disable=SC2030,SC2031  # each build's environment is its own subshell's, on purpose
    export HOME="${HOME:-/root}" CGO_ENABLED=0 GOFLAGS=-mod=mod
    "$go" mod init podnet-lab/etcd >/dev/null 2>&1
    cat > main.go <<'GO'
// etcd's own main, as go.etcd.io/etcd/server/v3's release binary runs it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    "$go" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
    "$go" mod tidy >/dev/null
    mkdir -p "$etcd_cache"
    "$go" build -trimpath -ldflags "-s -w" -o "$etcd_cache/etcd.new" .
    mv -f "$etcd_cache/etcd.new" "$etcd_cache/etcd"
  )
}

# CoreDNS for cluster mode's DNS, as the official registry.k8s.io/coredns/coredns:v1.12.1 (kubeadm's for Kubernetes
# v1.34) holds it, built from the Go module proxy instead: `go install` of its own main. About 3 minutes on 2 cores,
# once per machine; about 75 MiB. The image holds the binary alone (it is static), as the official one does.
COREDNS_VERSION=v1.12.1
coredns_cache=${PODNET_TOOLS_CACHE:-/var/cache/podnet-lab}/coredns-$COREDNS_VERSION
coredns() { go_install CoreDNS "$coredns_cache" "github.com/coredns/coredns@$COREDNS_VERSION" "about 3 minutes" -trimpath -ldflags "-s -w"; }
if ! have podnet-e2e/coredns:test; then
  coredns
  root="$work/coredns"
  mkdir -p "$root/etc"
  install -m 0755 "$coredns_cache/coredns" "$root/coredns"
  echo 'root:x:0:0:root:/:/coredns' > "$root/etc/passwd"
  tar -C "$root" -c . | docker import -c 'ENTRYPOINT ["/coredns"]' -c "LABEL podnet-e2e.recipe=$recipe" - podnet-e2e/coredns:test >/dev/null
  echo "build-images: built podnet-e2e/coredns:test"
fi

if ! have podnet-e2e/node:test; then
  need debootstrap debootstrap
  cnitool
  kube
  etcd
  mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "build-images: debootstrap bookworm from $mirror (about 80 s)"
  debootstrap --variant=minbase --include=docker.io,iproute2,iptables,procps,containernetworking-plugins,busybox,tcpdump,iputils-ping,jq,ca-certificates,openssl \
    bookworm "$work/node" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/node/var/cache/apt/archives/"*.deb
  install -m 0755 "$cnitool_cache/cnitool" "$work/node/usr/local/bin/cnitool"
  install -m 0755 "$kube_cache/kube" "$work/node/usr/local/bin/kube"
  for c in $KUBE_COMMANDS; do ln -sf kube "$work/node/usr/local/bin/$c"; done
  install -m 0755 "$etcd_cache/etcd" "$work/node/usr/local/bin/etcd"
  tar -C "$work/node" -c . | docker import -c 'CMD ["/bin/bash"]' -c "LABEL podnet-e2e.recipe=$recipe" - podnet-e2e/node:test >/dev/null
  echo "build-images: built podnet-e2e/node:test"
fi
