"""The fingerprint of the default model: md5 of its decision scores and probabilities.

Two versions of tsea that print the same line fit the same default model, bit for bit, on this
machine: the check that a change moved no number of BENCHMARKS.md's opening table. Run it with
PYTHONPATH on a worktree of each version, one thread:

    OMP_NUM_THREADS=1 PYTHONPATH=<worktree> python benchmarks/model_fingerprint.py
"""

import argparse
import hashlib

import numpy as np

import tsea
from tsea.datasets import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--n-iters", type=int, default=30)
    args = parser.parse_args()
    X, y = load(args.dataset, "train")
    X_test, y_test = load(args.dataset, "test")
    clf = tsea.EAClassifier(random_state=0, n_jobs=1, n_iters=args.n_iters).fit(X, y)

    def md5(a):
        return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()

    print(f"{tsea.__file__}: decision {md5(clf.decision_function(X_test))}, proba "
          f"{md5(clf.predict_proba(X_test))}, accuracy {clf.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
