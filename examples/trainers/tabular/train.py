#!/usr/bin/env python3
"""Tabular (iris-like) classifier trainer for Modelship: 4 features -> species (3 classes).

Same artifact contract and option conventions as the image trainer (`--name=value` or
HP_NAME; DATASET_URI / OUTPUT_URI; --generate / GENERATE_DATA=1 fills an empty data
directory with examples/datasets/iris_like.py). The exported ONNX graph takes raw
measurements ("features", float32 [N, 4]); feature standardisation is baked into the graph,
so the signature needs no pre-processing. Output "species" is [N, 3] logits (softmax).
"""
from __future__ import annotations

import csv
import json
import os
import random
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "datasets"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import modelship_common as mc  # noqa: E402

OPTIONS = [
    mc.Option("lr", float, 0.01, "AdamW learning rate"),
    mc.Option("epochs", mc.positive_int, 60, "maximum epochs"),
    mc.Option("batch_size", mc.positive_int, 32, "mini-batch size"),
    mc.Option("width", mc.positive_int, 16, "hidden units"),
    mc.Option("weight_decay", mc.non_negative_float, 0.0001, "AdamW weight decay"),
    mc.Option("seed", int, 42, "random seed"),
    mc.Option("patience", mc.positive_int, 10, "early stopping: epochs without val_acc gain"),
    mc.Option("val_fraction", mc.fraction, 0.2, "share of the non-reference rows used for validation"),
    mc.Option("reference_size", int, 90, "held-out reference rows (reference/labels.jsonl)"),
    mc.Option("corrupt", mc.choice("none", "labels"), "none", "labels: train on shuffled labels"),
    mc.Option("name", str, "iris", "model name written to modelship.json", env="MODELSHIP_MODEL",
              hyperparameter=False),
    mc.Option("data", str, "", "data directory (dataset.json + data.csv) or file:// URI", env="DATASET_URI",
              hyperparameter=False),
    mc.Option("out", str, "", "output directory or file:// URI", env="OUTPUT_URI", hyperparameter=False),
    mc.Option("artifact_uri", str, "", "URI reported for the artifact (default: the output directory)",
              env="ARTIFACT_URI", hyperparameter=False),
    mc.Option("generate", mc.parse_bool, False, "generate data first when --data is empty or missing",
              env="GENERATE_DATA", hyperparameter=False),
    mc.Option("generate_count", mc.positive_int, 600, "rows to generate", env="GENERATE_COUNT", hyperparameter=False),
    mc.Option("generate_seed", int, 1, "generator seed", env="GENERATE_SEED", hyperparameter=False),
]


class DataError(ValueError):
    """The data directory is missing, empty or inconsistent."""


def load(data_dir: str, opts: dict) -> tuple[dict, np.ndarray, np.ndarray]:
    manifest_path = os.path.join(data_dir, "dataset.json")
    if not os.path.isfile(manifest_path):
        if not opts["generate"]:
            raise DataError(f"{data_dir} has no dataset.json (pass --generate or GENERATE_DATA=1 to create one)")
        if os.path.isdir(data_dir) and os.listdir(data_dir):
            raise DataError(f"{data_dir} is not empty and has no dataset.json; refusing to generate into it")
        import iris_like
        data_dir = mc.generation_dir(data_dir)
        manifest_path = os.path.join(data_dir, "dataset.json")
        iris_like.write_dataset(data_dir, opts["generate_count"], opts["generate_seed"])
    with open(manifest_path) as fh:
        manifest = json.load(fh)
    features, labels = manifest["features"], manifest["heads"][0]["labels"]
    x, y = [], []
    with open(os.path.join(data_dir, manifest.get("dataFile", "data.csv"))) as fh:
        for row in csv.DictReader(fh):
            try:
                x.append([float(row[f]) for f in features])
                y.append(labels.index(row[manifest["heads"][0]["name"]]))
            except (KeyError, ValueError) as err:
                raise DataError(f"data.csv row {len(x) + 1}: {err}") from err
    if len(x) < 20:
        raise DataError(f"only {len(x)} rows in {data_dir}; need at least 20")
    return manifest, np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64)


class TabularNet(nn.Module):
    """Standardise with the training set's statistics (constants in the graph), then a small MLP."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, width: int, classes: int):
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(mean))
        self.register_buffer("std", torch.from_numpy(np.maximum(std, 1e-6)))
        self.mlp = nn.Sequential(nn.Linear(len(mean), width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp((x - self.mean) / self.std)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict:
    model.eval()
    out = model(x)
    return {"accuracy": float((out.argmax(1) == y).float().mean()),
            "loss": float(nn.functional.cross_entropy(out, y))}


def train(model, x_train, y_train, x_val, y_val, opts) -> int:
    optimizer = torch.optim.AdamW(model.parameters(), lr=opts["lr"], weight_decay=opts["weight_decay"])
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
    generator = torch.Generator().manual_seed(opts["seed"])
    best_acc, best_state, stale, epoch = -1.0, None, 0, 0
    for epoch in range(1, opts["epochs"] + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total, correct = 0.0, 0.0
        for start in range(0, len(order), opts["batch_size"]):
            idx = order[start:start + opts["batch_size"]]
            optimizer.zero_grad(set_to_none=True)
            out = model(x_train[idx])
            loss = nn.functional.cross_entropy(out, y_train[idx])
            loss.backward()
            optimizer.step()
            total += float(loss) * len(idx)
            correct += float((out.argmax(1) == y_train[idx]).sum())
        val = evaluate(model, x_val, y_val) if len(x_val) else {"accuracy": correct / len(order),
                                                                  "loss": total / len(order)}
        scheduler.step(val["loss"])
        mc.progress(epoch=epoch, loss=total / len(order), acc=correct / len(order), val_loss=val["loss"],
                    val_acc=val["accuracy"], lr=optimizer.param_groups[0]["lr"])
        if val["accuracy"] > best_acc + 1e-4:
            best_acc, best_state, stale = val["accuracy"], {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            stale += 1
            if stale >= opts["patience"]:
                mc.progress(event="early-stop", epoch=epoch, best_val_acc=best_acc)
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return epoch


def run(opts: dict) -> dict:
    if not opts["out"] or not opts["data"]:
        raise mc.UsageError("pass --data DIR and --out DIR (or DATASET_URI / OUTPUT_URI)")
    data_dir, out_dir = mc.strip_file_uri(opts["data"]), os.path.abspath(mc.strip_file_uri(opts["out"]))
    random.seed(opts["seed"])
    torch.manual_seed(opts["seed"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    manifest, x, y = load(data_dir, opts)
    head, features = manifest["heads"][0], manifest["features"]

    perm = np.random.default_rng(opts["seed"]).permutation(len(x))
    n_ref = max(1, min(opts["reference_size"], len(x) // 5))
    ref, rest = perm[:n_ref], perm[n_ref:]
    n_val = int(round(len(rest) * opts["val_fraction"]))
    val, tr = rest[:n_val], rest[n_val:]
    y_seen = y.copy()  # what training and validation see; the reference keeps the true labels
    if opts["corrupt"] == "labels":
        shuffled = rest.copy()
        np.random.default_rng(opts["seed"] + 1).shuffle(shuffled)
        y_seen[rest] = y[shuffled]
    mc.progress(event="data", train=len(tr), val=len(val), reference=len(ref))

    model = TabularNet(x[tr].mean(0), x[tr].std(0), opts["width"], len(head["labels"]))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    ys = torch.from_numpy(y_seen)
    epochs = train(model, xt[tr], ys[tr], xt[val], ys[val], opts)
    reference = {head["name"]: evaluate(model, xt[ref], yt[ref])}

    os.makedirs(os.path.join(out_dir, "reference"), exist_ok=True)
    model_path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(model.eval(), torch.zeros(2, len(features)), model_path, input_names=["features"],
                      output_names=[head["name"]], opset_version=17,
                      dynamic_axes={"features": {0: "batch"}, head["name"]: {0: "batch"}})
    mc.write_json(os.path.join(out_dir, "modelship.json"), {
        "schemaVersion": 1, "name": opts["name"],
        "input": {"kind": "tensor", "tensor": "features", "dtype": "float32", "features": features},
        "heads": [{"name": head["name"], "tensor": head["name"], "type": "multiclass",
                   "labels": head["labels"], "activation": "softmax"}],
    })
    with open(os.path.join(out_dir, "reference", "labels.jsonl"), "w") as fh:
        for i in ref:
            fh.write(json.dumps({"features": [round(float(v), 4) for v in x[i]],
                                 "labels": {head["name"]: head["labels"][int(y[i])]}}) + "\n")
    metrics = mc.metrics_document(reference, mc.hyperparameters_as_strings(OPTIONS, opts), opts["data"],
                                  manifest.get("digest", ""), epochs)
    mc.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    summary = mc.termination_summary(mc.artifact_uri(opts, out_dir), mc.sha256_file(model_path), metrics)
    mc.write_termination_message(summary)
    mc.progress(event="done", epochs=epochs, accuracy=metrics["accuracy"])
    return summary


def main(argv: list[str]) -> int:
    if "--help" in argv or "-h" in argv:
        print(__doc__ + "\n" + mc.usage("train.py", OPTIONS))
        return 0
    try:
        run(mc.resolve_options(OPTIONS, argv, dict(os.environ)))
    except mc.UsageError as err:
        return mc.fail(str(err), 2)
    except (DataError, OSError, ValueError) as err:
        return mc.fail(f"{type(err).__name__}: {err}")
    except Exception as err:  # noqa: BLE001 - the termination message must say why
        traceback.print_exc()
        return mc.fail(f"training failed: {type(err).__name__}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
