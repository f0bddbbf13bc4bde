#!/usr/bin/env python3
"""Multi-head image classifier trainer for Modelship (PyTorch -> ONNX + artifact contract).

Reads a data set directory (dataset.json + labels.jsonl + images, as written by
examples/datasets/face_attributes.py), trains one small CNN with one output head per
data set head, and writes the Modelship artifact contract to the output directory:

  model.onnx       inputs/outputs named as in the signature, dynamic batch axis
  modelship.json   the signature (input pre-processing, heads)
  metrics.json     per-head accuracy/loss on the held-out reference sample
  reference/       the held-out labelled sample (original image files + labels.jsonl)

and a JSON summary to $TERMINATION_MESSAGE_PATH (default /dev/termination-log).

Every option is `--name=value` or env HP_NAME (see --help); data and output locations also
come from DATASET_URI / OUTPUT_URI. With --generate (or GENERATE_DATA=1) an empty or missing
data directory is filled by the synthetic generator first, so the example is self-contained.

Test knobs: --corrupt=labels trains on shuffled labels (a bad model whose metrics say so);
--corrupt=signature declares a head tensor the graph does not have (validation must reject);
--skew=channel-order trains on BGR, --skew=normalization trains on [0, 1] pixels, while the
signature declares RGB and mean/std 0.5: the reported metric is honest for the training
pre-processing but the serving path sees different inputs (training/serving skew).
"""
from __future__ import annotations

import contextlib
import json
import os
import traceback
import random
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # examples/trainers: modelship_common
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "datasets"))  # the generator

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from PIL import Image  # noqa: E402

import modelship_common as mc  # noqa: E402

OPTIONS = [
    mc.Option("lr", float, 0.003, "AdamW learning rate"),
    mc.Option("epochs", mc.positive_int, 15, "maximum epochs"),
    mc.Option("batch_size", mc.positive_int, 64, "mini-batch size"),
    mc.Option("width", mc.positive_int, 12, "channels of the first conv layer (x2, x4 deeper)"),
    mc.Option("weight_decay", mc.non_negative_float, 0.0005, "AdamW weight decay"),
    mc.Option("dropout", mc.fraction, 0.2, "dropout before the heads"),
    mc.Option("seed", int, 42, "random seed (data split, init, batches)"),
    mc.Option("patience", mc.positive_int, 4, "early stopping: epochs without val_acc gain"),
    mc.Option("val_fraction", mc.fraction, 0.15, "share of the non-reference data used for validation"),
    mc.Option("reference_size", int, 160, "held-out reference sample size (copied to reference/)"),
    mc.Option("image_size", mc.positive_int, 64, "model input width/height (multiple of 16)"),
    mc.Option("max_seconds", mc.non_negative_float, 0.0, "stop after this much training time (0 = no limit)"),
    mc.Option("threads", int, 0, "CPU threads for torch (0 = torch default)"),
    mc.Option("corrupt", mc.choice("none", "labels", "signature"), "none",
              "labels: train on shuffled labels (bad model); signature: modelship.json names a head tensor "
              "the ONNX graph does not have (an artifact validation must reject)"),
    mc.Option("skew", mc.choice("none", "channel-order", "normalization"), "none",
              "train with a pre-processing that differs from the declared signature"),
    mc.Option("name", str, "face-attributes", "model name written to modelship.json", env="MODELSHIP_MODEL",
              hyperparameter=False),
    mc.Option("data", str, "", "data set directory or file:// URI", env="DATASET_URI", hyperparameter=False),
    mc.Option("out", str, "", "output directory or file:// URI", env="OUTPUT_URI", hyperparameter=False),
    mc.Option("artifact_uri", str, "", "URI reported for the artifact (default: the output directory)",
              env="ARTIFACT_URI", hyperparameter=False),
    mc.Option("generate", mc.parse_bool, False, "generate data first when --data is empty or missing",
              env="GENERATE_DATA", hyperparameter=False),
    mc.Option("generate_count", mc.positive_int, 2400, "images to generate with --generate",
              env="GENERATE_COUNT", hyperparameter=False),
    mc.Option("generate_seed", int, 1, "generator seed with --generate", env="GENERATE_SEED", hyperparameter=False),
    mc.Option("generate_shift", str, "", "generator --shift with --generate", env="GENERATE_SHIFT",
              hyperparameter=False),
]

MEAN = [0.5, 0.5, 0.5]
STD = [0.5, 0.5, 0.5]


class DataError(ValueError):
    """The data set directory is missing, empty or inconsistent."""


# ---------------------------------------------------------------- data

def ensure_dataset(data_dir: str, opts: dict) -> str:
    """The directory to read: data_dir itself, or where --generate put the synthetic data."""
    if os.path.isfile(os.path.join(data_dir, "dataset.json")):
        return data_dir
    if not opts["generate"]:
        raise DataError(f"{data_dir} has no dataset.json (pass --generate or GENERATE_DATA=1 to create one)")
    if os.path.isdir(data_dir) and os.listdir(data_dir):
        raise DataError(f"{data_dir} is not empty and has no dataset.json; refusing to generate into it")
    import face_attributes as fa
    target = mc.generation_dir(data_dir)
    started = time.monotonic()
    manifest = fa.write_dataset(target, opts["generate_count"], opts["generate_seed"],
                                size=opts["image_size"], shift=fa.parse_shift(opts["generate_shift"]))
    mc.progress(event="generated", count=manifest["count"], dir=target,
                seconds=round(time.monotonic() - started, 1))
    return target


def load_manifest(data_dir: str) -> dict:
    with open(os.path.join(data_dir, "dataset.json")) as fh:
        manifest = json.load(fh)
    heads = manifest.get("heads")
    if not isinstance(heads, list) or not heads:
        raise DataError("dataset.json has no heads")
    for h in heads:
        if h.get("type") not in ("binary", "multiclass") or len(h.get("labels", [])) < 2:
            raise DataError(f"dataset.json head {h.get('name')!r} needs type binary|multiclass and >= 2 labels")
        if h["type"] == "binary" and len(h["labels"]) != 2:
            raise DataError(f"binary head {h['name']!r} must have exactly 2 labels")
    return manifest


def load_examples(data_dir: str, manifest: dict, size: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(file names, uint8 images [N,H,W,3] RGB, int64 label indices [N, heads])."""
    heads = manifest["heads"]
    files, images, targets = [], [], []
    with open(os.path.join(data_dir, manifest.get("labelsFile", "labels.jsonl"))) as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            try:
                target = [h["labels"].index(row["labels"][h["name"]]) for h in heads]
            except (KeyError, ValueError) as err:
                raise DataError(f"labels.jsonl line {line_no}: bad or missing label ({err})") from err
            with Image.open(os.path.join(data_dir, row["file"])) as img:
                rgb = img.convert("RGB")
                if rgb.size != (size, size):
                    rgb = rgb.resize((size, size), Image.BILINEAR)  # "fill": stretch, like the signature
                images.append(np.asarray(rgb, dtype=np.uint8))
            files.append(row["file"])
            targets.append(target)
    if len(files) < 10:
        raise DataError(f"only {len(files)} labelled images in {data_dir}; need at least 10")
    return files, np.stack(images), np.asarray(targets, dtype=np.int64)


def split_indices(n: int, reference_size: int, val_fraction: float, seed: int):
    """Disjoint reference / validation / training index sets from one seeded permutation."""
    perm = np.random.default_rng(seed).permutation(n)
    reference_size = max(1, min(reference_size, n // 5))
    reference, rest = perm[:reference_size], perm[reference_size:]
    n_val = int(round(len(rest) * val_fraction))
    return reference, rest[:n_val], rest[n_val:]


def to_tensor(images: np.ndarray, skew: str) -> torch.Tensor:
    """uint8 NHWC -> float NCHW with the *training* pre-processing (equal to the signature unless skewed)."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    if skew == "channel-order":
        x = x.flip(1)
    if skew != "normalization":
        x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    return x.contiguous()


# ---------------------------------------------------------------- model

class MultiHeadCNN(nn.Module):
    """Four conv/BN/ReLU/pool stages, a shared dense layer, one linear layer per head.

    Flattening the final 1/16-size map (rather than global pooling) keeps *where* things
    are, which hair length and beard versus mustache depend on.
    """

    def __init__(self, heads: list[dict], width: int, image_size: int, dropout: float):
        super().__init__()
        if image_size % 16:
            raise ValueError("image_size must be a multiple of 16")
        channels = [width, width * 2, width * 4, width * 4]
        layers: list[nn.Module] = []
        in_c = 3
        for out_c in channels:
            layers += [nn.Conv2d(in_c, out_c, 3, padding=1, bias=False), nn.BatchNorm2d(out_c),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            in_c = out_c
        side = image_size // 16
        hidden = max(32, width * 8)
        self.features = nn.Sequential(*layers)
        self.neck = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_c * side * side, hidden),
                                  nn.ReLU(inplace=True))
        self.heads = nn.ModuleList(nn.Linear(hidden, 1 if h["type"] == "binary" else len(h["labels"])) for h in heads)

    def forward(self, x: torch.Tensor):
        z = self.neck(self.features(x))
        return tuple(head(z) for head in self.heads)


def head_loss(output: torch.Tensor, target: torch.Tensor, head: dict) -> torch.Tensor:
    if head["type"] == "binary":
        return nn.functional.binary_cross_entropy_with_logits(output.squeeze(1), target.float())
    return nn.functional.cross_entropy(output, target)


def head_predictions(output: torch.Tensor, head: dict) -> torch.Tensor:
    if head["type"] == "binary":
        return (output.squeeze(1) > 0).long()
    return output.argmax(1)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, heads: list[dict], device, batch: int = 256):
    """Per-head {'accuracy', 'loss'} (loss averaged per example)."""
    model.eval()
    sums = {h["name"]: [0.0, 0.0] for h in heads}
    for start in range(0, len(x), batch):
        xb, yb = x[start:start + batch].to(device), y[start:start + batch].to(device)
        outputs = model(xb)
        for i, h in enumerate(heads):
            out = outputs[i].float()
            sums[h["name"]][0] += float((head_predictions(out, h) == yb[:, i]).sum())
            sums[h["name"]][1] += float(head_loss(out, yb[:, i], h)) * len(xb)
    n = max(1, len(x))
    return {name: {"accuracy": s[0] / n, "loss": s[1] / n} for name, s in sums.items()}


def mean_accuracy(results: dict) -> float:
    return sum(r["accuracy"] for r in results.values()) / len(results)


def grad_scaler(enabled: bool):
    """torch >= 2.3 has torch.amp.GradScaler('cuda'); Debian's 1.13 only torch.cuda.amp's."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def warn_unused_gpu(device) -> None:
    """The device plugin gave the container a GPU but training runs on the CPU: say why."""
    visible = os.environ.get("NVIDIA_VISIBLE_DEVICES", "")
    if device.type == "cuda" or visible in ("", "void", "none"):
        return
    why = (f"this PyTorch ({torch.__version__}) is built without CUDA: build the trainer image with "
           "TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124 (make images)"
           if torch.version.cuda is None else "CUDA is not available (driver or device plugin)")
    print(f"warning: GPU {visible} allocated but training on the CPU: {why}", file=sys.stderr)


def train(model, heads, x_train, y_train, x_val, y_val, opts, device) -> int:
    """AdamW + ReduceLROnPlateau on val loss, early stopping on val accuracy; returns epochs run."""
    use_amp = device.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=opts["lr"], weight_decay=opts["weight_decay"])
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
    scaler = grad_scaler(use_amp)
    generator = torch.Generator().manual_seed(opts["seed"])
    best = (-1.0, None)
    stale, epochs_run, started = 0, 0, time.monotonic()
    for epoch in range(1, opts["epochs"] + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total_loss, correct, seen = 0.0, 0.0, 0
        for start in range(0, len(order), opts["batch_size"]):
            idx = order[start:start + opts["batch_size"]]
            xb, yb = x_train[idx], y_train[idx]
            flip = torch.rand(len(idx), generator=generator) < 0.5  # every attribute is mirror-symmetric
            xb = torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb)
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with (torch.autocast(device_type="cuda", dtype=torch.float16) if use_amp else contextlib.nullcontext()):
                outputs = model(xb)
                loss = sum(head_loss(outputs[i].float(), yb[:, i], h) for i, h in enumerate(heads))
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            total_loss += float(loss) * len(idx)
            correct += sum(float((head_predictions(outputs[i].float(), h) == yb[:, i]).float().mean())
                           for i, h in enumerate(heads)) / len(heads) * len(idx)
            seen += len(idx)
        val = evaluate(model, x_val, y_val, heads, device) if len(x_val) else None
        val_acc = mean_accuracy(val) if val else correct / seen
        val_loss = sum(r["loss"] for r in val.values()) if val else total_loss / seen
        scheduler.step(val_loss)
        epochs_run = epoch
        mc.progress(epoch=epoch, loss=total_loss / seen, acc=correct / seen, val_loss=val_loss, val_acc=val_acc,
                    lr=optimizer.param_groups[0]["lr"], seconds=round(time.monotonic() - started, 1))
        if val_acc > best[0] + 1e-4:
            best = (val_acc, {k: v.detach().clone() for k, v in model.state_dict().items()})
            stale = 0
        else:
            stale += 1
            if stale >= opts["patience"]:
                mc.progress(event="early-stop", epoch=epoch, best_val_acc=best[0])
                break
        if opts["max_seconds"] and time.monotonic() - started >= opts["max_seconds"]:
            mc.progress(event="time-budget", epoch=epoch, seconds=round(time.monotonic() - started, 1))
            break
    if best[1] is not None:
        model.load_state_dict(best[1])
    return epochs_run


# ---------------------------------------------------------------- artifact

def signature(name: str, heads: list[dict], size: int) -> dict:
    return {
        "schemaVersion": 1,
        "name": name,
        "input": {"kind": "image", "tensor": "image", "width": size, "height": size, "channels": 3,
                  "layout": "NCHW", "dtype": "float32", "scale": 1 / 255, "mean": MEAN, "std": STD,
                  "resize": "fill"},
        "heads": [{"name": h["name"], "tensor": h["name"], "type": h["type"], "labels": list(h["labels"]),
                   "activation": "sigmoid" if h["type"] == "binary" else "softmax"} for h in heads],
    }


def export_onnx(model: nn.Module, heads: list[dict], size: int, path: str) -> None:
    model = model.to("cpu").eval()
    names = [h["name"] for h in heads]
    dynamic = {n: {0: "batch"} for n in ["image"] + names}
    torch.onnx.export(model, torch.zeros(2, 3, size, size), path, input_names=["image"], output_names=names,
                      dynamic_axes=dynamic, opset_version=17, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))


def write_reference(data_dir: str, out_dir: str, files: list[str], targets: np.ndarray, heads: list[dict]) -> None:
    ref_dir = os.path.join(out_dir, "reference")
    if os.path.isdir(ref_dir):
        shutil.rmtree(ref_dir)
    os.makedirs(ref_dir)
    lines = []
    for name, target in zip(files, targets):
        dest = os.path.basename(name)
        shutil.copyfile(os.path.join(data_dir, name), os.path.join(ref_dir, dest))
        labels = {h["name"]: h["labels"][int(t)] for h, t in zip(heads, target)}
        lines.append(json.dumps({"file": dest, "labels": labels}))
    with open(os.path.join(ref_dir, "labels.jsonl"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def seed_everything(seed: int) -> None:
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS on GPUs
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def run(opts: dict) -> dict:
    if not opts["out"]:
        raise mc.UsageError("no output directory: pass --out DIR or set OUTPUT_URI")
    if not opts["data"]:
        raise mc.UsageError("no data set: pass --data DIR or set DATASET_URI")
    data_dir, out_dir = mc.strip_file_uri(opts["data"]), os.path.abspath(mc.strip_file_uri(opts["out"]))
    if opts["threads"] > 0:
        torch.set_num_threads(opts["threads"])
    seed_everything(opts["seed"])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    warn_unused_gpu(device)
    mc.progress(event="start", device=device.type, amp=device.type == "cuda", threads=torch.get_num_threads(),
                data=data_dir, out=out_dir)

    requested_dir = data_dir
    data_dir = ensure_dataset(data_dir, opts)
    manifest = load_manifest(data_dir)
    heads, size = manifest["heads"], opts["image_size"]
    files, images, targets = load_examples(data_dir, manifest, size)
    ref_idx, val_idx, train_idx = split_indices(len(files), opts["reference_size"], opts["val_fraction"], opts["seed"])
    seen = targets.copy()  # what training and validation see; the reference keeps the true labels
    if opts["corrupt"] == "labels":
        rng = np.random.default_rng(opts["seed"] + 1)
        rest = np.concatenate([train_idx, val_idx])
        for col in range(seen.shape[1]):
            seen[rest, col] = targets[rng.permutation(rest), col]
    mc.progress(event="data", train=len(train_idx), val=len(val_idx), reference=len(ref_idx), heads=len(heads))

    x_all = to_tensor(images, opts["skew"])
    y_all, y_seen = torch.from_numpy(targets), torch.from_numpy(seen)
    model = MultiHeadCNN(heads, opts["width"], size, opts["dropout"]).to(device)
    epochs = train(model, heads, x_all[train_idx], y_seen[train_idx], x_all[val_idx], y_seen[val_idx], opts, device)

    reference = evaluate(model, x_all[ref_idx], y_all[ref_idx], heads, device)
    os.makedirs(out_dir, exist_ok=True)
    model_path = os.path.join(out_dir, "model.onnx")
    export_onnx(model, heads, size, model_path)
    sig = signature(opts["name"], heads, size)
    if opts["corrupt"] == "signature":
        sig["heads"][-1]["tensor"] += "_missing"
    mc.write_json(os.path.join(out_dir, "modelship.json"), sig)
    write_reference(data_dir, out_dir, [files[i] for i in ref_idx], targets[ref_idx], heads)
    if data_dir != requested_dir:  # a scratch copy generated because the data volume was read-only
        shutil.rmtree(data_dir, ignore_errors=True)
    dataset_digest = manifest.get("digest") or mc.sha256_file(os.path.join(data_dir, "labels.jsonl"))
    metrics = mc.metrics_document(reference, mc.hyperparameters_as_strings(OPTIONS, opts),
                                  opts["data"], dataset_digest, epochs)
    mc.write_json(os.path.join(out_dir, "metrics.json"), metrics)
    summary = mc.termination_summary(mc.artifact_uri(opts, out_dir), mc.sha256_file(model_path), metrics)
    mc.write_termination_message(summary)
    mc.progress(event="done", epochs=epochs, accuracy=metrics["accuracy"],
                **{f"{k}.accuracy": v["accuracy"] for k, v in metrics["heads"].items()})
    return summary


def main(argv: list[str]) -> int:
    if "--help" in argv or "-h" in argv:
        print(__doc__ + "\n" + mc.usage("train.py", OPTIONS))
        return 0
    try:
        opts = mc.resolve_options(OPTIONS, argv, dict(os.environ))
        run(opts)
    except mc.UsageError as err:
        return mc.fail(str(err), 2)
    except (DataError, OSError, ValueError) as err:
        return mc.fail(f"{type(err).__name__}: {err}")
    except Exception as err:  # noqa: BLE001 - the termination message must say why, whatever it was
        traceback.print_exc()
        return mc.fail(f"training failed: {type(err).__name__}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
