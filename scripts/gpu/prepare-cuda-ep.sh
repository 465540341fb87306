#!/usr/bin/env bash
# Prepare onnxruntime-node's CUDA execution provider on a Linux x64 GPU host.
#
# onnxruntime-node ships only the CPU library in npm; its postinstall would download the CUDA
# provider from NuGet (unreachable in many environments, and skipped by .npmrc here). The npm
# registry carries the provider libraries for ORT 1.29.0 / CUDA 13 in
# com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9; this script copies them next to the binding.
#
# Usage:
#   scripts/gpu/prepare-cuda-ep.sh                 # fetch the tarball with `npm pack` (needs the registry)
#   scripts/gpu/prepare-cuda-ep.sh PATH/TO/pkg.tgz # use a tarball carried to an offline host
# Afterwards: SPAR_EP=cuda for the learner, and CUDA 13 runtime libraries (libcudart.so.13,
# libcublas(Lt).so.13, libcurand.so.10, cuDNN 9 for CUDA 13) must be on LD_LIBRARY_PATH.
# Check: node --import tsx scripts/gpu/check-cuda-ep.ts
set -euo pipefail
cd "$(dirname "$0")/../.."
PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
ORT_VERSION=$(node -p "require('onnxruntime-node/package.json').version")
if [ "$ORT_VERSION" != "1.29.0" ]; then
  echo "onnxruntime-node is $ORT_VERSION; the CUDA provider in $PKG is built for 1.29.0" >&2
  exit 1
fi
BIN=$(node -p "require('path').join(require('path').dirname(require.resolve('onnxruntime-node/package.json')), 'bin/napi-v6/linux/x64')")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -ge 1 ]; then
  tarball=$(realpath "$1")
else
  (cd "$work" && npm pack "$PKG" --silent >/dev/null)
  tarball=$(ls "$work"/*.tgz)
fi
tar -xzf "$tarball" -C "$work"
for lib in libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do
  src=$(find "$work" -name "$lib" -path '*Linux/x64*' | head -1)
  [ -n "$src" ] || { echo "missing $lib in $tarball" >&2; exit 1; }
  cp "$src" "$BIN/$lib"
  echo "installed $BIN/$lib"
done
