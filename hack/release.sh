#!/usr/bin/env bash
# Builds the kubectl-keda release archives and fills the krew manifest with their sha256.
#
#   hack/release.sh [VERSION]            cross-build into dist/ and write krew/keda.yaml
#   hack/release.sh manifest VERSION DIR write the manifest for the archives already in DIR to stdout
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
platforms="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
base_url=${RELEASE_BASE_URL:-https://github.com/kedactl/kedactl/releases/download}

archive_name() { echo "kubectl-keda_${1}_${2}_${3}.tar.gz"; }

manifest() {
  local version=$1 dir=$2 entries="" os arch file sha bin
  for p in $platforms; do
    os=${p%/*}; arch=${p#*/}
    file=$(archive_name "$version" "$os" "$arch")
    [ -f "$dir/$file" ] || { echo "missing archive $dir/$file" >&2; return 1; }
    sha=$(sha256sum "$dir/$file" | cut -d' ' -f1)
    bin=kubectl-keda; [ "$os" = windows ] && bin=kubectl-keda.exe
    entries+="    - selector:
        matchLabels:
          os: $os
          arch: $arch
      uri: $base_url/$version/$file
      sha256: $sha
      bin: $bin
"
  done
  local tmpl; tmpl=$(cat "$root/krew/keda.yaml.tmpl")
  tmpl=${tmpl//@VERSION@/$version}
  printf '%s\n' "${tmpl//@PLATFORMS@/${entries%$'\n'}}"
}

build() {
  local version=$1 dist=$root/dist os arch bin stage
  rm -rf "$dist"; mkdir -p "$dist"
  for p in $platforms; do
    os=${p%/*}; arch=${p#*/}
    bin=kubectl-keda; [ "$os" = windows ] && bin=kubectl-keda.exe
    stage=$(mktemp -d)
    echo ">> building kubectl-keda $version for $os/$arch" >&2
    (cd "$root" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
      -ldflags "-s -w -X github.com/kedactl/kedactl/internal/version.version=$version" -o "$stage/$bin" ./cmd/kubectl-keda)
    cp "$root/README.md" "$stage/"
    tar -czf "$dist/$(archive_name "$version" "$os" "$arch")" -C "$stage" "$bin" README.md
    rm -rf "$stage"
  done
  manifest "$version" "$dist" > "$root/krew/keda.yaml"
  echo ">> wrote dist/ and krew/keda.yaml" >&2
}

case ${1:-} in
  manifest) manifest "$2" "$3" ;;
  *) build "${1:-$(cd "$root" && git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)}" ;;
esac
