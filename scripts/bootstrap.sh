#!/usr/bin/env bash
# Installs what rdlab needs to build and test, if missing: zlib, SQLite (the sweep results
# store), OpenBLAS's headers and library (the example backend plugin Examples/BLASBackend,
# which BLASPluginTests builds), the OpenCL headers and ICD loader (build), librsvg's
# rsvg-convert (PNG copies of the sweep plots), PoCL, an OpenCL driver that runs on the CPU
# (tests of the OpenCL backend), Debian's Fashion-MNIST (the default dataset of scripts/rdlab,
# and the full files the tests check when ../shared/datasets is absent), and any extra Debian
# packages named as arguments.
# Idempotent. As root it runs apt-get; otherwise it prints the exact command and stops.
# Set RDLAB_SKIP_BOOTSTRAP=1 to skip.
set -euo pipefail
[ "${RDLAB_SKIP_BOOTSTRAP:-0}" = 1 ] && exit 0
packages=(zlib1g-dev libsqlite3-dev libopenblas-dev librsvg2-bin ocl-icd-opencl-dev opencl-headers ocl-icd-libopencl1 pocl-opencl-icd clinfo dataset-fashion-mnist "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "rdlab bootstrap: please install the OpenCL headers, ICD loader and a driver (missing: ${missing[*]})" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  if [ "${missing[*]}" = dataset-fashion-mnist ]; then
    # Optional: scripts/rdlab can download Fashion-MNIST, and the tests then skip its full-file checks.
    echo "rdlab bootstrap: optional dataset-fashion-mnist is not installed (sudo apt-get install dataset-fashion-mnist)" >&2
    exit 0
  fi
  echo "rdlab bootstrap: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  echo "(or set RDLAB_SKIP_BOOTSTRAP=1 to go on without them)" >&2
  exit 1
fi
echo "rdlab bootstrap: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
