#!/usr/bin/env python3
"""Rebuilds the test fixtures in this folder from the full datasets.

usage: make_fixtures.py SOURCE   (SOURCE holds mnist/, fashion-mnist/, binarized-mnist/ as in
the project's shared/datasets; see README.md beside this script)

Each fixture is the first N examples of a split, in the original format: IDX files gzip-
compressed with mtime 0 (so the output is byte-identical on every run), packed binarized rows
cut at a row boundary.
"""
import gzip
import hashlib
import pathlib
import struct
import sys

IDX_COUNTS = {"train": 200, "t10k": 100}
BINARIZED_COUNTS = {"train": 500, "valid": 100, "test": 200}


def write_gz(path, data):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as out:
            out.write(data)


def idx_prefix(source, target, name, count):
    images = gzip.decompress((source / f"{name}-images-idx3-ubyte.gz").read_bytes())
    labels = gzip.decompress((source / f"{name}-labels-idx1-ubyte.gz").read_bytes())
    magic, _, rows, cols = struct.unpack(">IIII", images[:16])
    write_gz(target / f"{name}-images-idx3-ubyte.gz",
             struct.pack(">IIII", magic, count, rows, cols) + images[16:16 + count * rows * cols])
    magic, _ = struct.unpack(">II", labels[:8])
    write_gz(target / f"{name}-labels-idx1-ubyte.gz", struct.pack(">II", magic, count) + labels[8:8 + count])


def main():
    source = pathlib.Path(sys.argv[1])
    here = pathlib.Path(__file__).resolve().parent
    for dataset in ("mnist", "fashion-mnist"):
        (here / dataset).mkdir(exist_ok=True)
        for name, count in IDX_COUNTS.items():
            idx_prefix(source / dataset, here / dataset, name, count)
    (here / "binarized-mnist").mkdir(exist_ok=True)
    for split, count in BINARIZED_COUNTS.items():
        name = f"binarized_mnist_{split}.bin"
        (here / "binarized-mnist" / name).write_bytes((source / "binarized-mnist" / name).read_bytes()[:98 * count])
    for path in sorted(here.glob("*/*")):
        print(hashlib.sha256(path.read_bytes()).hexdigest(), path.relative_to(here), path.stat().st_size)


if __name__ == "__main__":
    main()
