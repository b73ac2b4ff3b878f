"""Default EAClassifier on BasicMotions (aeon's bundled train/test split): accuracy and fit time.

Usage::

    python benchmarks/estimators_basicmotions.py [--n-jobs 1] [--seeds 0 1 2] [--param k=v ...]
    python benchmarks/estimators_basicmotions.py --cv 5 --param objective=masked

``--cv K`` compares settings without touching the test split: stratified K-fold
cross-validation on the TRAINING split only (this is how defaults may be chosen).

Model parameters stay at their defaults unless given with ``--param`` (YAML-parsed values);
``--n-jobs`` is a resource setting only. The test split is used once, for the reported score:
nothing is selected or stopped on it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import yaml


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--param", action="append", default=[], help="estimator parameter k=v")
    parser.add_argument("--dataset", default="BasicMotions")
    parser.add_argument("--cv", type=int, default=0, help="K-fold CV on the training split only")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source checkout
    import tsea
    from tsea.estimators import EAClassifier

    params = {}
    for item in args.param:
        key, _, value = item.partition("=")
        params[key] = yaml.safe_load(value)
    X_train, y_train = tsea.datasets.load(args.dataset, split="train")
    if args.cv:
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        for seed in args.seeds:
            clf = EAClassifier(random_state=seed, n_jobs=args.n_jobs, **params)
            start = time.perf_counter()
            folds = StratifiedKFold(args.cv, shuffle=True, random_state=seed)
            scores = cross_val_score(clf, X_train, y_train, cv=folds)
            print(json.dumps({"seed": seed, "params": params, "cv": args.cv,
                              "cv_accuracy_mean": round(float(scores.mean()), 4),
                              "cv_scores": [round(float(v), 4) for v in scores],
                              "elapsed_s": round(time.perf_counter() - start, 1)}), flush=True)
        return
    X_test, y_test = tsea.datasets.load(args.dataset, split="test")
    rows = []
    for seed in args.seeds:
        clf = EAClassifier(random_state=seed, n_jobs=args.n_jobs, **params)
        start = time.perf_counter()
        clf.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        acc = clf.score(X_test, y_test)
        predict_s = time.perf_counter() - start
        rows.append({"seed": seed, "accuracy": round(float(acc), 4), "fit_s": round(fit_s, 1),
                     "predict_s": round(predict_s, 2)})
        print(json.dumps(rows[-1]), flush=True)
    accs = np.array([r["accuracy"] for r in rows])
    summary = {
        "dataset": args.dataset,
        "params": params,
        "n_jobs": args.n_jobs,
        "accuracy_mean": round(float(accs.mean()), 4),
        "accuracy_min": round(float(accs.min()), 4),
        "fit_s_mean": round(float(np.mean([r["fit_s"] for r in rows])), 1),
        "python": platform.python_version(),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
