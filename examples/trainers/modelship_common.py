"""Pieces every Modelship example trainer shares: options from args and env, the artifact
contract files (metrics.json, the termination message) and digests.

Options: each option has a name such as ``batch_size``. Its value comes from, in order,
``--batch_size=V`` / ``--batch-size=V`` / ``--batch-size V`` on the command line, the
environment (``HP_BATCH_SIZE`` for hyperparameters, or the option's own variable such as
``DATASET_URI``), then the default. The operator passes TrainingRun hyperparameters both
ways, so either path alone is enough.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

TERMINATION_LIMIT_BYTES = 4096


class UsageError(ValueError):
    """Bad command line or environment; the trainer exits 2 with the message."""


@dataclass(frozen=True)
class Option:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    env: str | None = None  # None: HP_<NAME>; hyperparameter options are recorded in metrics.json
    hyperparameter: bool = True

    @property
    def env_name(self) -> str:
        return self.env or "HP_" + self.name.upper()


def parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on", ""):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def non_negative_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number >= 0")
    return value


def fraction(raw: str) -> float:
    value = float(raw)
    if not 0 <= value < 1:
        raise ValueError("must be in [0, 1)")
    return value


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return raw
    return parse


def strip_file_uri(uri: str) -> str:
    """Local paths and file:// URIs name the same directory; anything else is unsupported here."""
    if uri.startswith("file://"):
        return uri[len("file://"):]
    if "://" in uri:
        raise UsageError(f"only local paths and file:// URIs are supported (got {uri!r})")
    return uri


def split_argv(argv: list[str]) -> dict[str, str]:
    """'--a=1 --b 2 --flag' -> {'a': '1', 'b': '2', 'flag': ''}; dashes in names become underscores."""
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--") or token == "--":
            raise UsageError(f"unexpected argument {token!r} (options look like --name=value)")
        body = token[2:]
        if "=" in body:
            name, value = body.split("=", 1)
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            name, value = body, argv[i + 1]
            i += 1
        else:
            name, value = body, ""
        out[name.replace("-", "_")] = value
        i += 1
    return out


def resolve_options(options: list[Option], argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Values for every option (args > env > default); unknown args are a UsageError."""
    by_name = {o.name: o for o in options}
    given = split_argv(argv)
    unknown = sorted(set(given) - set(by_name) - {"help"})
    if unknown:
        raise UsageError(f"unknown option(s): {', '.join('--' + u for u in unknown)}")
    values: dict[str, Any] = {}
    for opt in options:
        raw = given.get(opt.name)
        if raw is None:
            raw = env.get(opt.env_name)
        if raw is None:
            values[opt.name] = opt.default
            continue
        try:
            values[opt.name] = opt.parse(raw)
        except ValueError as err:
            raise UsageError(f"--{opt.name}={raw!r}: {err}") from err
    return values


def usage(prog: str, options: list[Option]) -> str:
    lines = [f"usage: {prog} [--name=value ...]", ""]
    for o in options:
        lines.append(f"  --{o.name:<16} {o.help} (env {o.env_name}, default {o.default!r})")
    return "\n".join(lines)


def hyperparameters_as_strings(options: list[Option], values: dict[str, Any]) -> dict[str, str]:
    return {o.name: _to_string(values[o.name]) for o in options if o.hyperparameter}


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def generation_dir(requested: str) -> str:
    """Where generated data goes: the requested directory when it can be created and written,
    else (a read-only data volume, as pvc:// data sets are mounted) a fresh scratch directory."""
    try:
        os.makedirs(requested, exist_ok=True)
        probe = os.path.join(requested, ".modelship-write-probe")
        with open(probe, "w"):
            pass
        os.remove(probe)
        return requested
    except OSError as err:
        scratch = tempfile.mkdtemp(prefix="modelship-generated-")
        print(f"note: {requested} is not writable ({err.strerror}); generating into {scratch}", file=sys.stderr)
        return scratch


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def write_json(path: str, value: Any) -> None:
    """Write through a temporary name so a reader never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(value, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


def metrics_document(head_results: dict[str, dict[str, float]], hyperparameters: dict[str, str],
                     dataset_uri: str, dataset_digest: str, epochs: int) -> dict:
    """metrics.json: per-head accuracy/loss on the reference sample, their mean as 'accuracy'."""
    accuracies = [r["accuracy"] for r in head_results.values()]
    return {
        "schemaVersion": 1,
        "heads": {name: {"accuracy": round(r["accuracy"], 6), "loss": round(r["loss"], 6)}
                  for name, r in head_results.items()},
        "accuracy": round(sum(accuracies) / len(accuracies), 6),
        "hyperparameters": hyperparameters,
        "dataset": {"uri": dataset_uri, "digest": dataset_digest},
        "epochs": epochs,
    }


def artifact_uri(opts: dict, out_dir: str) -> str:
    """--artifact_uri when given (e.g. the operator's pvc:// URI for the run), else the output
    as given when it is a URI, else its absolute path."""
    if opts.get("artifact_uri"):
        return opts["artifact_uri"]
    return opts["out"] if "://" in opts["out"] else out_dir


def termination_summary(artifact_uri: str, model_digest: str, metrics: dict) -> dict:
    """The trainer's termination message: artifact location and digest, flat metrics, epochs."""
    flat = {"accuracy": metrics["accuracy"]}
    for name, r in metrics["heads"].items():
        flat[f"{name}.accuracy"] = r["accuracy"]
    return {"artifact": {"uri": artifact_uri, "digest": model_digest}, "metrics": flat, "epochs": metrics["epochs"]}


def encode_termination(message: dict) -> str:
    text = json.dumps(message, separators=(",", ":"))
    if len(text.encode()) > TERMINATION_LIMIT_BYTES:
        # Per-head metrics are the only part that grows; keep the overall figures.
        slim = dict(message, metrics={"accuracy": message["metrics"]["accuracy"]})
        text = json.dumps(slim, separators=(",", ":"))
    return text


DEFAULT_TERMINATION_PATH = "/dev/termination-log"


def write_termination_message(message: dict | str) -> None:
    """Write to $TERMINATION_MESSAGE_PATH, or to /dev/termination-log only when the kubelet
    created it: run by hand outside a pod, the trainer must not litter /dev."""
    path = os.environ.get("TERMINATION_MESSAGE_PATH") or DEFAULT_TERMINATION_PATH
    if path == DEFAULT_TERMINATION_PATH and not os.path.exists(path):
        return
    text = message if isinstance(message, str) else encode_termination(message)
    text = text.encode()[:TERMINATION_LIMIT_BYTES].decode(errors="ignore")
    try:
        with open(path, "w") as fh:
            fh.write(text)
    except OSError as err:
        print(f"note: termination message not written to {path}: {err.strerror}", file=sys.stderr)


def fail(message: str, code: int = 1) -> int:
    """Report a failure on stderr and in the termination message (what `kubectl describe` shows)."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    write_termination_message(json.dumps({"error": message})[:TERMINATION_LIMIT_BYTES])
    return code


def progress(**fields: Any) -> None:
    """One 'key=value ...' line per event on stdout, flushed so log followers see it at once."""
    parts = []
    for k, v in fields.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    print(" ".join(parts), flush=True)
