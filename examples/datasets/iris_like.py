#!/usr/bin/env python3
"""Iris-like tabular data set: 3 species from 4 measurements (no downloads).

Each species is a Gaussian per feature with means and spreads close to Fisher's iris data,
so setosa separates cleanly and versicolor/virginica overlap a little (~95% is reachable).
Deterministic by --seed; classes balanced.

Written files:
  <out>/data.csv       header sepal_length,sepal_width,petal_length,petal_width,species
  <out>/dataset.json   kind "tensor", features, heads, count, seed, shift, digest

--shift scale=F multiplies every feature by F and offset=F adds F (drift scenarios).

Usage: /usr/bin/python3 iris_like.py --out DIR [--count 600] [--seed 1] [--shift scale=1.2]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
SPECIES = ["setosa", "versicolor", "virginica"]
HEADS = [{"name": "species", "type": "multiclass", "labels": SPECIES}]

# (mean, std) per feature, per species.
DISTRIBUTIONS = {
    "setosa": [(5.01, 0.35), (3.43, 0.38), (1.46, 0.17), (0.25, 0.11)],
    "versicolor": [(5.94, 0.52), (2.77, 0.31), (4.26, 0.47), (1.33, 0.20)],
    "virginica": [(6.59, 0.64), (2.97, 0.32), (5.55, 0.55), (2.03, 0.27)],
}


def parse_shift(spec: str) -> dict:
    shift = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        key, _, raw = part.partition("=")
        if key not in ("scale", "offset"):
            raise ValueError(f"unknown shift knob {key!r} (known: scale, offset)")
        shift[key] = float(raw)
    return shift


def generate(count: int, seed: int, shift: dict | None = None) -> tuple[np.ndarray, list[str]]:
    """(features [count, 4] float32 rounded to 0.1 like the original, species names)."""
    shift = shift or {}
    rng = np.random.default_rng([seed, 0x1415])
    species = [SPECIES[i % len(SPECIES)] for i in range(count)]
    rng.shuffle(species)
    rows = []
    for s in species:
        rows.append([max(0.1, rng.normal(m, sd)) for m, sd in DISTRIBUTIONS[s]])
    x = np.asarray(rows, dtype=np.float64) * shift.get("scale", 1.0) + shift.get("offset", 0.0)
    return np.round(x, 1).astype(np.float32), species


def write_dataset(out: str, count: int, seed: int, shift: dict | None = None) -> dict:
    x, species = generate(count, seed, shift)
    os.makedirs(out, exist_ok=True)
    lines = [",".join(FEATURES + ["species"])]
    lines += [",".join(f"{v:.1f}" for v in row) + "," + s for row, s in zip(x, species)]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "data.csv"), "w") as fh:
        fh.write(text)
    manifest = {
        "schemaVersion": 1, "name": "iris-like", "kind": "tensor", "features": FEATURES, "heads": HEADS,
        "count": count, "seed": seed, "shift": shift or {}, "dataFile": "data.csv",
        "digest": "sha256:" + hashlib.sha256(text.encode()).hexdigest(),
    }
    with open(os.path.join(out, "dataset.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Generate the iris-like tabular data set.")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--shift", default="")
    args = p.parse_args(argv)
    try:
        manifest = write_dataset(args.out, args.count, args.seed, parse_shift(args.shift))
    except ValueError as err:
        print(f"iris_like: {err}", file=sys.stderr)
        return 2
    print(f"wrote {manifest['count']} rows to {args.out} (digest={manifest['digest']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
