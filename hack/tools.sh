#!/usr/bin/env bash
# Builds the pinned tools the project needs into a cache outside the repository, keyed by version, so
# that warm runs and fresh clones on the same machine skip the build. Prints nothing when all is cached.
#
#   hack/tools.sh cluster        etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
#   hack/tools.sh controller-gen
#   hack/tools.sh protogen       protocompile-based protoc stand-in, protoc-gen-go, protoc-gen-go-grpc
#   hack/tools.sh helm           for the chart tests (lint, renders, install on the local cluster)
#   hack/tools.sh metrics-server metrics.k8s.io for the local cluster, scraping kwok's emulated kubelets
#   hack/tools.sh redis          redis-server from Debian (apt-get)
#   hack/tools.sh postgres       PostgreSQL from Debian (apt-get), for the postgresql scaler's tests
#   hack/tools.sh mariadb        MariaDB from Debian (apt-get), for the mysql scaler's tests
#   hack/tools.sh prometheus     Prometheus from Debian (apt-get), for the prometheus scaler's tests
#   hack/tools.sh tmux           tmux from Debian, for the test that drives the TUI in a terminal
#   hack/tools.sh nats           nats-server from Debian (apt-get), for the nats-jetstream scaler's tests
#   hack/tools.sh rabbitmq       RabbitMQ from Debian (apt-get), for the rabbitmq scaler's tests
#   hack/tools.sh beanstalkd     beanstalkd from Debian (apt-get), for the beanstalkd scaler's tests
#   hack/tools.sh graphite       carbon-cache and graphite-web from Debian (apt-get), for the graphite scaler's tests
#   hack/tools.sh goaws          the goaws SQS emulator from the Go module proxy (hack/goaws), for aws-sqs-queue
#   hack/tools.sh nsq            nsqd and nsqlookupd from the Go module proxy (hack/nsq), for the nsq scaler's tests
#   hack/tools.sh ferretdb       FerretDB (MongoDB's wire protocol over SQLite) from the Go module proxy (hack/ferretdb), for mongodb
#   hack/tools.sh fakegcs        fake-gcs-server (Cloud Storage emulator) from the Go module proxy (hack/fakegcs), for gcp-storage
#   hack/tools.sh azurite        Azurite (Azure Storage emulator) from npm, for the azure-queue and azure-blob scalers' tests
#   hack/tools.sh kinesalite     kinesalite (Kinesis emulator) from npm, for the aws-kinesis-stream scaler's tests
#   hack/tools.sh dynalite       dynalite (DynamoDB emulator) from npm, for the aws-dynamodb scaler's tests
#   hack/tools.sh pouchdb        pouchdb-server (CouchDB's HTTP API, Mango _find) from npm, for the couchdb scaler's tests
#   hack/tools.sh vault          HashiCorp Vault from the Go module proxy (hack/vault), for hashiCorpVault
#   hack/tools.sh keda           KEDA's operator, adapter and webhooks from the Go module proxy (hack/keda), for make bench
#   hack/tools.sh demo           what make demo uses and nothing more: cluster (with kwok), helm and redis,
#                                built side by side
#   hack/tools.sh all            what make test uses (Vault apart: make test builds it in the background)
#   hack/tools.sh core, npm      all is these two; make test installs npm's in the background
#
# Each tool's directory is printed by `hack/tools.sh dir TOOL`.
set -euo pipefail

KUBE_VERSION=v1.36.3
KWOK_VERSION=v0.8.0
CONTROLLER_GEN_VERSION=v0.23.0
HELM_VERSION=v3.22.0
METRICS_SERVER_VERSION=v0.9.0
VAULT_VERSION=v1.21.4 # keep in step with hack/vault/go.mod
KEDA_VERSION=v2.21.0 # keep in step with hack/keda/go.mod
GOAWS_VERSION=v0.4.5 # keep in step with hack/goaws/go.mod
NSQ_VERSION=v1.3.0 # keep in step with hack/nsq/go.mod
FAKEGCS_VERSION=v1.56.1 # keep in step with hack/fakegcs/go.mod
FERRETDB_VERSION=v1.24.2 # keep in step with hack/ferretdb/go.mod
# Azurite releases after 3.35.0 want a newer Node than Debian's 20.
AZURITE_VERSION=3.35.0
# The last releases of both; they run on Debian's Node 20 (leveldown's prebuilt binaries).
KINESALITE_VERSION=3.3.3
DYNALITE_VERSION=4.0.0
# pouchdb-server 4.2.0 (its last release) installs and runs on Node 20 with leveldown's prebuilt binary.
POUCHDB_SERVER_VERSION=4.2.0

here=$(cd "$(dirname "$0")" && pwd)
cache=${KEDACTL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kedactl}

# The proto generators are pinned by hack/protogen/go.mod; their cache entry is keyed by a hash
# of that module, so a changed pin or driver builds a new entry.
protogen_version() {
  cat "$here/protogen/go.mod" "$here/protogen/go.sum" "$here/protogen/main.go" | sha256sum | cut -c1-16
}

dir() {
  case $1 in
    protogen) echo "$cache/protogen-$(protogen_version)" ;;
    cluster) echo "$cache/kube-$KUBE_VERSION" ;;
    kwok) echo "$cache/kwok-$KWOK_VERSION" ;;
    controller-gen) echo "$cache/controller-gen-$CONTROLLER_GEN_VERSION" ;;
    helm) echo "$cache/helm-$HELM_VERSION" ;;
    metrics-server) echo "$cache/metrics-server-$METRICS_SERVER_VERSION" ;;
    vault) echo "$cache/vault-$VAULT_VERSION" ;;
    keda) echo "$cache/keda-$KEDA_VERSION" ;;
    goaws) echo "$cache/goaws-$GOAWS_VERSION" ;;
    nsq) echo "$cache/nsq-$NSQ_VERSION" ;;
    fakegcs) echo "$cache/fake-gcs-server-$FAKEGCS_VERSION" ;;
    ferretdb) echo "$cache/ferretdb-$FERRETDB_VERSION" ;;
    azurite) echo "$cache/azurite-$AZURITE_VERSION" ;;
    kinesalite) echo "$cache/kinesalite-$KINESALITE_VERSION" ;;
    dynalite) echo "$cache/dynalite-$DYNALITE_VERSION" ;;
    pouchdb) echo "$cache/pouchdb-server-$POUCHDB_SERVER_VERSION" ;;
    *) echo "unknown tool $1" >&2; return 2 ;;
  esac
}

# build_into DIR CMD...: runs CMD with OUT set to a temp dir, then moves it to DIR atomically so an
# interrupted build never leaves a half-filled cache entry behind.
build_into() {
  local target=$1; shift
  [ -f "$target/.complete" ] && return 0
  mkdir -p "$(dirname "$target")"
  # One build of a tool at a time: a second caller (a test needing Vault while make test builds it
  # in the background) waits for the first and then finds the tool built.
  local lock
  exec {lock}>"$target.lock"
  flock "$lock"
  if [ ! -f "$target/.complete" ]; then
    local tmp; tmp=$(mktemp -d "$target.tmp.XXXXXX")
    # Wall and CPU time of each cold build, in the log, for the README's timings.
    local TIMEFORMAT="<< $(basename "$target") built in %0R s (CPU %0U s user, %0S s system)"
    time OUT=$tmp "$@"
    touch "$tmp/.complete"
    rm -rf "$target"; mv "$tmp" "$target"
  fi
  flock -u "$lock"
}

build_cluster() {
  echo ">> building the local control plane $KUBE_VERSION into $OUT (about 10 minutes cold on 2 cores)" >&2
  local ver=k8s.io/component-base/version
  local ldflags="-s -w -X $ver.gitVersion=$KUBE_VERSION -X $ver.gitMajor=1 -X $ver.gitMinor=36 -X $ver.gitTreeState=clean"
  (cd "$here/cluster" && go build -trimpath -ldflags "$ldflags" -o "$OUT/" ./etcd ./kube-apiserver ./kube-controller-manager ./kube-scheduler)
}

build_kwok() {
  echo ">> building kwok $KWOK_VERSION into $OUT" >&2
  GOBIN=$OUT go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The binary carries no stages: take the fast node and pod lifecycles from the module source.
  local src; src=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
  local f first=1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ $first = 1 ] || echo "---"
    first=0
    cat "$src/$f"
  done > "$OUT/stages.yaml"
}

build_controller_gen() {
  echo ">> building controller-gen $CONTROLLER_GEN_VERSION into $OUT" >&2
  GOBIN=$OUT go install -trimpath "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_GEN_VERSION"
}

build_protogen() {
  # Generated code must not be newer than the runtime it is compiled with.
  local want got
  want=$(cd "$here/.." && go list -m -f '{{.Version}}' google.golang.org/protobuf)
  got=$(cd "$here/protogen" && go list -m -f '{{.Version}}' google.golang.org/protobuf)
  if [ "$want" != "$got" ]; then
    echo "hack/protogen pins google.golang.org/protobuf $got but the module uses $want: align hack/protogen/go.mod" >&2
    return 1
  fi
  echo ">> building protogen, protoc-gen-go and protoc-gen-go-grpc into $OUT" >&2
  (cd "$here/protogen" && go build -trimpath -o "$OUT/" . google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc)
}

build_helm() {
  echo ">> building helm $HELM_VERSION into $OUT (about 3 minutes cold)" >&2
  GOBIN=$OUT go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

build_metrics_server() {
  echo ">> building metrics-server $METRICS_SERVER_VERSION into $OUT (about 3 minutes cold)" >&2
  GOBIN=$OUT go install -trimpath -ldflags "-s -w" "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
}

# Vault's main module has replace directives, which `go install` refuses: hack/vault is a wrapper
# module that copies them. One of them points the sdk at Vault's in-tree copy, which the module
# proxy does not serve; the published sdk Vault requires (v0.21.0) differs from it in two
# signatures (framework.Backend.ActivationFunc, keysutil.LockManager.RestorePolicy). So the build uses a temporary copy of Vault's
# module source from the module cache, with the call sites adapted (no Vault source is kept in
# this repository), and of the wrapper with a replace pointing at it.
build_vault() {
  echo ">> building vault $VAULT_VERSION into $OUT (about 15 minutes cold on 2 cores)" >&2
  local src work
  src=$(cd "$here/vault" && go mod download -json "github.com/hashicorp/vault@$VAULT_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { echo "hack/tools.sh: vault $VAULT_VERSION is not in the module cache" >&2; return 1; }
  work=$OUT/.src
  mkdir -p "$work"
  cp -r "$src" "$work/vault" && chmod -R u+w "$work/vault"
  cp "$here/vault/go.mod" "$here/vault/go.sum" "$here/vault/main.go" "$work/"
  sed -i 's/ActivationFunc: iStore.activateDeduplication,/ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },/' \
    "$work/vault/vault/identity_store.go"
  sed -i 's/b.idStoreBackend.ActivationFunc(ctx, nil)/b.idStoreBackend.ActivationFunc(ctx, nil, "")/' \
    "$work/vault/vault/logical_system_activation_flags.go"
  # ...and in keysutil.LockManager.RestorePolicy, which returns no key name in the published sdk.
  sed -i 's/restoredKeyName, err := b.lm.RestorePolicy(/restoredKeyName, err := keyName, b.lm.RestorePolicy(/' \
    "$work/vault/builtin/logical/transit/path_restore.go"
  if cmp -s "$src/vault/identity_store.go" "$work/vault/vault/identity_store.go" ||
     cmp -s "$src/vault/logical_system_activation_flags.go" "$work/vault/vault/logical_system_activation_flags.go" ||
     cmp -s "$src/builtin/logical/transit/path_restore.go" "$work/vault/builtin/logical/transit/path_restore.go"; then
    echo "hack/tools.sh: the Vault sdk adaptation no longer applies to $VAULT_VERSION: revisit build_vault" >&2
    return 1
  fi
  (cd "$work" && go mod edit -replace "github.com/hashicorp/vault=./vault" &&
    go build -mod=mod -trimpath -ldflags "-s -w" -o "$OUT/vault" .)
  rm -rf "$work"
}

# KEDA, the autoscaler the bench compares against: its three binaries built from the Go module proxy
# through hack/keda (a wrapper module carrying KEDA's replace/exclude lines). Its CRDs are read by the
# bench from the module cache at run time; `hack/tools.sh dir keda`/src points there.
build_keda() {
  echo ">> building KEDA $KEDA_VERSION into $OUT (about 11 minutes cold on 2 cores)" >&2
  local pkg=github.com/kedacore/keda/v2
  (cd "$here/keda" &&
    go build -trimpath -ldflags "-s -w -X=$pkg/version.Version=$KEDA_VERSION" -o "$OUT/" \
      "$pkg/cmd/operator" "$pkg/cmd/adapter" "$pkg/cmd/webhooks" &&
    ln -s "$(go list -m -f '{{.Dir}}' "$pkg")" "$OUT/src")
}

# goaws, an SQS emulator (query protocol only: see test/servers/sqs for what the tests use it for).
build_goaws() {
  echo ">> building goaws $GOAWS_VERSION into $OUT" >&2
  (cd "$here/goaws" && go build -trimpath -ldflags "-s -w" -o "$OUT/goaws" github.com/Admiral-Piett/goaws/app/cmd)
}

# nsqd and nsqlookupd, the nsq scaler's servers (the scaler asks nsqlookupd for a topic's nsqd
# nodes, then each nsqd for its stats).
build_nsq() {
  echo ">> building nsqd and nsqlookupd $NSQ_VERSION into $OUT" >&2
  (cd "$here/nsq" && go build -trimpath -ldflags "-s -w" -o "$OUT/" github.com/nsqio/nsq/apps/nsqd github.com/nsqio/nsq/apps/nsqlookupd)
}

# fake-gcs-server, a Cloud Storage emulator, for the gcp-storage scaler's tests (served over plain
# HTTP with the in-memory backend; the scaler reaches it through STORAGE_EMULATOR_HOST).
build_fakegcs() {
  echo ">> building fake-gcs-server $FAKEGCS_VERSION into $OUT" >&2
  (cd "$here/fakegcs" && go build -trimpath -ldflags "-s -w" -o "$OUT/fake-gcs-server" github.com/fsouza/fake-gcs-server)
}

# FerretDB, the mongodb scaler's server: MongoDB's wire protocol with SCRAM authentication, its
# data in SQLite files (its PostgreSQL backend is built in too, and not used by the tests).
# FerretDB embeds its version from build/version/version.txt, which its release process
# generates and the module proxy's copy lacks (the binary panics without it): the build uses a
# temporary copy of the module source from the module cache with that file written, and of the
# wrapper module with a replace pointing at it (no FerretDB source is kept in this repository).
build_ferretdb() {
  echo ">> building ferretdb $FERRETDB_VERSION into $OUT" >&2
  local src work
  src=$(cd "$here/ferretdb" && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { echo "hack/tools.sh: ferretdb $FERRETDB_VERSION is not in the module cache" >&2; return 1; }
  work=$OUT/.src
  mkdir -p "$work"
  cp -r "$src" "$work/ferretdb" && chmod -R u+w "$work/ferretdb"
  echo "$FERRETDB_VERSION" > "$work/ferretdb/build/version/version.txt"
  cp "$here/ferretdb/go.mod" "$here/ferretdb/go.sum" "$here/ferretdb/tools.go" "$work/"
  (cd "$work" && go mod edit -replace "github.com/FerretDB/FerretDB=./ferretdb" &&
    go build -mod=mod -trimpath -ldflags "-s -w" -o "$OUT/ferretdb" github.com/FerretDB/FerretDB/cmd/ferretdb)
  rm -rf "$work"
}

# Azurite from npm at an exact version, its dependencies as its lock file pins them; the tests run
# $OUT/node_modules/.bin/azurite.
build_azurite() {
  command -v npm >/dev/null 2>&1 || apt_install npm=npm
  echo ">> installing azurite $AZURITE_VERSION from npm into $OUT" >&2
  npm install --prefix "$OUT" --no-audit --no-fund --loglevel=error --save-exact "azurite@$AZURITE_VERSION" >&2
}

# An npm package at an exact version (kinesalite, dynalite, pouchdb-server) with its dependencies:
# the tests load $OUT/node_modules/<name> and listen on loopback (kinesalite's command has no host
# option), or run $OUT/node_modules/.bin/<name>.
build_npm() {
  command -v npm >/dev/null 2>&1 || apt_install npm=npm
  echo ">> installing $1 from npm into $OUT" >&2
  npm install --prefix "$OUT" --no-audit --no-fund --loglevel=error --save-exact "$1" >&2
}

apt_install() {
  local missing=()
  local pkg bin
  for pkg in "$@"; do
    bin=${pkg%%=*}; pkg=${pkg#*=}
    command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} = 0 ] && return 0
  # dpkg allows one install at a time: make demo asks for Redis from two places (its background
  # build and the demo waiting for it), so the second waits here and then finds it installed.
  local lock
  mkdir -p "$cache"
  exec {lock}>"$cache/apt.lock"
  flock "$lock"
  missing=()
  for pkg in "$@"; do
    bin=${pkg%%=*}; pkg=${pkg#*=}
    command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} = 0 ] && { flock -u "$lock"; return 0; }
  echo ">> apt-get install ${missing[*]}" >&2
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  flock -u "$lock"
}

case ${1:-all} in
  dir) dir "$2" ;;
  cluster) build_into "$(dir cluster)" build_cluster; build_into "$(dir kwok)" build_kwok ;;
  kwok) build_into "$(dir kwok)" build_kwok ;;
  controller-gen) build_into "$(dir controller-gen)" build_controller_gen ;;
  protogen) build_into "$(dir protogen)" build_protogen ;;
  helm) build_into "$(dir helm)" build_helm ;;
  metrics-server) build_into "$(dir metrics-server)" build_metrics_server ;;
  vault) build_into "$(dir vault)" build_vault ;;
  keda) build_into "$(dir keda)" build_keda ;;
  goaws) build_into "$(dir goaws)" build_goaws ;;
  nsq) build_into "$(dir nsq)" build_nsq ;;
  fakegcs) build_into "$(dir fakegcs)" build_fakegcs ;;
  ferretdb) build_into "$(dir ferretdb)" build_ferretdb ;;
  azurite) build_into "$(dir azurite)" build_azurite ;;
  kinesalite) build_into "$(dir kinesalite)" build_npm "kinesalite@$KINESALITE_VERSION" ;;
  dynalite) build_into "$(dir dynalite)" build_npm "dynalite@$DYNALITE_VERSION" ;;
  pouchdb) build_into "$(dir pouchdb)" build_npm "pouchdb-server@$POUCHDB_SERVER_VERSION" ;;
  redis) apt_install redis-server=redis-server ;;
  # Debian keeps PostgreSQL's server binaries off PATH, in /usr/lib/postgresql/<major>/bin.
  postgres) compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || apt_install postgresql ;;
  mariadb) apt_install mariadb-install-db=mariadb-server ;;
  prometheus) apt_install prometheus=prometheus ;;
  tmux) apt_install tmux=tmux ;;
  nats) apt_install nats-server=nats-server ;;
  # Debian's rabbitmq-server script su's to the rabbitmq account; tests run the server's own script.
  rabbitmq) [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || apt_install rabbitmq-server ;;
  beanstalkd) apt_install beanstalkd=beanstalkd ;;
  graphite) apt_install carbon-cache=graphite-carbon graphite-manage=graphite-web ;;
  demo)
    # Side by side: apt waits on the network while the Go builds use the cores, and the builds'
    # serial link steps overlap. The control plane is the long pole (about 10 minutes cold).
    pids=()
    "$0" redis & pids+=($!)
    "$0" helm & pids+=($!)
    "$0" cluster & pids+=($!)
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    exit $failed
    ;;
  all)
    "$0" core
    "$0" npm
    # Vault is not here: it is the slowest build (minutes of CPU cold), so make test starts it in
    # the background and the tests that need it wait for it (see build_into's lock).
    ;;
  core)
    # all but the npm emulators: make test installs those in the background meanwhile (mostly
    # network and unpacking; pouchdb-server's tree is large) and the tests that use them wait
    # for them (cluster.ToolDir runs this script, which waits on build_into's lock).
    "$0" controller-gen
    "$0" protogen
    "$0" cluster
    "$0" helm
    "$0" metrics-server
    "$0" redis
    "$0" postgres
    "$0" mariadb
    "$0" prometheus
    "$0" tmux
    "$0" nats
    "$0" rabbitmq
    "$0" beanstalkd
    "$0" graphite
    "$0" goaws
    "$0" nsq
    "$0" fakegcs
    "$0" ferretdb
    ;;
  npm)
    "$0" azurite
    "$0" kinesalite
    "$0" dynalite
    "$0" pouchdb
    ;;
  *) echo "usage: $0 [demo|all|core|npm|cluster|kwok|controller-gen|protogen|helm|metrics-server|redis|postgres|mariadb|prometheus|tmux|nats|rabbitmq|beanstalkd|graphite|goaws|nsq|fakegcs|ferretdb|azurite|kinesalite|dynalite|pouchdb|vault|keda|dir TOOL]" >&2; exit 2 ;;
esac
