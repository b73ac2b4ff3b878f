"""tsea inside a scikit-learn Pipeline, tuned with GridSearchCV (under a minute on 2 CPU cores).

The pipeline embeds each series with a small EAEncoder, standardises the embeddings and
classifies them with a logistic regression. GridSearchCV picks the attention mode of the encoder
and the regularisation of the classifier by 3-fold cross-validation on the TRAINING split only;
the test split is scored once at the end. ``memory=`` caches fitted encoders, so candidates that
differ only in the classifier's C reuse the same pre-trained encoder.

Run from a source checkout::

    python examples/sklearn_pipeline.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source checkout

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import tsea  # noqa: E402


def main() -> None:
    # ItalyPowerDemand ships with aeon: 67 training and 1029 test series of 24 hourly values.
    X_train, y_train = tsea.datasets.load("ItalyPowerDemand", split="train")
    X_test, y_test = tsea.datasets.load("ItalyPowerDemand", split="test")
    print(f"train {X_train.shape}, test {X_test.shape}, classes {sorted(str(c) for c in set(y_train))}")

    encoder = tsea.EAEncoder(
        depth=2, d_model=32, n_heads=4, repr_dim=64, n_iters=40, random_state=0, n_jobs=1
    )
    with tempfile.TemporaryDirectory() as cache:
        pipe = Pipeline(
            [
                ("embed", encoder),
                ("scale", StandardScaler()),
                ("clf", LogisticRegression(max_iter=2000)),
            ],
            memory=cache,
        )
        grid = {
            "embed__attention": ["none", "evolving"],
            "clf__C": [0.1, 1.0, 10.0],
        }
        search = GridSearchCV(pipe, grid, cv=3, n_jobs=1)
        start = time.perf_counter()
        search.fit(X_train, y_train)
        elapsed = time.perf_counter() - start

    print(f"grid search: {len(search.cv_results_['params'])} candidates x 3 folds in {elapsed:.0f} s")
    for params, mean, std in zip(
        search.cv_results_["params"],
        search.cv_results_["mean_test_score"],
        search.cv_results_["std_test_score"],
    ):
        print(f"  {params}: cv accuracy {mean:.3f} +- {std:.3f}")
    print(f"best: {search.best_params_}")
    print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
