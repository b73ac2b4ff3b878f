"""Shared machinery of the tsea estimators: parameters, normalisation, pre-training, embedding.

``_EABase`` holds no public API of its own; :class:`~tsea.estimators.EAEncoder`,
:class:`~tsea.estimators.EAClassifier` and :class:`~tsea.estimators.EARegressor` build on it.
The layers below are reached through their modules (``_data.to_collection``, ``_nn.EADCEncoder``,
``_training.pretrain``) so that the internal interfaces of docs/INTERNALS.md are the only contract.
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from tsea import data as _data
from tsea import nn as _nn
from tsea import training as _training

ATTENTION_MODES = ("none", "vanilla", "residual", "evolving", "reuse")
NORMALIZE_MODES = ("channel", "series", None)
POOLING_MODES = (*_nn.POOL_METHODS, None)
# depth="auto": the smallest depth whose conv receptive field covers the longest training
# series, at most this (the fixed default before; deeper was no better on the development
# suite, BENCHMARKS.md).
AUTO_MAX_DEPTH = 7

# Names of the estimator parameters that configure the network (estimator name -> nn name).
ARCH_PARAMS = {
    "repr_dim": "repr_dim",
    "d_model": "d_model",
    "depth": "depth",
    "n_heads": "n_heads",
    "kernel_size": "kernel_size",
    "attention": "mode",
    "alpha": "alpha",
    "beta": "beta",
    "reuse_heads": "reuse_heads",
    "k_ratio": "k_ratio",
    "v_ratio": "v_ratio",
    "max_attention_len": "max_attention_len",
    "dropout": "dropout",
}

# scikit-learn's estimator checks that tsea fails by design (sklearn >= 1.6 passes these to
# parametrize_with_checks / check_estimator as ``expected_failed_checks``).
_FEATURES = "2-D X is (n, n_steps); other lengths are valid by design"
SKLEARN_EXPECTED_FAILURES = {
    "check_n_features_in": "no n_features_in_: " + _FEATURES + " (n_channels_ is stored)",
    "check_n_features_in_after_fitting": "no n_features_in_: " + _FEATURES,
    "check_transformer_general": "expects an error for another n_features: " + _FEATURES,
    "check_classifiers_train": "expects an error for another n_features: " + _FEATURES,
    "check_methods_subset_invariance": (
        "float32 batched kernels differ by ~1e-6 with batch composition (tested to 1e-5)"
    ),
    "check_fit2d_predict1d": "tsea.data's 1-D message says 'use X[None, :]', not 'Reshape'",
    "check_complex_data": "tsea.data's message says 'complex values ... not supported'",
    "check_estimators_empty_data_messages": "an (n, 0) array is reported as zero-length series",
    "check_dtype_object": "non-numeric objects give tsea.data's ValueError, not a TypeError",
    "check_transformer_data_not_an_array": "array-likes other than DESIGN.md's forms are refused",
    "check_classifier_data_not_an_array": "a 2-D DataFrame is read as a long-format table",
    "check_regressor_data_not_an_array": "a 2-D DataFrame is read as a long-format table",
    "check_regressors_train": "the tiny check configuration scores R^2 < 0.5 on tabular toy data",
}


def sklearn_expected_failures(estimator) -> dict:
    """``expected_failed_checks`` for scikit-learn's estimator checks (name -> reason)."""
    return dict(SKLEARN_EXPECTED_FAILURES)


def resolve_threads(n_jobs) -> int:
    """Torch CPU threads for ``n_jobs`` (joblib convention: None means 1, negatives count back
    from the number of cores)."""
    n_jobs = 1 if n_jobs is None else int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive or negative integer or None, got 0")
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


@contextmanager
def torch_threads(n_jobs):
    """Use ``resolve_threads(n_jobs)`` torch CPU threads inside the block."""
    n = resolve_threads(n_jobs)
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to torch.device."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc


#: Parameters added after estimators were first pickled or saved, with the value that
#: such estimators used (``hybrid_masks``: the value-masked hybrid objective was the only one).
PARAMS_BEFORE_THEY_EXISTED = {"hybrid_masks": "values"}


class _EABase(BaseEstimator):
    """Encoder parameters and the fit/embed machinery shared by all tsea estimators."""

    # -- parameters ---------------------------------------------------------------------------
    def __setstate__(self, state):
        super().__setstate__({**PARAMS_BEFORE_THEY_EXISTED, **state})

    def _store_params(self, params: dict) -> None:
        """Keep every ``__init__`` argument unchanged under its own name (scikit-learn's rule:
        no validation in ``__init__``); each class passes its ``locals()``."""
        for name, value in params.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def _check_params(self) -> None:
        if self.depth != "auto" and (
            isinstance(self.depth, bool) or not isinstance(self.depth, int | np.integer)
            or self.depth < 1
        ):
            raise ValueError(f'depth must be a positive integer or "auto", got {self.depth!r}')
        if self.attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {list(ATTENTION_MODES)}, got {self.attention!r}")
        if self.normalize not in NORMALIZE_MODES:
            raise ValueError(f"normalize must be one of {list(NORMALIZE_MODES)}, got {self.normalize!r}")
        if self.trainer_kwargs is not None and not isinstance(self.trainer_kwargs, dict):
            raise ValueError(
                f"trainer_kwargs must be a dict or None, got {type(self.trainer_kwargs).__name__}"
            )
        resolve_device(self.device)

    def _arch_kwargs(self, max_length: int) -> dict:
        """Encoder arguments; ``depth="auto"`` is resolved for series of ``max_length`` steps."""
        kwargs = {nn_name: getattr(self, name) for name, nn_name in ARCH_PARAMS.items()}
        if kwargs["reuse_heads"] is None:  # default: half of the heads reuse (nn's 4 of 8)
            kwargs["reuse_heads"] = int(self.n_heads) // 2
        if kwargs["depth"] == "auto":
            kwargs["depth"] = _nn.covering_depth(
                int(max_length), kernel_size=self.kernel_size, max_depth=AUTO_MAX_DEPTH
            )
        kwargs["depth"] = int(kwargs["depth"])  # a numpy integer is fine here
        return kwargs

    def _seed(self) -> int:
        """The integer seed of this fit (random_state None draws one from numpy's global RNG)."""
        if isinstance(self.random_state, (int, np.integer)) and not isinstance(self.random_state, bool):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # -- input --------------------------------------------------------------------------------
    @staticmethod
    def _collection(X, what: str = "X"):
        if scipy.sparse.issparse(X):
            raise ValueError(f"{what}: sparse input is not supported; pass a dense array")
        return _data.to_collection(X, what=what)

    def _check_channels(self, coll) -> None:
        if coll.n_channels != self.n_channels_:
            raise ValueError(
                f"X has {coll.n_channels} channels, but this {type(self).__name__} was fitted on "
                f"{self.n_channels_} channels"
            )

    # -- normalisation ------------------------------------------------------------------------
    def _fit_normalizer(self, X: np.ndarray) -> None:
        if self.normalize == "channel":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channels handled below
                mean = np.nanmean(X, axis=(0, 2), dtype=np.float64)
                std = np.nanstd(X, axis=(0, 2), dtype=np.float64)
            mean = np.where(np.isfinite(mean), mean, 0.0)
            std = np.where(np.isfinite(std) & (std > 1e-8), std, 1.0)
            self.channel_mean_ = mean.astype(np.float32)
            self.channel_std_ = std.astype(np.float32)
        else:
            self.channel_mean_ = None
            self.channel_std_ = None

    def _normalize(self, X: np.ndarray) -> np.ndarray:
        if self.normalize == "channel":
            return (X - self.channel_mean_[None, :, None]) / self.channel_std_[None, :, None]
        if self.normalize == "series":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a channel unobserved in a series
                mean = np.nanmean(X, axis=2, keepdims=True, dtype=np.float64)
                std = np.nanstd(X, axis=2, keepdims=True, dtype=np.float64)
            mean = np.where(np.isfinite(mean), mean, 0.0)
            std = np.where(np.isfinite(std) & (std > 1e-8), std, 1.0)
            return ((X - mean) / std).astype(np.float32)
        return X

    # -- pre-training -------------------------------------------------------------------------
    def _fit_encoder(self, coll) -> None:
        """Normalise, build and pre-train the encoder; sets ``encoder_`` and friends."""
        self._check_params()
        seed = self._seed()
        self._fit_normalizer(coll.X)
        X = np.ascontiguousarray(self._normalize(coll.X), dtype=np.float32)
        with torch_threads(self.n_jobs), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            arch = self._arch_kwargs(max_length=int(np.max(coll.lengths)))
            encoder = _nn.EADCEncoder(coll.n_channels, **arch)
            encoder = _training.pretrain(
                encoder,
                X,
                coll.lengths,
                objective=self.objective,
                objective_weights=self.objective_weights,
                n_iters=self.n_iters,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                max_train_length=self.max_train_length,
                random_state=seed,
                verbose=self.verbose,
                trainer_kwargs=self.trainer_kwargs,
                device=self.device,
                num_threads=resolve_threads(self.n_jobs),
                weight_averaging=self.weight_averaging,  # validated by pretrain
                hybrid_masks=self.hybrid_masks,
            )
        self.encoder_ = encoder.cpu().eval()
        self.n_channels_ = coll.n_channels
        self.seed_ = seed

    @property
    def depth_(self) -> int:
        """Blocks of the fitted encoder (``depth="auto"`` resolved); read from ``encoder_``."""
        return int(self.encoder_.config["depth"])

    # -- embedding ----------------------------------------------------------------------------
    def _embed(self, coll, pooling="max") -> np.ndarray:
        """Pooled (n, D) or per-step (n, L_max, D) float32 embeddings of a validated collection
        (the loop, its batching and why: ``tsea.nn.inference``)."""
        from tsea.nn.inference import embed_padded

        if pooling not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {list(POOLING_MODES)}, got {pooling!r}")
        check_is_fitted(self, "encoder_")
        self._check_channels(coll)
        cap = max(1, int(self.max_attention_len)) if self.attention != "none" else None
        device = resolve_device(self.device)
        with torch_threads(self.n_jobs), torch.inference_mode():
            encoder = self.encoder_.to(device).eval()
            try:
                return embed_padded(
                    encoder, coll.X, coll.lengths, pooling=pooling, attention_cap=cap,
                    device=device, normalize=self._normalize,
                )
            finally:
                encoder.cpu()

    def _attention_maps(self, coll) -> list[np.ndarray]:
        check_is_fitted(self, "encoder_")
        if self.attention == "none":
            raise ValueError("attention='none' has no attention maps (a plain dilated CNN)")
        self._check_channels(coll)
        X = self._normalize(coll.X)
        maps_out = []
        with torch_threads(self.n_jobs), torch.inference_mode():
            encoder = self.encoder_.eval()
            for i in range(coll.n_series):
                length = int(coll.lengths[i])
                xb = torch.from_numpy(np.ascontiguousarray(X[i : i + 1, :, :length]))
                _, maps = encoder(xb, lengths=torch.tensor([length]), return_attention=True)
                maps_out.append(np.stack([m[0].float().numpy() for m in maps]).astype(np.float32))
        return maps_out

    # -- sklearn plumbing ---------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        return tags

