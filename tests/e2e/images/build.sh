#!/usr/bin/env bash
# Builds the offline test images the e2e stack maps the public images onto (no registry is reachable here).
#   podnet-e2e/node:test    Debian bookworm (debootstrap) with dockerd, iproute2, iptables, busybox (the cockpit's
#                           probes: nc, httpd), tcpdump and ping (the overlay's capture and MTU checks), jq (the CNI
#                           plugin and runtime read JSON with it), the standard CNI plugins (host-local, bridge, portmap,
#                           in /usr/lib/cni), the CNI project's reference runtime, cnitool (the e2e suite's judge), and
#                           for kubelet mode containerd (docker.io brings it) and kubelet v1.34.0: a lab node
#   podnet-e2e/pause:test   busybox-static whose /pause sleeps until TERM: stands in for registry.k8s.io/pause
#   podnet-e2e/web:test     busybox-static httpd on :80 logging each client (-vv): stands in for nginx
#   podnet-e2e/client:test  busybox-static shell with nc: stands in for ubuntu
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

# The CNI project's own runtime, built once per machine from the Go module proxy at a pinned version and kept.
CNITOOL_VERSION=v1.2.3
cnitool_cache=${PODNET_TOOLS_CACHE:-/var/cache/podnet-lab}/cnitool-$CNITOOL_VERSION
cnitool() {
  [ -x "$cnitool_cache/cnitool" ] && return 0
  local go; go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { echo "build-images: Go is needed to build cnitool (github.com/containernetworking/cni/cnitool@$CNITOOL_VERSION)" >&2; exit 1; }
  echo "build-images: building cnitool $CNITOOL_VERSION from the Go module proxy (about a minute, once per machine)"
  mkdir -p "$cnitool_cache"
  # (Go keeps its caches under HOME, which a CI shell may not set.)
  HOME="${HOME:-/root}" GOBIN="$cnitool_cache" CGO_ENABLED=0 "$go" install "github.com/containernetworking/cni/cnitool@$CNITOOL_VERSION"
}

# A real kubelet for kubelet mode (podRuntime: kubelet), the release node/Dockerfile downloads, built here from the Go
# module proxy instead (no internet): k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces its staging
# modules with folders), so a wrapper module requires it, points each staging module at its published version, and
# builds cmd/kubelet's main. About 5 minutes on 2 cores, once per machine; a static binary of about 80 MiB.
KUBELET_VERSION=v1.34.0
kubelet_cache=${PODNET_TOOLS_CACHE:-/var/cache/podnet-lab}/kubelet-$KUBELET_VERSION
kubelet() {
  [ -x "$kubelet_cache/kubelet" ] && return 0
  local go; go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { echo "build-images: Go is needed to build kubelet (k8s.io/kubernetes $KUBELET_VERSION)" >&2; exit 1; }
  echo "build-images: building kubelet $KUBELET_VERSION from the Go module proxy (about 5 minutes, once per machine)"
  local mod; mod=$(mktemp -d "$work/kubelet.XXXXXX")
  (
    cd "$mod"
    export HOME="${HOME:-/root}" CGO_ENABLED=0 GOFLAGS=-mod=mod
    "$go" mod init podnet-lab/kubelet >/dev/null 2>&1
    info=$("$go" mod download -json "k8s.io/kubernetes@$KUBELET_VERSION")
    gomod=$(echo "$info" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    dir=$(echo "$info" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    {
      echo "require k8s.io/kubernetes $KUBELET_VERSION"
      # Staging module k8s.io/X is published as k8s.io/X v0.<minor>.<patch>.
      sed -n "s#^[[:space:]]*\(k8s\.io/[^ ]*\) => ./staging/.*#replace \1 => \1 v0.${KUBELET_VERSION#v1.}#p" "$gomod"
    } >> go.mod
    cp "$dir/cmd/kubelet/kubelet.go" main.go
    "$go" mod tidy >/dev/null
    mkdir -p "$kubelet_cache"
    "$go" build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBELET_VERSION" -o "$kubelet_cache/kubelet.new" .
    mv -f "$kubelet_cache/kubelet.new" "$kubelet_cache/kubelet"
  )
}

if ! have podnet-e2e/node:test; then
  need debootstrap debootstrap
  cnitool
  kubelet
  mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "build-images: debootstrap bookworm from $mirror (about 80 s)"
  debootstrap --variant=minbase --include=docker.io,iproute2,iptables,procps,containernetworking-plugins,busybox,tcpdump,iputils-ping,jq,ca-certificates \
    bookworm "$work/node" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/node/var/cache/apt/archives/"*.deb
  install -m 0755 "$cnitool_cache/cnitool" "$work/node/usr/local/bin/cnitool"
  install -m 0755 "$kubelet_cache/kubelet" "$work/node/usr/local/bin/kubelet"
  tar -C "$work/node" -c . | docker import -c 'CMD ["/bin/bash"]' -c "LABEL podnet-e2e.recipe=$recipe" - podnet-e2e/node:test >/dev/null
  echo "build-images: built podnet-e2e/node:test"
fi
