"""Compare candidate default settings of EAClassifier by cross-validation on TRAINING splits.

The test splits are never loaded: every score is a stratified K-fold CV accuracy computed on a
dataset's training split alone, so the chosen defaults can still be reported on the test splits
(and on datasets not seen here) as honest evidence.

    python benchmarks/tune_defaults.py --out benchmarks/results/tuning/cv.csv \
        --datasets ArrowHead,GunPoint,ItalyPowerDemand,OSULeaf,JapaneseVowels,BasicMotions \
        --setting base: --setting contrastive:objective=contrastive --setting iters200:n_iters=200

Rows are appended as each (dataset, setting, fold) finishes; a rerun skips finished rows.
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np
import yaml
from sklearn.model_selection import StratifiedKFold

import tsea

FIELDS = ["dataset", "setting", "params", "fold", "accuracy", "fit_seconds"]


def parse_setting(text: str) -> tuple[str, dict]:
    name, _, rest = text.partition(":")
    params = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        params[key] = yaml.safe_load(value)
    return name, params


def take(X, idx):
    return X[idx] if isinstance(X, np.ndarray) else [X[i] for i in idx]


def done_rows(path: str) -> set:
    if not os.path.exists(path):
        return set()
    with open(path, newline="") as fh:
        return {(r["dataset"], r["setting"], r["fold"]) for r in csv.DictReader(fh)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True)
    parser.add_argument("--setting", action="append", required=True, help="name:k=v,k=v")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--data-dir", default=None, help="archive layout <dir>/<Name>/...")
    args = parser.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    finished = done_rows(args.out)
    new_file = not os.path.exists(args.out)
    with open(args.out, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for dataset in args.datasets.split(","):
            X, y = tsea.datasets.load(dataset, split="train", data_dir=args.data_dir)
            folds = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
            for fold, (tr, va) in enumerate(folds.split(np.zeros(len(y)), y)):
                for setting in args.setting:
                    name, params = parse_setting(setting)
                    if (dataset, name, str(fold)) in finished:
                        continue
                    clf = tsea.EAClassifier(random_state=args.seed, n_jobs=1, **params)
                    start = time.perf_counter()
                    clf.fit(take(X, tr), y[tr])
                    seconds = time.perf_counter() - start
                    acc = clf.score(take(X, va), y[va])
                    writer.writerow(dict(dataset=dataset, setting=name, params=params, fold=fold,
                                         accuracy=round(float(acc), 4),
                                         fit_seconds=round(seconds, 1)))
                    fh.flush()
                    print(dataset, name, fold, round(float(acc), 4), round(seconds, 1), flush=True)


if __name__ == "__main__":
    main()
