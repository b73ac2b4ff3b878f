"""Baselines of the archive benchmark: MiniRocket with its authors' protocol (its own ridge head),
and TS2Vec's pre-training and encoding read with tsea's default head, so that its embeddings and
tsea's are compared under the same head (TS2Vec's own SVM protocol is tsea's ``svm`` head).

Both need one array of equal-length series; unequal-length collections are padded at the
end to the longest series of train and test together (never truncated):

- MiniRocket cannot take NaN: padding and missing values become 0, and series shorter than 9
  steps (its kernel length) are zero-padded to 9.
- TS2Vec takes NaN natively (it masks NaN steps and centres variable-length series itself), so
  padding and missing values stay NaN, as in its reference data loaders.

Each ``fit_predict_*`` returns ``(y_pred, fit_seconds, transform_seconds)`` where the fit time
covers everything done on the training split (unsupervised pre-training, embedding the
training series and fitting the head) and the transform time covers predicting the test split.
"""

from __future__ import annotations

import time

import numpy as np

from tsea.utils import seeded

MINIROCKET_MIN_LENGTH = 9
TS2VEC_INSTALL_HINT = "pip install --no-deps ts2vec  (the reference implementation, optional extra 'bench')"


def as_series_list(X, what: str = "X") -> list[np.ndarray]:
    """Series of ``X`` (ndarray (n, C, L) or (n, L), or a list of (C, L_i)/(L_i,) arrays)
    as a list of float64 (C, L_i) arrays."""
    if isinstance(X, np.ndarray) and X.ndim in (2, 3):
        arr = X.astype(np.float64)
        if arr.ndim == 2:
            arr = arr[:, None, :]
        return list(arr)
    if isinstance(X, (list, tuple)):
        out = []
        for i, s in enumerate(X):
            s = np.asarray(s, dtype=np.float64)
            if s.ndim == 1:
                s = s[None, :]
            if s.ndim != 2:
                raise ValueError(f"{what}: series {i} has {s.ndim} dimensions, expected (C, L)")
            out.append(s)
        if not out:
            raise ValueError(f"{what} is empty")
        return out
    raise ValueError(
        f"{what} must be an ndarray (n, C, L) / (n, L) or a list of (C, L_i) arrays, "
        f"got {type(X).__name__}"
    )


def pad_to(series: list[np.ndarray], length: int, fill: float) -> np.ndarray:
    """Stack (C, L_i) series into (n, C, length), padding at the end with ``fill``."""
    n_channels = {s.shape[0] for s in series}
    if len(n_channels) != 1:
        raise ValueError(f"series have different channel counts {sorted(n_channels)}")
    longest = max(s.shape[1] for s in series)
    if longest > length:
        raise ValueError(f"cannot pad series of length {longest} to {length} (never truncated)")
    out = np.full((len(series), n_channels.pop(), length), fill, dtype=np.float64)
    for i, s in enumerate(series):
        out[i, :, : s.shape[1]] = s
    return out


def common_length(*collections: list[np.ndarray], minimum: int = 1) -> int:
    return max([minimum] + [s.shape[1] for coll in collections for s in coll])


# ---------------------------------------------------------------- MiniRocket
def make_minirocket(task: str, seed: int, n_kernels: int = 10_000):
    """MiniRocket + StandardScaler(with_mean=False) + RidgeClassifierCV / RidgeCV with
    alphas ``logspace(-3, 3, 10)``: the protocol of Dempster et al. (KDD 2021), whose
    ``normalize=True`` ridge option is now spelled as a scaler without centring."""
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.linear_model import RidgeClassifierCV, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    alphas = np.logspace(-3, 3, 10)
    head = RidgeClassifierCV(alphas=alphas) if task == "classification" else RidgeCV(alphas=alphas)
    return make_pipeline(
        MiniRocket(n_kernels=n_kernels, random_state=seed, n_jobs=1),
        StandardScaler(with_mean=False),
        head,
    )


def fit_predict_minirocket(X_train, y_train, X_test, task, seed, n_kernels=10_000, **_):
    tr, te = as_series_list(X_train, "X_train"), as_series_list(X_test, "X_test")
    length = common_length(tr, te, minimum=MINIROCKET_MIN_LENGTH)
    A = np.nan_to_num(pad_to(tr, length, 0.0), nan=0.0)
    B = np.nan_to_num(pad_to(te, length, 0.0), nan=0.0)
    model = make_minirocket(task, seed, n_kernels=n_kernels)
    t0 = time.perf_counter()
    model.fit(A, np.asarray(y_train))
    t1 = time.perf_counter()
    y_pred = model.predict(B)
    return y_pred, t1 - t0, time.perf_counter() - t1


# ---------------------------------------------------------------- TS2Vec
def ts2vec_available() -> bool:
    try:
        import ts2vec  # noqa: F401
    except ImportError:
        return False
    return True


def default_head(task: str, n_train: int, y):
    """The default head of tsea's estimators for ``task`` (:data:`tsea.params.HEAD_PARAMS`),
    so that the baselines' embeddings are read exactly as tsea's are."""
    from tsea.heads import make_head
    from tsea.params import HEAD_PARAMS

    return make_head(task, HEAD_PARAMS[task]["head"].default, n_train, y)


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Per-channel statistics of the observed training values (TS2Vec's UEA loader scales with
    # a StandardScaler fitted on the training split; NaN padding is left untouched).
    mean = np.nanmean(train, axis=(0, 2), keepdims=True)
    std = np.nanstd(train, axis=(0, 2), keepdims=True)
    std[~np.isfinite(std) | (std == 0)] = 1.0
    mean[~np.isfinite(mean)] = 0.0
    return (train - mean) / std, (test - mean) / std


def ts2vec_embeddings(X_train, X_test, seed, n_iters=None):
    """TS2Vec with the defaults of its reference ``train.py`` (batch 8, lr 1e-3, 320-dim
    representations, max_train_length 3000, 200 or 600 iterations by data size): returns the
    full-series max-pooled embeddings ``(Z_train, Z_test, fit_seconds, encode_test_seconds)``,
    where the fit time covers pre-training and embedding the training split."""
    if not ts2vec_available():
        raise ImportError(f"ts2vec is not installed: {TS2VEC_INSTALL_HINT}")
    from ts2vec import TS2Vec

    tr, te = as_series_list(X_train, "X_train"), as_series_list(X_test, "X_test")
    length = common_length(tr, te)
    A, B = _standardise(pad_to(tr, length, np.nan), pad_to(te, length, np.nan))
    A = np.ascontiguousarray(A.transpose(0, 2, 1))  # TS2Vec wants (n, T, C)
    B = np.ascontiguousarray(B.transpose(0, 2, 1))
    with seeded(seed):  # TS2Vec draws from the global generators of python, numpy, torch
        t0 = time.perf_counter()
        model = TS2Vec(
            input_dims=A.shape[2],
            device="cpu",
            batch_size=8,
            lr=0.001,
            output_dims=320,
            max_train_length=3000,
        )
        model.fit(A, n_iters=n_iters, verbose=False)
        Z_train = model.encode(A, encoding_window="full_series")
        t1 = time.perf_counter()
        Z_test = model.encode(B, encoding_window="full_series")
    return Z_train, Z_test, t1 - t0, time.perf_counter() - t1


def fit_predict_ts2vec(X_train, y_train, X_test, task, seed, n_iters=None, **_):
    """:func:`ts2vec_embeddings`, then the shared head on them."""
    Z_train, Z_test, fit_s, encode_s = ts2vec_embeddings(X_train, X_test, seed, n_iters)
    t0 = time.perf_counter()
    with seeded(seed):
        head = default_head(task, len(Z_train), y_train)
        head.fit(Z_train, np.asarray(y_train))
        t1 = time.perf_counter()
        y_pred = head.predict(Z_test)
    return y_pred, fit_s + t1 - t0, encode_s + time.perf_counter() - t1
