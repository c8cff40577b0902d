#!/usr/bin/env bash
# Regenerates everything derived from the Go sources:
#   api/v1alpha1/zz_generated.deepcopy.go   deepcopy functions (controller-gen object), and the same
#   api/eventing/v1alpha1/...                for the eventing.keda.sh API
#   api/history/v1alpha1/zz_generated.deepcopy.go
#                                           the same for the operator's history API (no CRD: the
#                                           operator serves it from memory)
#   charts/keda/crds/*.yaml                 CRDs, one file per kind (controller-gen crd); one source
#                                           of truth for the chart, the test harness and the e2e tests
#   scalers/schema.yaml                     scaler parameter schema from the metadata struct tags
#   scalers/externalscaler/*.pb.go          KEDA's external scaler gRPC protocol, from
#                                           externalscaler.proto (protocompile + protoc-gen-go
#                                           + protoc-gen-go-grpc, pinned in hack/protogen)
#
# Usage: hack/generate.sh            (or `make generate`)
#        GENERATE_OUT=DIR hack/generate.sh
# GENERATE_OUT writes the same tree under DIR instead of the repository; api/v1alpha1's
# TestGeneratedFilesAreFresh uses it to catch stale generated files.
#
# Applying the CRDs: use server-side apply (`kubectl apply --server-side`, or a client's Apply with a
# field owner), as test/env does. ScaledJob embeds a whole batch/v1 JobSpec, so its CRD is a few
# hundred KB even without descriptions (maxDescLen=0); client-side apply copies the object into the
# kubectl.kubernetes.io/last-applied-configuration annotation, which is capped at 256 KiB, so it
# works only while the CRD stays under that. `kubectl create`/`replace` work too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${GENERATE_OUT:-$root}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

hack/tools.sh controller-gen
cg="$(hack/tools.sh dir controller-gen)/controller-gen"
hack/tools.sh protogen
pg="$(hack/tools.sh dir protogen)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One controller-gen run loads the packages once for both generators. The CRD options are
# controller-gen's defaults (allowDangerousTypes=false: no float fields) plus no descriptions, and
# a real schema for the embedded pod template's metadata (labels, annotations, ...).
# One run per API group: controller-gen writes every package's deepcopy file into the one object
# directory it is given, so two packages in one run would overwrite each other's.
for api in v1alpha1 eventing/v1alpha1; do
  "$cg" \
    object:headerFile=hack/boilerplate.go.txt \
    crd:maxDescLen=0,generateEmbeddedObjectMeta=true \
    paths=./api/$api \
    output:object:dir="$tmp/object/$api" \
    output:crd:dir="$tmp/crds"
done
"$cg" object:headerFile=hack/boilerplate.go.txt paths=./api/history/v1alpha1/... output:object:dir="$tmp/history"
go run ./scalers/cmd/schemagen > "$tmp/schema.yaml"
"$pg/protogen" -I . -out "$tmp/proto" -plugin "$pg/protoc-gen-go" -plugin "$pg/protoc-gen-go-grpc" \
  -opt paths=source_relative scalers/externalscaler/externalscaler.proto

mkdir -p "$out/api/v1alpha1" "$out/api/eventing/v1alpha1" "$out/api/history/v1alpha1" "$out/charts/keda/crds" "$out/scalers"
for api in v1alpha1 eventing/v1alpha1; do
  mv "$tmp/object/$api/zz_generated.deepcopy.go" "$out/api/$api/zz_generated.deepcopy.go"
done
mv "$tmp/history/zz_generated.deepcopy.go" "$out/api/history/v1alpha1/zz_generated.deepcopy.go"
rm -f "$out"/charts/keda/crds/keda.sh_*.yaml "$out"/charts/keda/crds/eventing.keda.sh_*.yaml
cp "$tmp"/crds/*.yaml "$out/charts/keda/crds/"
mv "$tmp/schema.yaml" "$out/scalers/schema.yaml"
mkdir -p "$out/scalers/externalscaler"
cp "$tmp"/proto/scalers/externalscaler/*.pb.go "$out/scalers/externalscaler/"
