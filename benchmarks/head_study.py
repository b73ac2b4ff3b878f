"""Classification heads compared on the same embeddings.

    python benchmarks/head_study.py --data-dir DIR --datasets GunPoint,Adiac --methods ea-dc,ts2vec \\
        --seeds 0,1,2 --cache CACHE_DIR --out heads.csv

For each data set, seed and method, the encoder is fitted once on the training split (one torch
thread, as ``tsea benchmark`` fits) and its pooled train and test embeddings are kept in
``CACHE_DIR`` (a rerun reuses them). Every head of ``HEADS`` is then fitted on the same training
embeddings and scored on the test split; one row per head is appended to ``--out``.

``--poolings max,mean,max+mean,canvas`` reads several readouts of each fitted encoder (one cache
file each; the rows of a readout other than max name the method ``label@pooling``; ``canvas`` is
``readout="canvas"`` with max pooling).

    python benchmarks/head_study.py --summary heads.csv [--seeds 0,1,2]

prints, per method and head, the mean over the data sets that have every seed, the wins and
losses against the same method's ``svm`` head (seed-mean accuracy per set), and the means of the
sets with fewer than 100 training series and of the others.

Methods: ``ea-dc`` is ``EAEncoder()`` (tsea's defaults; ``EAClassifier`` pools the same way),
``ts2vec`` is the reference code as ``tsea benchmark`` runs it
(:func:`tsea.benchmark.baselines.ts2vec_embeddings`), and any other name is a preset or config
file (``ablation-none``, ``configs/ts2vec-like.yaml``) for ``EAEncoder``. The heads:

- ``svm``: tsea's default, TS2Vec's protocol (C by a 5-fold grid search with at least 50
  training series and 5 in every class, else a hard margin);
- ``svm-cv``: the same RBF SVC, but C is chosen by a stratified k-fold grid search whenever
  every class has at least 2 training series (k = the smallest class count, at most 5);
- ``ridge`` and ``logistic``: tsea's heads of those names (standardised embeddings).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402

from tsea.benchmark.scores import score  # noqa: E402
from tsea.datasets import load  # noqa: E402
from tsea.heads import SVM_C_GRID, SVM_MAX_ITER, FallbackSVC, make_head  # noqa: E402
from tsea.params import POOLINGS  # noqa: E402
from tsea.utils import seeded, thread_limit  # noqa: E402

#: Readouts tried here before any enters ``tsea.params.POOLINGS``: ``pyr2`` and ``pyr4`` are
#: temporal pyramids (the max over the whole series, then over each half, and for ``pyr4`` each
#: quarter, of its valid steps, concatenated); ``max+ppv`` is the max beside the share of valid
#: steps where each channel is positive (the PPV feature of ROCKET).
STUDY_READOUTS = ("pyr2", "pyr4", "max+ppv")
#: The library's readouts other than each series at its own length (``EAEncoder(readout=...)``),
#: read with max pooling from the same fitted encoder: ``canvas`` is TS2Vec's padded readout.
WIDTH_READOUTS = ("canvas",)
#: Every readout ``--poolings`` takes.
ALL_READOUTS = POOLINGS + STUDY_READOUTS + WIDTH_READOUTS

FIELDS = ["dataset", "method", "seed", "head", "score", "n_train", "n_test", "n_classes",
          "min_class_count", "embed_fit_seconds", "head_fit_seconds"]


def svm_cv(y):
    counts = np.unique(y, return_counts=True)[1]
    if counts.min() < 2:
        return FallbackSVC(kernel="rbf", gamma="scale", C=np.inf, max_iter=SVM_MAX_ITER)
    return GridSearchCV(FallbackSVC(kernel="rbf", gamma="scale", max_iter=SVM_MAX_ITER),
                        {"C": SVM_C_GRID}, cv=StratifiedKFold(n_splits=min(5, counts.min())))


HEADS = {
    "svm": lambda y: make_head("classification", "svm", len(y), y),
    "svm-cv": svm_cv,
    "ridge": lambda y: make_head("classification", "ridge", len(y), y),
    "logistic": lambda y: make_head("classification", "logistic", len(y), y),
}


def embeddings(method: str, X_train, X_test, seed: int, poolings=("max",)):
    """``({pooling: (Z_train, Z_test)}, fit_seconds)``. The fit covers pre-training and the
    max-pooled embedding of X_train (as ``tsea benchmark`` times it); the other readouts of the
    same fitted encoder are read after the clock stops."""
    if method == "ts2vec":
        from tsea.benchmark.baselines import ts2vec_embeddings

        if tuple(poolings) != ("max",):
            raise ValueError("the ts2vec reference is read with its own max pooling only")
        Z_train, Z_test, fit_s, _ = ts2vec_embeddings(X_train, X_test, seed)
        return {"max": (Z_train, Z_test)}, fit_s
    from tsea.config import load_config
    from tsea.estimators import EAEncoder

    # "ea-dc": the defaults; any other name is a preset or config file
    params = {} if method == "ea-dc" else load_config(method)
    t0 = time.perf_counter()
    enc = EAEncoder(**{**params, "random_state": seed, "n_jobs": 1}).fit(X_train)
    Z_train = enc.transform(X_train, pooling="max")
    fit_s = time.perf_counter() - t0
    out = {"max": (Z_train, enc.transform(X_test, pooling="max"))}
    rest = [p for p in poolings if p not in out]
    for pooling, Z_tr, Z_te in zip(rest, readouts(enc, X_train, rest), readouts(enc, X_test, rest)):
        out[pooling] = (Z_tr, Z_te)
    return {p: out[p] for p in poolings}, fit_s


def _segment_max(h: np.ndarray, parts: int) -> list[np.ndarray]:
    """Max over each of ``parts`` contiguous segments of the valid steps ``h`` (l, D); segment k
    covers steps floor(k * l / parts) to ceil((k + 1) * l / parts), so none is empty."""
    n = len(h)
    return [h[(k * n) // parts: -(-(k + 1) * n // parts)].max(axis=0) for k in range(parts)]


def _study_readout(h: np.ndarray, how: str) -> np.ndarray:
    """One series' study readout from its valid per-step representations ``h`` (l, D)."""
    if how == "max+ppv":
        return np.concatenate([h.max(axis=0), (h > 0).mean(axis=0)])
    levels = {"pyr2": (1, 2), "pyr4": (1, 2, 4)}[how]
    return np.concatenate([m for parts in levels for m in _segment_max(h, parts)])


def readouts(enc, X, hows, chunk: int = 256) -> list[np.ndarray]:
    """``enc.transform(X, pooling=how)`` for each of ``hows``. tsea's poolings come from the
    library; the readouts of ``STUDY_READOUTS`` (not in the library) are computed here from one
    pass of per-step representations, ``chunk`` series at a time. A padded step is NaN in every
    channel there, so the valid steps are the rows that are not all NaN."""
    study = [how for how in hows if how not in POOLINGS + WIDTH_READOUTS]
    found = {how: [] for how in study}
    for start in range(0, len(X) if study else 0, chunk):
        for h in enc.transform(X[start:start + chunk], pooling=None):
            h = h[~np.isnan(h).all(axis=1)]
            for how in study:
                found[how].append(_study_readout(h, how))
    out = []
    for how in hows:
        if how in WIDTH_READOUTS:
            own = enc.readout
            try:
                out.append(enc.set_params(readout=how).transform(X, pooling="max"))
            finally:
                enc.set_params(readout=own)
            continue
        if how in POOLINGS:
            out.append(enc.transform(X, pooling=how))
            continue
        Z = np.stack(found[how]).astype(np.float32)
        if not np.isfinite(Z).all():
            raise ValueError(f"readout {how!r} is not finite")
        out.append(Z)
    return out


def cache_path(cache: str, dataset: str, label: str, seed: int) -> str:
    """The embedding file of one fit (or one readout: ``label`` from :func:`pooled_label`)."""
    return os.path.join(cache, f"{dataset}__{label}__{seed}.npz")


def head_score(head_name: str, Z_train, y_train, Z_test, y_test, seed: int):
    """``(accuracy, head fit seconds)`` of one head of ``HEADS`` on one pair of embeddings."""
    t0 = time.perf_counter()
    with thread_limit(1, blas=True), seeded(seed):
        head = HEADS[head_name](y_train).fit(Z_train, y_train)
        head_s = time.perf_counter() - t0
        return score("classification", y_test, head.predict(Z_test))[1], head_s


def pooled_label(label: str, pooling: str) -> str:
    """The method name of a readout: ``label`` for max pooling, else ``label@pooling``."""
    return label if pooling == "max" else f"{label}@{pooling}"


def cached_embeddings(cache: str, dataset: str, label: str, method: str, seed: int,
                      X_train, X_test, poolings=("max",)):
    """:func:`embeddings`, kept in ``cache`` (one file per readout) and read from there when
    every requested readout has a file; otherwise the encoder is fitted once and all are kept."""
    paths = {p: cache_path(cache, dataset, pooled_label(label, p), seed) for p in poolings}
    if all(os.path.exists(path) for path in paths.values()):
        found = {p: np.load(path) for p, path in paths.items()}
        return ({p: (z["train"], z["test"]) for p, z in found.items()},
                float(found[poolings[0]]["fit_seconds"]))
    with thread_limit(1, blas=True):
        readouts, fit_s = embeddings(method, X_train, X_test, seed, poolings)
    for p, (Z_train, Z_test) in readouts.items():
        tmp = paths[p] + ".part.npz"  # a crash never leaves a half-written cache file
        np.savez(tmp, train=Z_train, test=Z_test, fit_seconds=fit_s)
        os.replace(tmp, paths[p])
    return readouts, fit_s


def summary(path: str, seeds: list[int]) -> str:
    import pandas as pd

    rows = pd.read_csv(path)
    rows = rows[rows.seed.isin(seeds)]
    n_seeds = rows.groupby(["dataset", "method", "head"]).seed.nunique()
    complete = n_seeds[n_seeds == len(seeds)].reset_index()[["dataset", "method", "head"]]
    rows = rows.merge(complete)
    acc = rows.groupby(["method", "head", "dataset"]).score.mean()
    small = rows.groupby("dataset").n_train.first() < 100
    lines = [f"seeds {','.join(map(str, seeds))}",
             "| method | head | sets | mean | wins / losses vs svm | mean, < 100 train | "
             "mean, >= 100 train |", "|---|---|---:|---:|---:|---:|---:|"]
    for (method, head), per_set in acc.groupby(level=[0, 1]):
        per_set = per_set.droplevel([0, 1])
        base = acc.loc[(method, "svm")].reindex(per_set.index)
        wins, losses = int((per_set > base).sum()), int((per_set < base).sum())
        lo, hi = per_set[small.reindex(per_set.index)], per_set[~small.reindex(per_set.index)]
        lines.append(f"| {method} | {head} | {len(per_set)} | {per_set.mean():.4f} | "
                     f"{wins} / {losses} | {lo.mean():.4f} ({len(lo)}) | {hi.mean():.4f} ({len(hi)}) |")
    return "\n".join(lines)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--summary":
        q = argparse.ArgumentParser()
        q.add_argument("--summary", required=True)
        q.add_argument("--seeds", default="0,1,2")
        a = q.parse_args(argv)
        print(summary(a.summary, [int(s) for s in a.seeds.split(",")]))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--datasets", required=True, help="comma-separated names")
    p.add_argument("--methods", default="ea-dc")
    p.add_argument("--seeds", default="0")
    p.add_argument("--cache", required=True, help="folder for the embeddings (.npz)")
    p.add_argument("--out", required=True, help="csv to append rows to")
    p.add_argument("--poolings", default="max",
                   help="comma-separated readouts of each fitted encoder (max, mean, max+mean, "
                        "last, or a study readout: pyr2, pyr4, max+ppv); rows of a readout other than max "
                        "name the method label@pooling")
    p.add_argument("--heads", default=",".join(HEADS),
                   help=f"comma-separated heads to score (default: all of {', '.join(HEADS)})")
    args = p.parse_args(argv)
    poolings = tuple(args.poolings.split(","))
    heads = args.heads.split(",")
    if set(heads) - set(HEADS):
        p.error(f"unknown head {sorted(set(heads) - set(HEADS))}; choose from {', '.join(HEADS)}")
    bad = sorted(set(poolings) - set(ALL_READOUTS))
    if bad:
        p.error(f"unknown pooling {bad}; choose from {', '.join(ALL_READOUTS)}")
    os.makedirs(args.cache, exist_ok=True)
    new_file = not os.path.exists(args.out)
    with open(args.out, "a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new_file:
            writer.writeheader()
        for name in args.datasets.split(","):
            X_train, y_train = load(name, split="train", data_dir=args.data_dir, download=False)
            X_test, y_test = load(name, split="test", data_dir=args.data_dir, download=False)
            y_train, y_test = np.asarray(y_train), np.asarray(y_test)
            counts = np.unique(y_train, return_counts=True)[1]
            for method in args.methods.split(","):
                label = os.path.splitext(os.path.basename(method))[0]
                for seed in map(int, args.seeds.split(",")):
                    readouts, fit_s = cached_embeddings(args.cache, name, label, method, seed,
                                                        X_train, X_test, poolings)
                    for pooling, (Z_train, Z_test) in readouts.items():
                        for head_name in heads:
                            acc, head_s = head_score(head_name, Z_train, y_train, Z_test, y_test,
                                                     seed)
                            writer.writerow(dict(
                                dataset=name, method=pooled_label(label, pooling), seed=seed,
                                head=head_name, score=acc, n_train=len(y_train),
                                n_test=len(y_test), n_classes=len(counts),
                                min_class_count=int(counts.min()),
                                embed_fit_seconds=round(fit_s, 3), head_fit_seconds=round(head_s, 3)))
                    fh.flush()
                    print(f"{name} {label} seed {seed} done", flush=True)


if __name__ == "__main__":
    main()
