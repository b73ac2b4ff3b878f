"""Compare ways of pooling EA-DC's per-step representations into one embedding, on the
development suite (never on datasets reported as evidence).

One encoder is pre-trained per (dataset, seed) with tsea's defaults; its per-step outputs on the
training and test splits are pooled in several ways and each pooled embedding gets the same SVM
head (the TS2Vec protocol). "max" is what EAClassifier uses.

    python benchmarks/pooling_dev.py --data-dir /tmp/tsea-ucr-data --seeds 0,1 \
        --datasets DistalPhalanxOutlineCorrect,GesturePebbleZ1,Adiac,FaceAll,GestureMidAirD1,Fish \
        --out benchmarks/results/dev/pooling.csv

Rows are appended per (dataset, seed); a rerun skips finished ones. A head that cannot be fitted
(libsvm's C=inf refit can fail on badly scaled embeddings) is recorded with its error.
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np
from sklearn.preprocessing import LabelEncoder

import tsea
from tsea.heads import make_head

FIELDS = ["dataset", "seed", "pooling", "accuracy", "fit_seconds", "error"]


def pooled(encoder, X) -> dict[str, np.ndarray]:
    zmax = encoder.transform(X, pooling="max")
    zmean = encoder.transform(X, pooling="mean")
    zlast = encoder.transform(X, pooling="last")
    return {
        "max": zmax,
        "mean": zmean,
        "last": zlast,
        "max+mean": np.concatenate([zmax, zmean], axis=1),
        "max+last": np.concatenate([zmax, zlast], axis=1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    done = set()
    if os.path.exists(args.out):
        with open(args.out, newline="") as fh:
            done = {(r["dataset"], r["seed"]) for r in csv.DictReader(fh)}
    for name in args.datasets.split(","):
        for seed in args.seeds.split(","):
            if (name, seed) in done:
                continue
            Xtr, ytr = tsea.datasets.load(name, "train", data_dir=args.data_dir)
            Xte, yte = tsea.datasets.load(name, "test", data_dir=args.data_dir)
            labels = LabelEncoder().fit(ytr)
            ytr_i, yte_i = labels.transform(ytr), labels.transform(yte)
            t0 = time.perf_counter()
            enc = tsea.EAEncoder(random_state=int(seed), n_jobs=1).fit(Xtr)
            fit_s = time.perf_counter() - t0
            train, test = pooled(enc, Xtr), pooled(enc, Xte)
            rows = []
            for how in train:
                head = make_head("classification", "svm", len(ytr_i), ytr_i)
                try:
                    head.fit(train[how], ytr_i)
                except ValueError as err:  # e.g. libsvm's "dual coefficients ... not finite"
                    acc, error = float("nan"), str(err).splitlines()[0]
                else:
                    acc, error = float(np.mean(head.predict(test[how]) == yte_i)), ""
                rows.append(dict(dataset=name, seed=seed, pooling=how, accuracy=acc,
                                 fit_seconds=round(fit_s, 1), error=error))
                print(name, seed, how, round(acc, 4), flush=True)
            new = not os.path.exists(args.out)
            with open(args.out, "a", newline="") as fh:
                writer = csv.DictWriter(fh, FIELDS)
                if new:
                    writer.writeheader()
                writer.writerows(rows)


if __name__ == "__main__":
    main()
