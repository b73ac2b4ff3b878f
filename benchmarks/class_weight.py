"""The ``logistic`` head with ``class_weight=None`` and ``"balanced"`` on the same embeddings:
accuracy and balanced accuracy on the test split, per data set and seed.

    python benchmarks/class_weight.py --data-dir /tmp/tsea-dev-data \
        --datasets ECG5000,Earthquakes --config default --seeds 0,1,2

One encoder per (data set, seed), fitted as ``tsea benchmark`` fits (one torch thread); both
heads are fitted on its training embeddings and scored on the test split. Prints a Markdown
table and, per weighting, the means over the rows. A reading for users with imbalanced
classes, not a choice of default.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._fits import fitted, parser  # noqa: E402
from tsea.datasets import load  # noqa: E402
from tsea.estimators.labels import encode_labels  # noqa: E402
from tsea.heads import make_head  # noqa: E402


def rows(args):
    for name, seed, encoder, X_train in fitted(args):
        _, y_train = load(name, split="train", data_dir=args.data_dir, download=False)
        X_test, y_test = load(name, split="test", data_dir=args.data_dir, download=False)
        classes, y_index = encode_labels(y_train, len(y_train))
        Z_train, Z_test = encoder.transform(X_train), encoder.transform(X_test)
        counts = np.bincount(y_index)
        row = {"dataset": name, "seed": seed, "minority share": counts.min() / counts.sum()}
        for weight in (None, "balanced"):
            head = make_head("classification", "logistic", len(y_index), y_index, weight)
            pred = classes[head.fit(Z_train, y_index).predict(Z_test)]
            key = weight or "none"
            row[f"{key} acc"] = accuracy_score(y_test.astype(str), pred.astype(str))
            row[f"{key} bal"] = balanced_accuracy_score(y_test.astype(str), pred.astype(str))
        yield row


def main(argv=None) -> None:
    args = parser(__doc__, "config preset or YAML path (e.g. default)").parse_args(argv)
    columns = ["none acc", "balanced acc", "none bal", "balanced bal"]
    print("| dataset | seed | minority share | accuracy, None | accuracy, balanced "
          "| balanced accuracy, None | balanced accuracy, balanced |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    table = []
    for row in rows(args):
        table.append(row)
        print(f"| {row['dataset']} | {row['seed']} | {row['minority share']:.3f} | "
              + " | ".join(f"{row[c]:.4f}" for c in columns) + " |", flush=True)
    means = {c: float(np.mean([r[c] for r in table])) for c in columns}
    print(f"| mean of {len(table)} | | | " + " | ".join(f"{means[c]:.4f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
