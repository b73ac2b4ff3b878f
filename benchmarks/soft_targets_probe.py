"""Do SoftCLT's instance-wise targets follow the classes? A probe on the training split only.

    PYTHONPATH=. python benchmarks/soft_targets_probe.py --data-dir /tmp/tsea-dev-data \
        --datasets AllGestureWiimoteZ,GestureMidAirD1 --max-series 150 --tau 5

``soft_instance`` turns a DTW matrix between the training series into soft positives
(``tsea.training.soft``). If the nearest series under that distance are mostly of another
class, the soft targets pull the classes together and the SVM pays for it. For each dataset
the same series (at most ``--max-series``, drawn once with seed 0) are compared under three
distances:

- ``raw``: what ``pretrain`` computes (channel-standardised values, each series' valid part,
  full DTW);
- ``znorm``: each series z-normalised per channel first (shape only: no offset or scale);
- ``per-step``: the raw distance divided by ``L_i + L_j``, so that long pairs are not far
  apart for being long.

Per distance: the leave-one-out 1-NN accuracy on the drawn training series, and the *purity
lift* of the soft weights at ``--tau``: the share of the off-diagonal weight that falls on
same-class pairs, divided by the share of same-class pairs (1 = the weights ignore the
classes). Only training labels are read; the test split is never loaded.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DISTANCES = ("raw", "znorm", "per-step")


def distance_matrices(X: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """The three (n, n) distance matrices of the module docstring, for (n, C, L) ``X`` NaN-padded
    to ``lengths``; ``raw`` is ``tsea.training.soft.dtw_matrix`` itself."""
    from tsea.training.soft import dtw_matrix

    raw = dtw_matrix(X, lengths)
    z = np.array(X, dtype=np.float64)
    for i, n in enumerate(lengths):
        s = z[i, :, : int(n)]
        sd = np.nanstd(s, axis=1, keepdims=True)
        z[i, :, : int(n)] = (s - np.nanmean(s, axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    steps = np.asarray(lengths, dtype=np.float64)
    return {"raw": raw, "znorm": dtw_matrix(z, lengths),
            "per-step": raw / (steps[:, None] + steps[None, :])}


def probe(distances: np.ndarray, y: np.ndarray, tau: float) -> dict[str, float]:
    """Leave-one-out 1-NN accuracy and the purity lift of SoftCLT's weights at ``tau``."""
    from tsea.training.soft import instance_weights

    y = np.asarray(y)
    d = np.array(distances, dtype=np.float64)
    np.fill_diagonal(d, np.inf)
    nn_accuracy = float(np.mean(y[d.argmin(axis=1)] == y))
    w = instance_weights(distances, tau).astype(np.float64)
    off = ~np.eye(len(y), dtype=bool)
    same = (y[:, None] == y[None, :]) & off
    share = w[same].sum() / w[off].sum()
    return {"nn_accuracy": nn_accuracy, "purity_lift": float(share / same[off].mean())}


def main(argv=None) -> None:
    from tsea.data import to_collection
    from tsea.data.scale import channel_stats
    from tsea.datasets import load

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--datasets", required=True, help="comma-separated names")
    p.add_argument("--max-series", type=int, default=150)
    p.add_argument("--tau", type=float, default=5.0, help="soft_instance (tau_I)")
    args = p.parse_args(argv)
    print("| dataset | n | lengths | " + " | ".join(f"1-NN {k}" for k in DISTANCES) + " | "
          + " | ".join(f"lift {k}" for k in DISTANCES) + " |")
    print("|---|---:|---|" + "---:|" * (2 * len(DISTANCES)))
    for name in [d for d in args.datasets.split(",") if d]:
        X, y = load(name, "train", data_dir=args.data_dir, download=False)
        coll = to_collection(X)
        mean, std = channel_stats(coll.X)  # normalize="channel", on the whole training split
        Xn = (coll.X - mean[None, :, None]) / std[None, :, None]
        keep = np.arange(coll.n_series)
        if len(keep) > args.max_series:
            keep = np.sort(np.random.default_rng(0).choice(len(keep), args.max_series, replace=False))
        lengths, labels = coll.lengths[keep], np.asarray(y)[keep]
        mats = distance_matrices(Xn[keep], lengths)
        res = {k: probe(m, labels, args.tau) for k, m in mats.items()}
        print(f"| {name} | {len(keep)} | {lengths.min()}-{lengths.max()} | "
              + " | ".join(f"{res[k]['nn_accuracy']:.3f}" for k in DISTANCES) + " | "
              + " | ".join(f"{res[k]['purity_lift']:.2f}" for k in DISTANCES) + " |", flush=True)


if __name__ == "__main__":
    main()
