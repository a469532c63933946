#!/usr/bin/env bash
# Installs what rdlab needs to build and test, if missing: zlib, the OpenCL headers and ICD
# loader (build), and PoCL, an OpenCL driver that runs on the CPU (tests of the OpenCL backend).
# Idempotent; uses sudo when not root. Set RDLAB_SKIP_BOOTSTRAP=1 to skip.
set -euo pipefail
[ "${RDLAB_SKIP_BOOTSTRAP:-0}" = 1 ] && exit 0
packages=(zlib1g-dev ocl-icd-opencl-dev opencl-headers ocl-icd-libopencl1 pocl-opencl-icd clinfo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "rdlab bootstrap: please install the OpenCL headers, ICD loader and a driver (missing: ${missing[*]})" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "rdlab bootstrap: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
