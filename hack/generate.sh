#!/usr/bin/env bash
# Regenerates everything derived from the Go sources:
#   api/v1alpha1/zz_generated.deepcopy.go   deepcopy functions (controller-gen object)
#   charts/keda/crds/*.yaml                 CRDs (controller-gen crd); one source of truth for the
#                                           chart, the test harness and the e2e tests
#   scalers/schema.yaml                     scaler parameter schema from the metadata struct tags
# GENERATE_OUT=DIR writes into DIR instead of the repository (tests compare the two to catch
# stale generated files). The CRDs are large (ScaledJob embeds a JobSpec): apply them with
# server-side apply, as the harness does; client-side apply would hit the annotation size limit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${GENERATE_OUT:-$root}

hack/tools.sh controller-gen
cg="$(hack/tools.sh dir controller-gen)/controller-gen"

mkdir -p "$out/api/v1alpha1" "$out/charts/keda/crds" "$out/scalers"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cg" object:headerFile=hack/boilerplate.go.txt paths=./api/... output:object:dir="$tmp/object"
mv "$tmp/object/zz_generated.deepcopy.go" "$out/api/v1alpha1/zz_generated.deepcopy.go"
"$cg" crd:maxDescLen=0,generateEmbeddedObjectMeta=true paths=./api/... output:crd:dir="$tmp/crds"
rm -f "$out"/charts/keda/crds/*.yaml
cp "$tmp"/crds/*.yaml "$out/charts/keda/crds/"
go run ./scalers/cmd/schemagen > "$tmp/schema.yaml"
mv "$tmp/schema.yaml" "$out/scalers/schema.yaml"
