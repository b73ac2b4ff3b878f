"""``tsea info``: what a model file holds, and whether this tsea loads it."""

from __future__ import annotations

import json
import os

import numpy as np

from tsea import modelfile
from tsea.params import defaults

_TASKS = {"EAEncoder": None, "EAClassifier": "classification", "EARegressor": "regression"}


def describe_model(path) -> dict:
    """A summary of the model file ``path`` (JSON-ready): its kind, the tsea that wrote it,
    what it was trained on, its head, its size, and every parameter with those that differ
    from today's defaults; ``problem``: why this tsea does not load it (None when it does:
    the file passes every check of :func:`tsea.load_model`, so a hand-edited or damaged file
    is not listed as sound). ValueError for a file that is not a tsea model, or of a kind this
    tsea does not know (:func:`tsea.modelfile.read_kind`)."""
    from tsea.estimators import load_model

    kind = modelfile.read_kind(path)
    params, meta, arrays = modelfile.read_model(path, kind=kind)
    try:
        load_model(path)
        problem = None
    except ValueError as exc:
        problem = str(exc)
    table = defaults(_TASKS[kind])
    summary = {
        "file": str(path),
        "bytes": os.path.getsize(path),
        "kind": kind,
        "tsea_version": meta.get("tsea_version"),
        "n_channels": meta.get("n_channels"),
        "train_length": meta.get("train_length"),
        "seed": meta.get("seed"),
        "n_weights": int(sum(a.size for k, a in arrays.items() if k.startswith("weights/"))),
        "params": params,
        "changed": {k: v for k, v in params.items() if k in table and table[k] != v},
        "unknown": sorted(k for k in params if k not in table),
        # parameters added after the file was written: loading gives them their legacy values
        "missing": sorted(k for k in table if k not in params),
        "problem": problem,
    }
    if kind != "EAEncoder":
        summary["head"] = params.get("head")
        head_y = arrays.get("head_train/y")
        summary["n_train_series"] = None if head_y is None else int(np.asarray(head_y).shape[0])
    if kind == "EAClassifier":
        summary["classes"] = meta.get("classes")
    return summary


def format_info(summary: dict) -> str:
    """The summary of :func:`describe_model` as lines of text."""
    channels = summary["n_channels"]
    lines = [] if summary["problem"] is None else [
        f"this tsea does not load {summary['file']}: {summary['problem']}",
        "what the file says:"]
    lines += [
        f"{summary['file']}: {summary['kind']}, written by tsea {summary['tsea_version']} "
        f"({summary['bytes']:,} bytes)",
        f"input: {channels} channel{'s' if channels != 1 else ''}"
        + (f"; trained on series of up to {summary['train_length']} steps"
           if summary["train_length"] is not None else "")
        + f"; seed {summary['seed']}",
        f"encoder: {summary['n_weights']:,} weights",
    ]
    if summary["kind"] != "EAEncoder":
        head = f"head: {summary['head']}"
        if summary.get("n_train_series") is not None:
            head += f", fitted on {summary['n_train_series']} training series"
        lines.append(head)
    if isinstance(summary.get("classes"), list):
        classes = summary["classes"]
        shown = ", ".join(repr(c) for c in classes[:20])
        more = f", ... ({len(classes) - 20} more)" if len(classes) > 20 else ""
        lines.append(f"classes ({len(classes)}): {shown}{more}")
    changed = summary["changed"]
    if changed:
        lines.append("parameters that differ from this tsea's defaults:")
        lines += [f"  {k}: {_shown(k, v)}" for k, v in sorted(changed.items())]
    else:
        lines.append("parameters: this tsea's defaults")
    if summary["unknown"]:
        lines.append(f"parameters this tsea does not know: {', '.join(summary['unknown'])}")
    if summary["missing"]:
        lines.append("parameters newer than the file (loading gives them the values of the tsea "
                     f"that wrote it): {', '.join(summary['missing'])}")
    return "\n".join(lines)


def _shown(name: str, value) -> str:
    """A parameter as JSON, but a class-weight mapping (stored as [label, weight] pairs, which
    keeps the labels' types) as the mapping it was given as."""
    if name == "class_weight" and isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 for p in value):
        return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(w)}" for k, w in value) + "}"
    return json.dumps(value)
