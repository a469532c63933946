"""Echo noise forward + backward as the reference implementation computes it (brekelma/echo):
the B×d×D stack of gathered f and log s is materialised, the noise is an exclusive cumulative
sum of log s along the term axis, exponentiated, times f, summed. The backward pass is written
out by hand (NumPy has no autodiff) with the same materialised arrays and np.add.at scatters.

Usage: python3 echo_numpy.py [--repeats N]  (prints µs per forward+backward for the shapes of
`rdlab bench --op echo`, to compare with rdlab's O(B·D + B·d)-memory kernels on the same machine).
"""
import argparse
import time

import numpy as np


def tables(rng, b, d):
    """Without replacement, self excluded: each row a fresh permutation of the others, truncated."""
    rows = []
    for i in range(b):
        others = np.delete(np.arange(b), i)
        rows.append(rng.permutation(others)[:d])
    return np.stack(rows).astype(np.int64)


def forward(f, ls, p_idx):
    fs = f[p_idx]                                   # [B, d, D]
    lss = ls[p_idx]                                 # [B, d, D]
    excl = np.cumsum(lss, axis=1) - lss             # exclusive cumulative sum
    prod = np.exp(excl)                             # p_l
    noise = np.sum(prod * fs, axis=1)
    z = f + np.exp(ls) * noise
    return z, noise, (fs, prod)


def backward(f, ls, p_idx, noise, saved, grad_z):
    fs, prod = saved
    s = np.exp(ls)
    g = grad_z * s                                  # dL/dE
    grad_f = grad_z.copy()
    grad_ls = grad_z * s * noise
    terms = prod * fs                               # p_l f_l
    suffix = np.cumsum(terms[:, ::-1], axis=1)[:, ::-1] - terms   # Σ_{l>m} p_l f_l
    np.add.at(grad_f, p_idx, g[:, None, :] * prod)
    np.add.at(grad_ls, p_idx, g[:, None, :] * suffix)
    return grad_f, grad_ls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}; median of {args.repeats} forward+backward calls")
    for b, d, dims in [(100, 99, 32), (100, 99, 64), (512, 128, 64), (1000, 999, 32)]:
        f = rng.uniform(-1, 1, (b, dims)).astype(np.float32)
        ls = np.full((b, dims), -0.2, np.float32)
        grad_z = rng.standard_normal((b, dims)).astype(np.float32)
        p_idx = tables(rng, b, d)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            z, noise, saved = forward(f, ls, p_idx)
            backward(f, ls, p_idx, noise, saved, grad_z)
            times.append(time.perf_counter() - start)
        gb = 24 * b * d * dims / np.median(times) / 1e9
        print(f"echo fwd+bwd B={b} d={d} D={dims}: {np.median(times) * 1e6:10.0f} µs  ({gb:.2f} GB/s by rdlab's traffic model; "
              f"{2 * b * d * dims * 4 / 2**20:.1f} MiB materialised)")


if __name__ == "__main__":
    main()
