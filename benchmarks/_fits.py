"""Shared by the diagnostic scripts that fit one encoder per data set and seed and then look
inside it (``gate_openness.py``, ``attention_focus.py``)."""

from __future__ import annotations

import argparse

from tsea.config import load_config
from tsea.datasets import load
from tsea.estimators import EAEncoder


def parser(doc: str, config_help: str) -> argparse.ArgumentParser:
    """The scripts' common options: --data-dir, --datasets, --config, --seeds."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--datasets", required=True, help="comma-separated names")
    p.add_argument("--config", required=True, help=config_help)
    p.add_argument("--seeds", default="0")
    return p


def fitted(args, params: dict | None = None):
    """Yield ``(dataset, seed, encoder, X_train)``: an ``EAEncoder`` with ``args.config``'s
    parameters (or ``params``) fitted on each training split, one torch thread, as ``tsea
    benchmark`` fits."""
    params = load_config(args.config) if params is None else params
    for name in args.datasets.split(","):
        X, _ = load(name, split="train", data_dir=args.data_dir, download=False)
        for seed in map(int, args.seeds.split(",")):
            yield name, seed, EAEncoder(**{**params, "random_state": seed, "n_jobs": 1}).fit(X), X
