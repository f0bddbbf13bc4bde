#!/usr/bin/env python3
"""Synthetic, learnable face-attributes data set, rendered with PIL (no downloads).

Every image is a stylised head with five attributes that a small CNN can learn quickly but
not trivially (position/scale/skin/background jitter, lighting and sensor noise):

  beard        binary      no / yes
  mustache     binary      no / yes
  glasses      binary      no / yes
  hair_length  multiclass  short / medium / long
  hair_color   multiclass  black / brown / blond / red / gray

Labels are balanced per head (each label appears count/K times, +-1) and independent
across heads. Output is deterministic for a given --seed, --count, --size, --format and
--shift (each image is drawn from its own RNG seeded by (seed, index, size), so images can
be rendered independently and in any order).

Written files:
  <out>/000000.png ...      images (PNG, or JPEG with --format jpg)
  <out>/labels.jsonl        {"file": "000000.png", "labels": {"beard": "yes", ...}} per line
  <out>/dataset.json        heads and labels, count, seed, size, format, shift, digest

Drift knobs (--shift k=v,k=v), all optional, applied after drawing, see README.md:
  lighting=F   global exposure change: brightness x (1 - F) plus a left-to-right light
               gradient of strength F (F in [-1, 1); positive = darker and uneven,
               negative = over-exposed)
  blur=R       Gaussian blur radius in pixels at 64 px (scaled with --size)
  noise=S      extra Gaussian sensor noise, std as a fraction of full scale (0.1 = 25.5/255)
  palette=P    colour cast: warm (red/yellow), cool (blue), desaturated (towards grey)
  contrast=C   contrast multiplier around mid-grey (0.5 = washed out)

Usage:
  /usr/bin/python3 face_attributes.py --out DIR [--count 2000] [--seed 1] [--size 64]
      [--format png|jpg] [--quality 90] [--shift lighting=0.4,blur=1.5,noise=0.1,palette=warm]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SCHEMA_VERSION = 1
DATASET_NAME = "face-attributes"

HEADS: list[dict] = [
    {"name": "beard", "type": "binary", "labels": ["no", "yes"]},
    {"name": "mustache", "type": "binary", "labels": ["no", "yes"]},
    {"name": "glasses", "type": "binary", "labels": ["no", "yes"]},
    {"name": "hair_length", "type": "multiclass", "labels": ["short", "medium", "long"]},
    {"name": "hair_color", "type": "multiclass", "labels": ["black", "brown", "blond", "red", "gray"]},
]

HAIR_RGB = {
    "black": (28, 22, 20),
    "brown": (105, 64, 36),
    "blond": (222, 190, 118),
    "red": (182, 66, 28),
    "gray": (168, 166, 162),
}

# Skin tones from light to dark; the per-image tone is interpolated between two neighbours.
SKIN_RGB = [(246, 214, 188), (228, 184, 150), (200, 150, 110), (160, 110, 75), (112, 76, 52)]

# Pastel backgrounds, chosen away from every hair colour so hair stays the salient region.
BACKGROUND_RGB = [(170, 196, 222), (180, 214, 186), (214, 206, 232), (226, 222, 200), (196, 214, 214)]

PALETTES = ("warm", "cool", "desaturated")


class ShiftError(ValueError):
    """A --shift specification that cannot be parsed."""


@dataclass(frozen=True)
class Shift:
    lighting: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    palette: str = "none"
    contrast: float = 1.0

    def as_dict(self) -> dict:
        """Only the knobs that differ from 'no shift', so the manifest stays readable."""
        base = Shift()
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if getattr(self, k) != getattr(base, k)}


def parse_shift(spec: str | None) -> Shift:
    """Parse 'lighting=0.4,blur=1.5,noise=0.1,palette=warm' (empty or 'none' = no shift)."""
    if not spec or spec.strip() in ("", "none"):
        return Shift()
    values: dict = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ShiftError(f"shift item {part!r} is not key=value")
        key, raw = (s.strip() for s in part.split("=", 1))
        if key == "palette":
            if raw not in PALETTES + ("none",):
                raise ShiftError(f"palette must be one of {', '.join(PALETTES)} (got {raw!r})")
            values[key] = raw
            continue
        if key not in ("lighting", "blur", "noise", "contrast"):
            raise ShiftError(f"unknown shift knob {key!r} (known: lighting, blur, noise, palette, contrast)")
        try:
            number = float(raw)
        except ValueError as err:
            raise ShiftError(f"shift {key} must be a number (got {raw!r})") from err
        if not math.isfinite(number):
            raise ShiftError(f"shift {key} must be finite")
        if key == "lighting" and not -1.0 <= number < 1.0:
            raise ShiftError("shift lighting must be in [-1, 1)")
        if key in ("blur", "noise") and number < 0:
            raise ShiftError(f"shift {key} must be >= 0")
        if key == "contrast" and number <= 0:
            raise ShiftError("shift contrast must be > 0")
        values[key] = number
    return Shift(**values)


def balanced_labels(count: int, seed: int) -> list[dict]:
    """Per head, each label index appears count/K times (+-1), shuffled independently."""
    rng = np.random.default_rng([seed, 0xA77])
    columns = {}
    for head in HEADS:
        k = len(head["labels"])
        column = np.arange(count) % k
        rng.shuffle(column)
        columns[head["name"]] = column
    return [{h["name"]: h["labels"][int(columns[h["name"]][i])] for h in HEADS} for i in range(count)]


def _jitter_rgb(rng: np.random.Generator, rgb, spread: float) -> tuple:
    return tuple(int(np.clip(c + rng.normal(0, spread), 0, 255)) for c in rgb)


def _skin(rng: np.random.Generator) -> tuple:
    t = rng.uniform(0, len(SKIN_RGB) - 1)
    lo, hi = SKIN_RGB[int(t)], SKIN_RGB[min(int(t) + 1, len(SKIN_RGB) - 1)]
    f = t - int(t)
    return tuple(int(a + (b - a) * f) for a, b in zip(lo, hi))


@dataclass
class Face:
    """Geometry of one head in pixel units, derived from the jittered unit-square layout."""
    cx: float
    cy: float
    rx: float
    ry: float
    px: float  # one "pixel at 64 px", so strokes scale with the canvas

    def box(self, sx: float, sy: float, dy: float = 0.0) -> list[float]:
        return [self.cx - self.rx * sx, self.cy - self.ry * sy + dy, self.cx + self.rx * sx, self.cy + self.ry * sy + dy]


def _draw_hair_back(d: ImageDraw.ImageDraw, f: Face, length: str, color) -> None:
    """Hair behind the head: its vertical extent is what distinguishes the lengths."""
    top = f.cy - f.ry * 1.12
    if length == "short":
        d.ellipse([f.cx - f.rx * 1.06, top, f.cx + f.rx * 1.06, f.cy + f.ry * 0.05], fill=color)
        return
    bottom = f.cy + f.ry * (0.55 if length == "medium" else 1.75)
    width = f.rx * (1.22 if length == "medium" else 1.32)
    d.ellipse([f.cx - width, top, f.cx + width, f.cy + f.ry * 0.4], fill=color)
    d.rounded_rectangle([f.cx - width, f.cy - f.ry * 0.3, f.cx + width, bottom], radius=f.rx * 0.35, fill=color)


def _draw_face(img: Image.Image, labels: dict, rng: np.random.Generator) -> None:
    size = img.size[0]
    px = size / 64.0
    scale = rng.uniform(0.82, 1.08)
    f = Face(cx=size * (0.5 + rng.uniform(-0.07, 0.07)), cy=size * (0.5 + rng.uniform(-0.05, 0.05)),
             rx=size * 0.2 * scale * rng.uniform(0.92, 1.08), ry=size * 0.26 * scale, px=px)
    d = ImageDraw.Draw(img)
    skin = _skin(rng)
    hair = _jitter_rgb(rng, HAIR_RGB[labels["hair_color"]], 12)
    facial = tuple(int(c * 0.72) for c in hair) if labels["hair_color"] != "black" else (40, 32, 30)

    # Shoulders, so long hair lies on something and the image is not just a floating head.
    shirt = _jitter_rgb(rng, (rng.integers(40, 200), rng.integers(40, 200), rng.integers(40, 200)), 0)
    d.ellipse([f.cx - f.rx * 2.2, f.cy + f.ry * 1.05, f.cx + f.rx * 2.2, f.cy + f.ry * 3.2], fill=shirt)
    d.rectangle([f.cx - f.rx * 0.35, f.cy + f.ry * 0.8, f.cx + f.rx * 0.35, f.cy + f.ry * 1.2], fill=skin)

    _draw_hair_back(d, f, labels["hair_length"], hair)
    d.ellipse(f.box(1.0, 1.0), fill=skin)
    # Fringe over the forehead (all lengths): the top of the head is always hair-coloured.
    d.chord([f.cx - f.rx * 1.04, f.cy - f.ry * 1.1, f.cx + f.rx * 1.04, f.cy - f.ry * 0.05], 180, 360, fill=hair)

    if labels["beard"] == "yes":
        d.chord(f.box(1.0, 1.0), 28, 152, fill=facial)
        d.polygon([(f.cx - f.rx * 0.93, f.cy + f.ry * 0.38), (f.cx - f.rx * 0.98, f.cy + f.ry * 0.05),
                   (f.cx - f.rx * 0.8, f.cy + f.ry * 0.4)], fill=facial)
        d.polygon([(f.cx + f.rx * 0.93, f.cy + f.ry * 0.38), (f.cx + f.rx * 0.98, f.cy + f.ry * 0.05),
                   (f.cx + f.rx * 0.8, f.cy + f.ry * 0.4)], fill=facial)

    eye_y = f.cy - f.ry * 0.08
    eye_dx = f.rx * 0.42
    eye_r = max(1.0, 2.2 * px * scale)
    for sx in (-1, 1):
        ex = f.cx + sx * eye_dx
        d.ellipse([ex - eye_r * 1.4, eye_y - eye_r, ex + eye_r * 1.4, eye_y + eye_r], fill=(250, 250, 250))
        d.ellipse([ex - eye_r * 0.8, eye_y - eye_r * 0.8, ex + eye_r * 0.8, eye_y + eye_r * 0.8], fill=(30, 30, 40))
    # Eyebrows in the hair colour.
    for sx in (-1, 1):
        ex = f.cx + sx * eye_dx
        d.line([ex - eye_r * 1.6, eye_y - eye_r * 2.0, ex + eye_r * 1.6, eye_y - eye_r * 2.2], fill=facial, width=max(1, int(px)))

    nose_y = f.cy + f.ry * 0.18
    d.line([f.cx, eye_y + eye_r, f.cx - px, nose_y], fill=tuple(int(c * 0.75) for c in skin), width=max(1, int(px)))
    mouth_y = f.cy + f.ry * 0.5
    if labels["mustache"] == "yes":
        d.ellipse([f.cx - f.rx * 0.55, f.cy + f.ry * 0.25, f.cx + f.rx * 0.55, f.cy + f.ry * 0.45], fill=facial)
    d.line([f.cx - f.rx * 0.3, mouth_y, f.cx + f.rx * 0.3, mouth_y], fill=(150, 60, 60), width=max(1, int(1.5 * px)))

    if labels["glasses"] == "yes":
        frame = _jitter_rgb(rng, [(20, 20, 20), (90, 50, 20), (120, 120, 130), (20, 30, 110)][rng.integers(0, 4)], 10)
        lens = eye_r * 2.6
        width = max(1, int(round(px * rng.uniform(0.9, 1.6))))
        round_frames = rng.random() < 0.5
        for sx in (-1, 1):
            ex = f.cx + sx * eye_dx
            box = [ex - lens, eye_y - lens * 0.8, ex + lens, eye_y + lens * 0.8]
            if round_frames:
                d.ellipse(box, outline=frame, width=width)
            else:
                d.rectangle(box, outline=frame, width=width)
        d.line([f.cx - eye_dx + lens, eye_y, f.cx + eye_dx - lens, eye_y], fill=frame, width=width)
        d.line([f.cx - eye_dx - lens, eye_y, f.cx - f.rx * 1.0, eye_y - px], fill=frame, width=width)
        d.line([f.cx + eye_dx + lens, eye_y, f.cx + f.rx * 1.0, eye_y - px], fill=frame, width=width)


def _background(size: int, rng: np.random.Generator) -> Image.Image:
    base = np.array(BACKGROUND_RGB[rng.integers(0, len(BACKGROUND_RGB))], dtype=np.float32)
    base = base * rng.uniform(0.8, 1.1) + rng.normal(0, 8, 3)
    ramp = np.linspace(-1, 1, size, dtype=np.float32)[:, None, None] * rng.uniform(-18, 18)
    arr = np.clip(base[None, None, :] + ramp + np.zeros((size, size, 3), np.float32), 0, 255)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def _apply_photometrics(img: Image.Image, rng: np.random.Generator, shift: Shift) -> Image.Image:
    """Camera variation present in every image, then the requested drift on top."""
    size = img.size[0]
    base_blur = rng.uniform(0.0, 0.6) * size / 64.0
    if shift.blur > 0 or base_blur > 0.15:
        img = img.filter(ImageFilter.GaussianBlur(radius=base_blur + shift.blur * size / 64.0))
    arr = np.asarray(img, dtype=np.float32)
    arr = arr * rng.uniform(0.88, 1.12) + rng.normal(0, 5)
    if shift.lighting:
        gradient = np.linspace(1.0, 1.0 - shift.lighting, size, dtype=np.float32)[None, :, None]
        arr = arr * (1.0 - shift.lighting) * (0.5 + 0.5 * gradient) / (0.5 + 0.5 * (1.0 - shift.lighting / 2))
    if shift.contrast != 1.0:
        arr = (arr - 128.0) * shift.contrast + 128.0
    if shift.palette == "warm":
        arr = arr * np.array([1.12, 1.03, 0.82], np.float32) + np.array([10, 4, -6], np.float32)
    elif shift.palette == "cool":
        arr = arr * np.array([0.84, 0.98, 1.14], np.float32) + np.array([-6, 0, 10], np.float32)
    elif shift.palette == "desaturated":
        grey = arr.mean(axis=2, keepdims=True)
        arr = grey + (arr - grey) * 0.35
    noise_std = 255.0 * (0.012 + shift.noise)
    arr = arr + rng.normal(0.0, noise_std, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")


def render(index: int, labels: dict, seed: int, size: int = 64, shift: Shift = Shift()) -> Image.Image:
    """One image, fully determined by (seed, index, labels, size, shift)."""
    rng = np.random.default_rng([seed, index, size])
    img = _background(size, rng)
    _draw_face(img, labels, rng)
    return _apply_photometrics(img, rng, shift)


def file_name(index: int, fmt: str) -> str:
    return f"{index:06d}.{'jpg' if fmt == 'jpg' else 'png'}"


def write_dataset(out: str, count: int, seed: int, size: int = 64, fmt: str = "png",
                  quality: int = 90, shift: Shift = Shift()) -> dict:
    """Render count images into out/ with labels.jsonl and dataset.json; returns the manifest."""
    if count < 1:
        raise ValueError("count must be >= 1")
    if size < 16:
        raise ValueError("size must be >= 16")
    if fmt not in ("png", "jpg"):
        raise ValueError("format must be png or jpg")
    os.makedirs(out, exist_ok=True)
    digest = hashlib.sha256()
    lines = []
    for i, labels in enumerate(balanced_labels(count, seed)):
        name = file_name(i, fmt)
        img = render(i, labels, seed, size, shift)
        path = os.path.join(out, name)
        if fmt == "jpg":
            img.save(path, "JPEG", quality=quality)
        else:
            img.save(path, "PNG", compress_level=1)
        with open(path, "rb") as fh:
            digest.update(name.encode() + b"\0" + hashlib.sha256(fh.read()).digest())
        lines.append(json.dumps({"file": name, "labels": labels}, sort_keys=False))
    labels_text = "\n".join(lines) + "\n"
    digest.update(labels_text.encode())
    with open(os.path.join(out, "labels.jsonl"), "w") as fh:
        fh.write(labels_text)
    manifest = {
        "schemaVersion": SCHEMA_VERSION,
        "name": DATASET_NAME,
        "kind": "image",
        "heads": HEADS,
        "count": count,
        "seed": seed,
        "size": size,
        "format": fmt,
        "shift": shift.as_dict(),
        "labelsFile": "labels.jsonl",
        "digest": "sha256:" + digest.hexdigest(),
    }
    with open(os.path.join(out, "dataset.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Generate the synthetic face-attributes data set.")
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--count", type=int, default=2000, help="number of images (default 2000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--size", type=int, default=64, help="image width and height in pixels (default 64)")
    p.add_argument("--format", choices=("png", "jpg"), default="png", help="image format (default png)")
    p.add_argument("--quality", type=int, default=90, help="JPEG quality (default 90)")
    p.add_argument("--shift", default="", help="drift knobs, e.g. lighting=0.4,blur=1.5,noise=0.1,palette=warm")
    args = p.parse_args(argv)
    try:
        shift = parse_shift(args.shift)
        started = time.monotonic()
        manifest = write_dataset(args.out, args.count, args.seed, args.size, args.format, args.quality, shift)
    except (ShiftError, ValueError) as err:
        print(f"face_attributes: {err}", file=sys.stderr)
        return 2
    print(f"wrote {manifest['count']} images to {args.out} in {time.monotonic() - started:.1f}s "
          f"(seed={args.seed} size={args.size} shift={args.shift or 'none'} digest={manifest['digest']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
