"""Prediction heads: scikit-learn estimators that map embeddings (n, repr_dim) to predictions.

Only scikit-learn lives here (no torch). ``make_head`` returns an *unfitted* estimator; the
estimators in :mod:`tsea.estimators` fit it on the encoder's pooled embeddings.

Classification heads
--------------------
``logistic``  ``StandardScaler`` + ``LogisticRegression(max_iter=1000)`` (L2, C = 1): the
              default. On the default's embeddings it beat ``svm`` by about a point on the
              development suite, most on small training sets, where ``svm`` has no C to search
              (BENCHMARKS.md, head study).
``svm``       The TS2Vec evaluation protocol: RBF ``SVC(gamma="scale")``. With at least 50
              training series and at least 5 series in every class, C is chosen by a 5-fold
              (stratified) grid search over ``10**-4 .. 10**4`` and ``inf``; otherwise
              ``C = inf`` (a hard margin; scikit-learn's libsvm accepts ``np.inf``). Every SVC
              gets ``max_iter=SVM_MAX_ITER`` (10**6; TS2Vec uses 10**7): with a hard margin on
              data that are not separable (duplicate embeddings with different labels) libsvm
              never converges; the cap bounds the time and scikit-learn then warns
              (``ConvergenceWarning``). The SVC is :class:`FallbackSVC`: where libsvm's
              solution for a C is not finite (scikit-learn's "dual coefficients or intercepts
              are not finite", seen with hard margins on some embeddings), it is refitted with
              the next smaller C of the grid, with a ``ConvergenceWarning`` naming the C used,
              instead of failing the whole fit.
``ridge``     ``StandardScaler`` + ``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``.

Regression heads
----------------
``ridge``     ``StandardScaler`` + ``RidgeCV(alphas=np.logspace(-3, 3, 10))``, in float64 (the
              targets keep their digits far from 0).
``svr``       ``StandardScaler`` + RBF ``SVR`` on a standardised target; C chosen by a 5-fold
              grid search over ``10**-2 .. 10**3`` when there are at least 50 training series,
              else ``C = 1``.

Before fitting a head, the estimators call :func:`check_embedding_spread`, which warns when the
training embeddings are nearly identical (a collapsed pre-training).

``finetune`` is not a scikit-learn head: the estimators train the encoder and a linear layer
end-to-end (:func:`tsea.training.finetune`); ``make_head`` refuses it with a clear error. That
layer starts from a fitted linear head (``logistic`` or ``ridge``) read as one affine map by
:func:`linear_weights`, and after fine-tuning the same head is fitted again, on the fine-tuned
embeddings of every training series.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeClassifierCV, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from tsea.params import CLASSIFICATION_HEADS, REGRESSION_HEADS

__all__ = [
    "CLASSIFICATION_HEADS",
    "COLLAPSE_RATIO",
    "REGRESSION_HEADS",
    "SVM_C_GRID",
    "SVM_MAX_ITER",
    "FallbackSVC",
    "check_embedding_spread",
    "linear_weights",
    "make_head",
    "scores_to_proba",
]

#: The TS2Vec grid: 1e-4 .. 1e4 (powers of ten) and a hard margin.
SVM_C_GRID = [10.0**p for p in range(-4, 5)] + [np.inf]
SVM_MAX_ITER = 1_000_000
_SVR_C_GRID = [10.0**p for p in range(-2, 4)]
_RIDGE_ALPHAS = np.logspace(-3, 3, 10)


#: Embeddings whose largest per-feature standard deviation over the training series is below
#: this fraction of their largest absolute value are reported as collapsed.
COLLAPSE_RATIO = 1e-3


def check_embedding_spread(Z) -> float:
    """Warn (``ConvergenceWarning``) when the training embeddings are nearly identical.

    Returns the ratio ``max_j std_i Z[i, j] / max |Z|``. Pre-training can collapse (e.g. too high
    a learning rate): every series then gets almost the same embedding and no head can tell them
    apart (with the hard-margin SVC, libsvm's solution is then not finite). At or below
    :data:`COLLAPSE_RATIO` this is reported, instead of leaving a head that predicts one class.
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[0] < 2:
        return float("nan")
    scale = float(np.abs(Z).max())
    spread = float(Z.std(axis=0).max())
    ratio = spread / scale if scale > 0 else 0.0
    if ratio <= COLLAPSE_RATIO:
        warnings.warn(
            f"the embeddings of the {Z.shape[0]} training series are nearly identical (largest "
            f"per-feature std {spread:.3g} against values up to {scale:.3g}), so the head "
            "cannot separate them: pre-training has collapsed (try a lower lr, another "
            "random_state or objective) unless the series themselves are nearly identical",
            ConvergenceWarning,
            stacklevel=3,
        )
    return ratio


def _not_finite_error(exc: ValueError) -> bool:
    # scikit-learn's BaseLibSVM.fit raises this when libsvm returns inf/NaN coefficients.
    return "not finite" in str(exc)


class FallbackSVC(SVC):
    """``sklearn.svm.SVC`` that survives a non-finite libsvm solution.

    When fitting with ``C`` gives dual coefficients or intercepts that are not finite, the fit
    is repeated with the C values of :data:`SVM_C_GRID` below ``C``, largest first, and the
    first finite solution is kept; a ``ConvergenceWarning`` names the C used, which is stored
    in ``fitted_C_`` (equal to ``C`` when no fallback was needed). The ``C`` parameter itself is
    left as given, so ``get_params``/``clone``/grid search behave as for SVC. Any other error,
    and the case where no C of the grid gives a finite solution, is raised.
    """

    def fit(self, X, y, sample_weight=None):
        requested = self.C
        candidates = [requested] + sorted((c for c in SVM_C_GRID if c < requested), reverse=True)
        first = None
        try:
            for c in candidates:
                self.C = c
                try:
                    super().fit(X, y, sample_weight=sample_weight)
                except ValueError as exc:
                    if not _not_finite_error(exc):
                        raise
                    first = first or exc
                    continue
                if c != requested:
                    warnings.warn(
                        f"SVC with C={requested:g} gave coefficients that are not finite "
                        f"(libsvm); refitted with C={c:g}, the largest smaller C of the grid "
                        "with a finite solution",
                        ConvergenceWarning,
                        stacklevel=2,
                    )
                self.fitted_C_ = c
                return self
        finally:
            self.C = requested
        smaller = ", ".join(f"{c:g}" for c in candidates[1:]) or "none"
        raise ValueError(
            f"SVC gave coefficients that are not finite for C={requested:g} and for every "
            f"smaller C of the grid ({smaller}); the embeddings may hold very large or "
            "degenerate values"
        ) from first


def _class_counts(y) -> np.ndarray:
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return counts


def _svm_head(n_train: int, y, class_weight=None) -> object:
    counts = _class_counts(y)
    # break_ties: with 3+ classes, a tie of one-vs-one votes goes to the class of the largest
    # decision score, not the first class; predict is then the argmax of decision_function and
    # of predict_proba (their softmax), as for the other heads
    svc = {"kernel": "rbf", "gamma": "scale", "max_iter": SVM_MAX_ITER, "class_weight": class_weight,
           "break_ties": True}
    if n_train >= 50 and counts.size > 0 and counts.min() >= 5:
        return GridSearchCV(
            FallbackSVC(**svc),
            {"C": SVM_C_GRID},
            cv=StratifiedKFold(n_splits=5),
            n_jobs=None,
        )
    return FallbackSVC(C=np.inf, **svc)


def _svr_head(n_train: int) -> object:
    if n_train >= 50:
        svr = GridSearchCV(SVR(kernel="rbf", gamma="scale"), {"C": _SVR_C_GRID}, cv=KFold(5))
    else:
        svr = SVR(kernel="rbf", gamma="scale", C=1.0)
    return TransformedTargetRegressor(
        regressor=_arrays(make_pipeline(StandardScaler(), svr)),
        transformer=_arrays(StandardScaler()),
    )


def _arrays(estimator):
    """``estimator`` handing arrays between its steps whatever the user's global
    ``set_config(transform_output=...)``: under "pandas" its scaler would name the embedding
    columns, and the model fitted after it would then warn at every predict made without."""
    return estimator.set_output(transform="default")


def make_head(task: str, name: str, n_train: int, y=None, class_weight=None) -> object:
    """Return an unfitted scikit-learn estimator for ``task`` ("classification"|"regression").

    ``n_train`` and ``y`` (the encoded training targets) select the protocol where the head's
    recipe depends on the training-set size (the SVM's C grid search). ``class_weight`` (None
    or "balanced") is scikit-learn's, for the classification heads. Raises ``ValueError`` for
    an unknown task or head name, and for ``finetune`` (not a scikit-learn head).
    """
    if task == "classification":
        allowed = CLASSIFICATION_HEADS
    elif task == "regression":
        allowed = REGRESSION_HEADS
    else:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if name not in allowed:
        raise ValueError(f"unknown {task} head {name!r}; expected one of {list(allowed)}")
    if name == "finetune":
        raise ValueError(
            "head 'finetune' trains the encoder end-to-end and has no scikit-learn head; "
            "it is handled by the estimators through tsea.training.finetune"
        )
    n_train = int(n_train)
    if task == "classification":
        if name == "svm":
            if y is None:
                raise ValueError("the 'svm' head needs the training labels y to pick its protocol")
            return _svm_head(n_train, y, class_weight)
        if name == "ridge":
            return _arrays(make_pipeline(StandardScaler(), RidgeClassifierCV(
                alphas=_RIDGE_ALPHAS, class_weight=class_weight)))
        return _arrays(make_pipeline(StandardScaler(),
                                     LogisticRegression(max_iter=1000, class_weight=class_weight)))
    if class_weight is not None:
        raise ValueError("class_weight applies to classification heads only")
    if name == "ridge":
        return _arrays(make_pipeline(_Float64Scaler(), RidgeCV(alphas=_RIDGE_ALPHAS)))
    return _svr_head(n_train)


class _Float64Scaler(StandardScaler):
    """``StandardScaler`` that hands on float64. ``RidgeCV`` casts the targets to the dtype of
    its input, and the embeddings are float32: targets far from 0 (prices, counts, times near
    1e6) would keep about 7 digits, predictions in steps of 1/16 at 1e6."""

    def fit(self, X, y=None, sample_weight=None):
        return super().fit(np.asarray(X, dtype=np.float64), y, sample_weight)

    def transform(self, X, copy=None):
        return super().transform(np.asarray(X, dtype=np.float64), copy=copy)


def linear_weights(head, n_outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """``(W (n_outputs, d), b (n_outputs,))`` with ``Z @ W.T + b`` equal to the decision scores
    of a fitted ``StandardScaler`` + linear model pipeline (the ``logistic`` and ``ridge`` heads),
    the scaling folded into the weights.

    A binary classifier's single score s becomes the pair ``(-s/2, s/2)``, whose softmax is the
    model's probabilities; a regressor's coefficients give ``n_outputs`` rows."""
    if not (isinstance(head, Pipeline) and len(head) == 2 and isinstance(head[0], StandardScaler)
            and hasattr(head[-1], "coef_")):
        raise ValueError("linear_weights needs a fitted StandardScaler + linear model pipeline, "
                         f"got {head!r}")
    scaler, model = head[0], head[-1]
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    scale = scaler.scale_ if scaler.scale_ is not None else np.ones(coef.shape[1])
    mean = scaler.mean_ if scaler.mean_ is not None else np.zeros(coef.shape[1])
    W = coef / scale
    b = intercept - W @ mean
    if coef.shape[0] == 1 and n_outputs == 2 and hasattr(model, "classes_"):
        W, b = np.vstack([-W / 2, W / 2]), np.array([-b[0] / 2, b[0] / 2])
    if W.shape[0] != n_outputs:
        raise ValueError(f"the fitted head gives {W.shape[0]} scores per series, not {n_outputs}")
    return W, b


def scores_to_proba(scores: np.ndarray, n_classes: int) -> np.ndarray:
    """Turn decision-function scores into class probabilities with a softmax.

    Used for heads without ``predict_proba`` (``svm``, ``ridge``): Platt scaling would need an
    extra internal cross-validation and can disagree with ``predict``; the softmax keeps the
    arg-max of the scores. Binary scores of shape (n,) are read as the logit of class 1.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        if n_classes != 2:
            raise ValueError(f"1-D decision scores need 2 classes, got {n_classes}")
        scores = np.stack([np.zeros_like(scores), scores], axis=1)
    if scores.ndim != 2 or scores.shape[1] != n_classes:
        raise ValueError(f"decision scores of shape {scores.shape} do not match {n_classes} classes")
    scores = scores - scores.max(axis=1, keepdims=True)
    expd = np.exp(scores)
    return expd / expd.sum(axis=1, keepdims=True)
