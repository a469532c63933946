#!/usr/bin/env bash
# Prepares the GPU check of issue 22 for the lent GPU machine (the `device` tool), which has no
# Swift, no network, and a python3 with CUDA PyTorch. Run here, from anywhere in the checkout:
#   scripts/gpu-check.sh             stage .gpu/ (release build, runtime, ICD loader, clinfo,
#                                    data, baselines, .gpu/run.sh) and print the device command
#   scripts/gpu-check.sh --no-build  reuse the staged payload; rewrite only data, baselines, run.sh
# Staging is ../shared/tools/gpu-stage.sh (its `.git/info/exclude` path is resolved with
# `git rev-parse --git-path`, so that it also works in a linked worktree, where .git is a file).
# Then call the device tool's `run` with carry [".gpu"] and command `bash .gpu/run.sh`; the
# results (gpu-check.log, bench.json, torch.jsonl, the run's metrics and images) land in $OUT.
# `bash .gpu/run.sh SECONDS [STAGE...]` runs a shorter or partial check (stage names: see run.sh).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
shared=$root/../shared
[ -d "$shared/tools" ] || { echo "gpu-check: $shared not found (the shared folder beside the checkout)" >&2; exit 1; }
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"

if [ "${1:-}" = "--no-build" ]; then
  [ -f .gpu/payload.tar.xz ] && [ -f .gpu/on-gpu.sh ] || { echo "gpu-check: nothing staged yet; run without --no-build" >&2; exit 1; }
else
  bash <(sed "s#\.git/info/exclude#\"$exclude\"#g" "$shared/tools/gpu-stage.sh")
fi

# Data: static binarized MNIST (the train and test splits that `rdlab train` reads), checked.
rm -rf .gpu/data .gpu/baselines
mkdir -p .gpu/data/binarized-mnist .gpu/baselines
( cd "$shared/datasets" && grep -E 'binarized_mnist_(train|test)\.bin' SHA256SUMS | sha256sum -c --quiet - )
cp "$shared"/datasets/binarized-mnist/binarized_mnist_{train,test}.bin .gpu/data/binarized-mnist/
# PyTorch's step of the same VAE (synthetic batches; common.py holds the model spec; peak.c
# is only its optional clock probe).
cp "$shared"/baselines/{torch_vae.py,common.py,peak.c} .gpu/baselines/
chmod -R u+w .gpu/data .gpu/baselines

cat > .gpu/torch_gemm.py <<'PY'
"""cuBLAS FP32 SGEMM (TF32 off) at 4096^3, 1024^3 and the reference VAE's im2col shapes, for
rdlab bench's gemm rows. One JSON line per shape (to stdout and appended to --out)."""
import json, sys, time
import torch
sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/baselines")
import common  # noqa: E402

out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else ""
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")
dev = torch.device("cuda")
shapes = [("square 4096^3", 4096, 4096, 4096)] + common.GEMMS
for name, m, k, n in shapes:
    # the dW case multiplies cols^T (stored K x M) by dY, as rdlab's transposeA
    a = torch.randn(k, m, device=dev).t() if "dW" in name else torch.randn(m, k, device=dev)
    b = torch.randn(k, n, device=dev)
    for _ in range(3):
        c = a @ b
    torch.cuda.synchronize()
    reps = 20 if m * n * k >= 4096 ** 3 else 50
    ev = [torch.cuda.Event(enable_timing=True) for _ in range(reps + 1)]
    ev[0].record()
    for i in range(reps):
        c = a @ b
        ev[i + 1].record()
    torch.cuda.synchronize()
    ms = sorted(ev[i].elapsed_time(ev[i + 1]) for i in range(reps))
    med = ms[len(ms) // 2]
    rec = {"bench": "sgemm", "framework": "torch", "variant": "cuBLAS fp32 (tf32 off)", "case": "gemm " + name,
           "m": m, "k": k, "n": n, "median_us": round(med * 1e3, 2), "min_us": round(ms[0] * 1e3, 2),
           "gflops_median": round(2 * m * n * k / med / 1e6, 1), "device": torch.cuda.get_device_name(),
           "torch": torch.__version__, "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    line = json.dumps(rec)
    print(line, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")
PY

cat > .gpu/summary.py <<'PY'
"""Merges the bench JSON files of a run into one (argv: out.json, inputs...), or with --report
prints the figures issue 22's GPU targets compare (argv: --report bench.json torch.jsonl)."""
import glob, json, os, sys

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:  # a stage that timed out writes no JSON
        print(f"summary: {path}: {e}", file=sys.stderr)
        return None

if sys.argv[1] != "--report":
    merged, meta = [], {}
    for path in sys.argv[2:]:
        doc = load(path)
        if not doc:
            continue
        stage = os.path.basename(path)[len("bench-"):-len(".json")]
        meta = meta or {k: v for k, v in doc.items() if k != "results"}
        merged += [dict(r, stage=stage) for r in doc.get("results", [])]
    with open(sys.argv[1] + ".tmp", "w") as f:
        json.dump(dict(meta, results=merged), f, indent=1)
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    sys.exit(0)

bench = (load(sys.argv[2]) or {}).get("results", []) if os.path.exists(sys.argv[2]) else []
torch = []
if os.path.exists(sys.argv[3]):
    for line in open(sys.argv[3]):
        try:
            torch.append(json.loads(line))
        except ValueError:
            pass
ocl = {r["name"]: r for r in bench if r.get("stage") in ("gemm", "steps-ref", "conv")}
tg = {r["case"]: r for r in torch if r.get("bench") == "sgemm"}
print("SGEMM (GFLOP/s at the median)     rdlab OpenCL   torch cuBLAS fp32   ratio")
for name in ["gemm square 4096^3"] + [r["name"] for r in bench if r.get("stage") == "gemm"]:
    o, t = ocl.get(name), tg.get(name)
    og = o["gflops"] if o else None
    tgf = t["gflops_median"] if t else None
    ratio = f"{og / tgf:.2f}" if og and tgf else "-"
    ogs = f"{og:.1f}" if og else "-"
    print(f"  {name:38s} {ogs:>10s} {tgf or '-'!s:>18s} {ratio:>8s}")
print("VAE training step, batch 100 (ms at the median):")
for r in bench:
    if r["name"].startswith("vae train step"):
        print(f"  rdlab {r['backend']:10s} {r['name'][len('vae train step batch 100 '):]:40s} {r['median_microseconds'] / 1e3:9.2f}")
for r in torch:
    if r.get("bench") == "vae":
        print(f"  torch {r['variant']:51s} {r['train']['median_ms']:9.2f}  (infer {r['infer']['median_ms']:.2f})")
PY

cat > .gpu/run.sh <<'RUN'
#!/usr/bin/env bash
# Runs ON the GPU machine, from the repo root:  bash .gpu/run.sh [SECONDS] [STAGE...]
# (written by scripts/gpu-check.sh). Stages, most valuable first, each under `timeout` and all
# within SECONDS (default 420): nvidia-smi devices selftest gemm torch-gemm steps-ref torch-vae tune
# conv families train eval other. Everything printed goes to $OUT/gpu-check.log; bench rows to $OUT/bench.json,
# PyTorch's to $OUT/torch.jsonl, the training run's metrics, config and images to $OUT/train-*.
# Here (no GPU), for a dry run: GPU_CHECK_BACKEND=opencl:pocl OCL_ICD_VENDORS=/etc/OpenCL/vendors
# GPU_CHECK_STAGE_MAX=20 OUT=/tmp/gpuout bash .gpu/run.sh 300   (GPU_CHECK_TRAIN_ARGS and
# GPU_CHECK_EVAL_ARGS add flags, e.g. "--train-limit 1000 --test-limit 500", for a short run)
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
total=${GPU_CHECK_SECONDS:-420}
[[ "${1:-}" =~ ^[0-9]+$ ]] && total=$1 && shift
only=" $* "
OUT=${OUT:-/tmp/gpu-check-out}
mkdir -p "$OUT"
work=/tmp/gpu-check
rm -rf "$work" && mkdir -p "$work"
start=$(date +%s)
{
B=${GPU_CHECK_BACKEND:-opencl}
cap=${GPU_CHECK_STAGE_MAX:-100000}
sb=""  # line-buffered stdout, so that a stage killed at its limit still shows the rows it printed
command -v stdbuf >/dev/null && sb="stdbuf -oL"
export RDLAB_OFFLINE=1 RDLAB_KERNEL_CACHE_DIR=/tmp/rdlab-gpu-kernels PYTHONUNBUFFERED=1 CUDA_MODULE_LOADING=LAZY

# stage NAME LIMIT COMMAND...: run unless STAGEs were named and NAME is not one of them; the
# limit shrinks to what is left of SECONDS (5 s kept back), and a stage is skipped under 5 s.
stage() {
  local name=$1 want=$2 now left t rc t0
  shift 2
  if [ "$only" != "  " ] && [[ "$only" != *" ${name%%:*} "* ]]; then return 0; fi
  now=$(date +%s); left=$((start + total - now - 5)); t=$want
  ((t > cap)) && t=$cap
  ((t > left)) && t=$left
  if ((t < 5)); then echo "=== $name: skipped, $((left + 5)) s left of $total"; return 0; fi
  echo "=== $name (limit $t s, at $((now - start)) s): $*"
  t0=$(date +%s%N)
  timeout -k 10 "$t" $sb "$@"; rc=$?
  echo "=== $name: rc $rc$( ((rc == 124 || rc == 137)) && echo ' (TIMED OUT)'), $((($(date +%s%N) - t0) / 1000000)) ms"
  return 0
}
merge() { python3 "$here/summary.py" "$OUT/bench.json" "$work"/bench-*.json 2>/dev/null || true; }
R=/tmp/rdlab-gpu/rdlab

echo "=== gpu-check $(date -u +%FT%TZ), $total s, stages:${only}, backend $B"
uname -a; nproc; free -g | head -2; ldd --version | head -n 1; python3 --version
stage nvidia-smi:setup 20 nvidia-smi
stage nvidia-smi:setup 10 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv
# always (a partial rerun on a fresh machine needs it too): unpack the payload, write the ICD
# file for NVIDIA's OpenCL driver, clinfo -l
echo "=== setup: $here/on-gpu.sh --version"
timeout -k 5 90 bash "$here/on-gpu.sh" --version
export OCL_ICD_VENDORS="${OCL_ICD_VENDORS:-/tmp/rdlab-gpu/vendors}" LD_LIBRARY_PATH="/tmp/rdlab-gpu/lib:${LD_LIBRARY_PATH:-}"
# the driver's own folder too, in case libcuda.so.1 beside it is not in the loader's cache
icd=$(cat /tmp/rdlab-gpu/vendors/nvidia.icd 2>/dev/null) && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$icd")"
# every device with its smoke test (and the kernels' build times: debug log)
stage devices 60 "$R" devices --log-level debug
[ -x /tmp/rdlab-gpu/clinfo ] && stage devices:clinfo 20 /tmp/rdlab-gpu/clinfo
stage devices:select 30 "$R" devices --backend "$B" --strict-backend
# every op against the naive Double reference, gradients by finite differences
stage selftest 90 "$R" selftest --backend "$B" --strict-backend

rb() {  # rb STAGE LIMIT BUDGET REGEX [ENV...]: one rdlab bench over the cases REGEX matches
  local tag=$1 lim=$2 budget=$3 re=$4; shift 4
  stage "$tag" "$lim" env "$@" "$R" bench --backend "$B" --strict-backend --budget "$budget" --op "$re" \
    --json "$work/bench-${tag#*:}.json"
  merge
}
rb gemm 60 0.5 '^gemm '
stage torch-gemm 75 python3 "$here/torch_gemm.py" --out "$OUT/torch.jsonl"
rb steps-ref 60 1 '^vae train step batch 100 (echo channel|family ---)'
stage torch-vae 90 python3 "$here/baselines/torch_vae.py" --device cuda --channels-last --warmup 10 --steps 50 \
  --infer-steps 30 --out "$OUT/torch.jsonl" --tag gpu-check
stage torch-vae:nchw 60 python3 "$here/baselines/torch_vae.py" --device cuda --warmup 10 --steps 50 \
  --infer-steps 30 --out "$OUT/torch.jsonl" --tag gpu-check
# the GEMM/conv tile searched for this card (its default and best times in the log); every
# stage after this one runs on the tuned tile, which `rdlab devices` then names
stage tune 90 "$R" tune --backend "$B" --budget 45
stage devices:tuned 30 "$R" devices --backend "$B" --strict-backend
rb conv 75 0.2 '^conv '
# the other families one by one (a slow one cannot take the rest): at most 150 s for all of
# them, and 200 s kept for the training run and eval
fam_end=$(($(date +%s) + 150))
if [ "$only" = "  " ] || [[ "$only" == *" train "* ]]; then
  ((fam_end > start + total - 200)) && fam_end=$((start + total - 200))
fi
if [ "$only" = "  " ] || [[ "$only" == *" families "* ]]; then
  (($(date +%s) + 5 > fam_end)) && echo "=== families: skipped, the time left is kept for train and eval"
fi
for f in '--\+' '--v' '\+--' '\+-\+' '\+-v' '-\+-' '\+\+-' '-\+\+' '-\+v' '\+\+\+' '\+\+v'; do
  lim=$((fam_end - $(date +%s))); ((lim > 40)) && lim=40
  ((lim >= 5)) && rb "families:family-$(printf '%s' "$f" | tr -d '\\' | tr -- '-+' 'mp')" "$lim" 0.5 "family $f "
done
# one epoch of the reference VAE (rdlab train's defaults) on static binarized MNIST
stage train 180 "$R" train --backend "$B" --strict-backend --epochs 1 --data-dir "$here/data" --out "$work/run" --seed 0 \
  ${GPU_CHECK_TRAIN_ARGS:-}
for f in metrics.jsonl config.json reconstructions.png samples.png; do
  [ -f "$work/run/$f" ] && cp "$work/run/$f" "$OUT/train-$f"
done
[ -f "$work/run/metrics.jsonl" ] && echo "train metrics:" && cat "$work/run/metrics.jsonl"
[ -f "$work/run/checkpoint.safetensors" ] && stage eval 60 "$R" eval --backend "$B" --strict-backend --run "$work/run" --data-dir "$here/data" \
  ${GPU_CHECK_EVAL_ARGS:-}
rb other 60 0.2 '^(copy|unary|binary|bias|reduce|adam|echo|masked|pixelcnn)'

echo "=== summary"
merge
python3 "$here/summary.py" --report "$OUT/bench.json" "$OUT/torch.jsonl" || true
echo "=== done at $(($(date +%s) - start)) s of $total; files in $OUT:"
ls -l "$OUT"
} 2>&1 | tee -a "$OUT/gpu-check.log"
RUN
chmod +x .gpu/run.sh

du -sh .gpu
tracked=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo "staged .gpu/ ($(du -sb .gpu | cut -f1) bytes; tracked files $tracked bytes; the device tool carries 64 MiB in all)"
echo "device tool: run  command: bash .gpu/run.sh   carry: [\".gpu\"]   timeout_s: 480"
