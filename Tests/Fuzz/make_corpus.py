#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Tests/Fuzz/Corpus/<target>/), byte for byte
the same on every run: one valid input of each format and each malformed case the readers
must reject (issue 15's list), so that fuzzing starts from the interesting places.

usage: python3 Tests/Fuzz/make_corpus.py
"""
import gzip
import io
import json
import pathlib
import struct
import zlib

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "Corpus"

# issue 16's typed model specification (the legacy MODEL above has no "kind")
MODEL_TYPED = {"kind": "alemi", "latentDimension": 2, "activation": "relu", "symmetricInputs": False, "encoder": "gaussian",
               "decoder": "deconv", "marginal": "normal", "flowSteps": 1, "madeHidden": [2], "vampComponents": 1,
               "pixelcnnFeatures": 1, "pixelcnnResnets": 1}
MODEL = {"latentDimension": 2, "activation": "relu", "symmetricInputs": False, "channel": "gaussian",
         "echoTerms": 1, "echoReplacement": "without", "encoder": "gaussian", "flowSteps": 1,
         "madeHidden": [2], "marginal": "normal", "decoder": "deconv", "vampComponents": 1,
         "pixelcnnFeatures": 1, "pixelcnnResnets": 1}


def checksum(tensors, metadata):
    """Checkpoint.checksum: CRC-32 of names, shapes (int64 LE), values (f32 LE) in name order,
    then metadata key/value pairs in key order, each string NUL-terminated."""
    crc = 0
    for name in sorted(tensors):
        shape, values = tensors[name]
        crc = zlib.crc32(name.encode() + b"\0", crc)
        crc = zlib.crc32(b"".join(struct.pack("<q", d) for d in shape), crc)
        crc = zlib.crc32(b"".join(struct.pack("<f", v) for v in values), crc)
    for key in sorted(metadata):
        if key != "content_crc32":
            crc = zlib.crc32(key.encode() + b"\0" + metadata[key].encode() + b"\0", crc)
    return "%08x" % crc


def safetensors(tensors, metadata, header_patch=None, data_patch=None):
    header = {"__metadata__": metadata}
    offset = 0
    body = b""
    for name in sorted(tensors):
        shape, values = tensors[name]
        raw = b"".join(struct.pack("<f", v) for v in values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        body += raw
    if header_patch:
        header_patch(header)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    if data_patch:
        body = data_patch(body)
    return struct.pack("<Q", len(text)) + text + body


def checkpoint(tensors, step="3", fmt="rdlab-checkpoint-2", with_checksum=True, **extra):
    metadata = {"format": fmt, "step": step, "epoch": "1", "metrics_lines": "2", "adam_step": step.lstrip("-"),
                "epoch_rate_sum": "0.0", "epoch_distortion_sum": "0.0", "epoch_examples": "0",
                "epoch_seconds": "0.0", "model": json.dumps(MODEL, sort_keys=True)}
    metadata.update(extra)
    if with_checksum:
        metadata["content_crc32"] = checksum(tensors, metadata)
    return metadata


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def safetensors_seeds():
    w = ([2, 3], [0.5, -1.0, 2.0, 0.0, 3.25, -0.125])
    full = {"w": w, "adam.m.w": ([6], [0.0] * 6), "adam.v.w": ([6], [0.0] * 6)}
    write("FuzzSafeTensors", "valid.safetensors", safetensors(full, checkpoint(full)))
    legacy = checkpoint(full, fmt="rdlab-checkpoint-1", with_checksum=False)
    write("FuzzSafeTensors", "legacy-format-1.safetensors", safetensors(full, legacy))
    write("FuzzSafeTensors", "bit-flip-in-data.safetensors",
          safetensors(full, checkpoint(full), data_patch=lambda b: b[:5] + bytes([b[5] ^ 0x10]) + b[6:]))
    write("FuzzSafeTensors", "checksum-mismatch.safetensors", safetensors(full, dict(checkpoint(full), step="4")))
    without_moments = {"w": w}
    write("FuzzSafeTensors", "missing-optimizer-tensor.safetensors", safetensors(without_moments, checkpoint(without_moments)))
    nan = {"w": ([2, 3], [float("nan")] + w[1][1:]), "adam.m.w": full["adam.m.w"], "adam.v.w": full["adam.v.w"]}
    write("FuzzSafeTensors", "non-finite-parameter.safetensors", safetensors(nan, checkpoint(nan)))
    write("FuzzSafeTensors", "negative-step.safetensors", safetensors(full, checkpoint(full, step="-3")))
    write("FuzzSafeTensors", "epoch-beyond-step.safetensors", safetensors(full, checkpoint(full, epoch="5")))
    write("FuzzSafeTensors", "huge-counters.safetensors",
          safetensors(full, checkpoint(full, step=str(1 << 62), epoch=str(1 << 61), epoch_examples=str((1 << 63) - 1))))

    def overlap(h):
        h["adam.v.w"]["data_offsets"] = [8, 32]
    write("FuzzSafeTensors", "overlapping-offsets.safetensors", safetensors(full, checkpoint(full), header_patch=overlap))

    def out_of_range(h):
        h["w"]["data_offsets"] = [64, 88]
    write("FuzzSafeTensors", "out-of-range-offsets.safetensors", safetensors(full, checkpoint(full), header_patch=out_of_range))

    def overflow(h):
        h["w"]["shape"] = [1 << 40, 1 << 40, 1 << 40]
    write("FuzzSafeTensors", "element-count-overflow.safetensors", safetensors(full, checkpoint(full), header_patch=overflow))

    def negative_dimension(h):
        h["w"]["shape"] = [-2, -3]
    write("FuzzSafeTensors", "negative-dimension.safetensors", safetensors(full, checkpoint(full), header_patch=negative_dimension))

    def dtype(h):
        h["w"]["dtype"] = "F16"
    write("FuzzSafeTensors", "unknown-dtype.safetensors", safetensors(full, checkpoint(full), header_patch=dtype))

    def hole(h):
        h["w"]["data_offsets"] = [52, 76]
    write("FuzzSafeTensors", "hole-between-tensors.safetensors",
          safetensors(full, checkpoint(full), header_patch=hole, data_patch=lambda b: b + b"\0" * 4))

    def numbers_as_metadata(h):
        h["__metadata__"]["step"] = 3
    write("FuzzSafeTensors", "non-string-metadata.safetensors",
          safetensors(full, checkpoint(full), header_patch=numbers_as_metadata))
    bad_model = checkpoint(full, model=json.dumps(dict(MODEL, latentDimension=1 << 40)))
    write("FuzzSafeTensors", "model-out-of-range.safetensors", safetensors(full, bad_model))
    write("FuzzSafeTensors", "unknown-format.safetensors", safetensors(full, checkpoint(full, fmt="rdlab-checkpoint-9")))
    valid = safetensors(full, checkpoint(full))
    write("FuzzSafeTensors", "header-length-past-end.safetensors", struct.pack("<Q", (1 << 64) - 9) + valid[8:])
    write("FuzzSafeTensors", "truncated.safetensors", valid[:-7])
    typed = dict(MODEL_TYPED)
    write("FuzzSafeTensors", "typed-model.safetensors", safetensors(full, checkpoint(
        full, model=json.dumps(typed, sort_keys=True), objective_state=json.dumps({"multipliers": {"z": 0.75}}),
        epoch_layer_rate_sums="1.5")))
    write("FuzzSafeTensors", "objective-state-not-a-number.safetensors", safetensors(full, checkpoint(
        full, model=json.dumps(typed, sort_keys=True), objective_state=json.dumps({"multipliers": {"z": "nan"}}))))


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def idx_seeds():
    image = bytes((i * 7) % 256 for i in range(784))
    images = struct.pack(">IIII", 0x803, 1, 28, 28) + image
    labels = struct.pack(">II", 0x801, 3) + bytes([1, 7, 9])
    write("FuzzIDX", "one-image.gz", gz(images))
    write("FuzzIDX", "three-labels.gz", gz(labels))
    write("FuzzIDX", "raw-one-image.idx", images)
    write("FuzzIDX", "count-overflow.idx", struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + image[:16])
    write("FuzzIDX", "wrong-size.idx", struct.pack(">IIII", 0x803, 1, 5, 5) + image[:25])
    write("FuzzIDX", "bad-magic.idx", struct.pack(">IIII", 0x804, 1, 28, 28) + image)
    write("FuzzIDX", "labels-count-too-large.idx", struct.pack(">II", 0x801, 0xFFFFFFFF) + bytes([1]))
    write("FuzzIDX", "truncated.gz", gz(images)[:40])


def packed_seeds():
    write("FuzzPackedBits", "one-row.bin", bytes(range(98)))
    write("FuzzPackedBits", "two-rows.bin", bytes((i * 37) % 256 for i in range(196)))
    write("FuzzPackedBits", "short-row.bin", bytes(97))
    write("FuzzPackedBits", "empty.bin", b"")


def config_seeds():
    settings = {"batch_size": 50, "beta": 1, "binarize": "none", "dataset": "binarized-mnist", "epochs": 2,
                "family": "---", "kl_anneal_steps": 0, "learning_rate": 0.0003, "learning_rate_schedule": "constant",
                "model": {"activation": "relu", "channel": "gaussian", "decoder": "deconv", "echo_replacement": "without",
                          "echo_terms": 49, "encoder": "gaussian", "flow_steps": 4, "latent_dimension": 8,
                          "made_hidden": [640, 640, 640], "marginal": "normal", "pixelcnn_features": 64,
                          "pixelcnn_resnets": 2, "symmetric_inputs": False, "vamp_components": 500},
                "normalize_gradients": False, "seed": 0, "test_limit": 50, "test_noise": "fixed streams", "train_limit": 100}
    provenance = {"backend_requested": "cpu", "backend_used": "cpu:0", "device": "CPU", "driver": "rdlab",
                  "rdlab_commit": "unknown", "rdlab_version": "0.1.0", "started": "2026-11-29T00:00:00Z"}

    def config(**changes):
        s = json.loads(json.dumps(settings))
        for key, value in changes.items():
            target = s["model"] if key.startswith("model_") else s
            target[key.removeprefix("model_")] = value
        return json.dumps({"settings": s, "provenance": provenance}, indent=2, sort_keys=True).encode()

    write("FuzzRunConfig", "valid.json", config())
    write("FuzzRunConfig", "batch-size-zero.json", config(batch_size=0))
    write("FuzzRunConfig", "beta-string.json", config(beta="nan"))
    write("FuzzRunConfig", "negative-epochs.json", config(epochs=-1))
    write("FuzzRunConfig", "huge-latent.json", config(model_latent_dimension=1 << 40))
    write("FuzzRunConfig", "iaf-hidden-not-multiple.json", config(model_encoder="iaf", model_made_hidden=[7]))
    write("FuzzRunConfig", "unknown-dataset.json", config(dataset="cifar10"))
    write("FuzzRunConfig", "echo-terms-exceed-batch.json", config(model_channel="echo", model_echo_terms=80))
    write("FuzzRunConfig", "number-overflow.json", config().replace(b'"seed": 0', b'"seed": 1e400'))
    write("FuzzRunConfig", "epochs-overflow.json", config(epochs=(1 << 63) - 1))
    write("FuzzRunConfig", "echo-terms-huge-gaussian.json", config(model_echo_terms=(1 << 63) - 1))
    write("FuzzRunConfig", "missing-settings.json", json.dumps({"provenance": provenance}).encode())
    write("FuzzRunConfig", "not-json.json", b"{\"settings\": [")

    def typed(**changes):
        s = json.loads(json.dumps(settings))
        del s["beta"], s["kl_anneal_steps"]
        s["model"] = {"kind": "alemi", "latent_dimension": 8, "activation": "relu", "symmetric_inputs": False,
                      "encoder": "gaussian", "decoder": "deconv", "marginal": "normal", "flow_steps": 4,
                      "made_hidden": [640, 640, 640], "vamp_components": 500, "pixelcnn_features": 64, "pixelcnn_resnets": 2}
        s["objective"] = {"weight": {"kind": "target-rate", "rate": 10, "learning_rate": 0.01, "bound": "equal",
                                     "initial_multiplier": 1}}
        for key, value in changes.items():
            s[key] = value
        return json.dumps({"settings": s, "provenance": provenance}, indent=2, sort_keys=True).encode()

    write("FuzzRunConfig", "typed-target-rate.json", typed())
    write("FuzzRunConfig", "toy.json", typed(model={"kind": "toy"}, dataset="alemi-toy-30", batch_size=30, family=None))
    write("FuzzRunConfig", "objective-unknown-kind.json", typed(objective={"weight": {"kind": "lagrange", "beta": 1}}))
    write("FuzzRunConfig", "free-bits-negative.json",
          typed(objective={"weight": {"kind": "constant", "beta": 1}, "free_bits": {"nats": -1, "grouping": "dimension"}}))
    write("FuzzRunConfig", "toy-with-image-dataset.json", typed(model={"kind": "toy"}, family=None))
    delta = json.loads(typed())["settings"]["model"] | {"channel": "delta", "delta": 0.1}
    write("FuzzRunConfig", "delta-with-maf.json", typed(model=delta | {"marginal": "maf"}, family="δ--"))
    write("FuzzRunConfig", "delta-out-of-range.json", typed(model=delta | {"delta": 0}, family="δ--"))


def sweep_seeds():
    """Sweep specs (YAML) and plans (points.json): the valid forms and what `plan` refuses."""
    write("FuzzSweepSpec", "toy-target-rate.yaml",
          b"name: toy\ntrain: {model: toy, toy_init: ordered, epochs: 50}\naxes:\n  target_rate: {linear: [0, 3], points: 13}\n")
    write("FuzzSweepSpec", "grid-zip-mapping.yaml",
          b"train: {model: alemi, epochs: 2, symmetric_inputs: true}\naxes:\n  beta: {log: [0.1, 10], points: 3}\n"
          b"  family:\n    - {encoder: gaussian}\n    - {encoder: iaf, decoder: pixelcnn}\n    - {marginal: vamp}\n"
          b"combine: zip\nevaluate: {iwae: 5}\n")
    write("FuzzSweepSpec", "hit-grid-probes.yaml",
          b"name: hit\ntrain: {model: hierarchical, epochs: 3}\naxes:\n  beta1: [0.1, 1, 10]\n  beta2: {log: [0.1, 10], points: 3}\n"
          b"evaluate: {probes: true, iwae: 2}\n")
    write("FuzzSweepSpec", "too-many-points.yaml",
          b"axes: {a: {log: [1, 2], points: 400}, b: {log: [1, 2], points: 400}}\n")
    write("FuzzSweepSpec", "deep-nesting.yaml", b"axes: {beta: " + b"[" * 5000 + b"]" * 5000 + b"}\n")
    write("FuzzSweepSpec", "undefined-alias.yaml", b"axes: {beta: [&a [*a, 1]]}\n")
    write("FuzzSweepSpec", "points-hash-mismatch.json", json.dumps({"name": "s", "combine": "product", "points": [
        {"index": 0, "id": "000000000000", "axes": [{"axis": "seed", "value": "1"}],
         "settings": [{"flag": "model", "value": "toy"}, {"flag": "seed", "value": 1}]}]}, indent=2).encode())
    write("FuzzSweepSpec", "points-wrong-index.json", json.dumps({"name": "s", "combine": "zip", "points": [
        {"index": 3, "id": "000000000000", "axes": [], "settings": []}]}, indent=2).encode())


if __name__ == "__main__":
    safetensors_seeds()
    idx_seeds()
    packed_seeds()
    config_seeds()
    sweep_seeds()
    for path in sorted(CORPUS.glob("*/*")):
        print(path.relative_to(HERE), path.stat().st_size)
