"""EAClassifier and EARegressor: a pre-trained EA-DC-Transformer encoder plus a prediction head.

``fit(X, y)`` pre-trains the encoder on X without labels, then either fits a scikit-learn head
(:func:`tsea.heads.make_head`) on the pooled embeddings (``pooling``: ``"max+mean"`` by default
for classification, ``"max"`` for regression; see BENCHMARKS.md), or, with ``head="finetune"``,
trains encoder + linear layer end-to-end (:func:`tsea.training.finetune`, early-stopped on a
validation split carved from the training data; its learning rate is the training layer's
fine-tuning default, and ``n_iters`` / ``max_epochs`` bound fine-tuning as well as pre-training).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d

from tsea import nn as _nn
from tsea import training as _training
from tsea.estimators._base import _EABase, resolve_threads, torch_threads
from tsea.estimators.labels import check_targets, encode_labels
from tsea.heads import (
    CLASSIFICATION_HEADS,
    REGRESSION_HEADS,
    check_embedding_spread,
    make_head,
    scores_to_proba,
)


class _Supervised(_EABase):
    _task = ""
    _heads: tuple = ()

    def _check_head(self) -> None:
        if self.head not in self._heads:
            raise ValueError(f"unknown {self._task} head {self.head!r}; expected one of {list(self._heads)}")

    def _check_pooling(self) -> None:
        if not isinstance(self.pooling, str) or self.pooling not in _nn.POOL_METHODS:
            raise ValueError(
                f"pooling must be one of {list(_nn.POOL_METHODS)}, got {self.pooling!r}"
            )

    def __setstate__(self, state):
        # estimators pickled before the ``pooling`` parameter existed pooled with "max"
        state.setdefault("pooling", "max")
        super().__setstate__(state)

    def _finetune(self, coll, y, n_out: int) -> None:
        """Train encoder + linear head end-to-end after pre-training (head='finetune')."""
        X = np.ascontiguousarray(self._normalize(coll.X), dtype=np.float32)
        with torch_threads(self.n_jobs), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed_)
            encoder, head_module = _training.finetune(
                self.encoder_,
                X,
                coll.lengths,
                y,
                task=self._task,
                n_outputs=n_out,
                pooling=self.pooling,
                n_iters=self.n_iters,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                max_train_length=self.max_train_length,
                random_state=self.seed_,
                verbose=self.verbose,
                trainer_kwargs=self.trainer_kwargs,
                device=self.device,
                num_threads=resolve_threads(self.n_jobs),
            )
        self.encoder_ = encoder.cpu().eval()
        self.head_ = head_module.cpu().eval()

    def _fit_head(self, coll, y) -> None:
        Z = self._embed(coll, pooling=self.pooling)
        check_embedding_spread(Z)
        head = make_head(self._task, self.head, coll.n_series, y)
        with torch_threads(self.n_jobs):
            self.head_ = head.fit(Z, y)

    def _head_outputs(self, X) -> np.ndarray:
        """Embeddings of X, or the linear head's raw outputs for head='finetune'."""
        check_is_fitted(self, "head_")
        Z = self._embed(self._collection(X), pooling=self.pooling)
        if isinstance(self.head_, torch.nn.Module):
            with torch.inference_mode():
                return self.head_(torch.from_numpy(Z)).double().numpy()
        return Z


class EAClassifier(ClassifierMixin, _Supervised):
    """EA-DC-Transformer encoder + classification head.

    ``head``: ``svm`` (default; TS2Vec protocol), ``ridge``, ``logistic`` or ``finetune``
    (see :mod:`tsea.heads`). ``pooling`` turns each series' per-step representations into the
    head's input: ``"max+mean"`` (default; the max- and mean-pooled vectors concatenated,
    2 * repr_dim features), ``"max"``, ``"mean"`` or ``"last"``. The other parameters are those
    of :class:`tsea.EAEncoder`.
    ``predict_proba`` is the head's own for ``logistic``, a softmax of the linear layer for
    ``finetune``, and a softmax of the decision function for ``svm`` and ``ridge``.
    Labels may be ints, strings or a mix of both (see ``classes_``).
    """

    _task = "classification"
    _heads = CLASSIFICATION_HEADS

    def __init__(
        self,
        head="svm",
        *,
        pooling="max+mean",
        repr_dim=320,
        d_model=64,
        depth="auto",
        n_heads=8,
        kernel_size=3,
        attention="evolving",
        alpha=0.5,
        beta=0.3,
        reuse_heads=None,
        k_ratio=0.25,
        v_ratio=0.25,
        max_attention_len=64,
        dropout=0.1,
        objective="hybrid",
        objective_weights=None,
        n_iters=None,
        max_epochs=None,
        batch_size=8,
        lr=1e-3,
        max_train_length=3000,
        normalize="channel",
        device="auto",
        n_jobs=None,
        random_state=None,
        verbose=False,
        trainer_kwargs=None,
        weight_averaging=True,
        hybrid_masks="values",
    ):
        self._store_params(locals())

    def fit(self, X, y):
        """Pre-train the encoder on X, then fit the head on (embeddings, y)."""
        coll = self._collection(X)
        classes, y_index = encode_labels(y, coll.n_series)
        self._check_head()
        self._check_pooling()
        self._fit_encoder(coll)
        self.classes_ = classes
        if self.head == "finetune":
            self._finetune(coll, y_index, n_out=len(classes))
        else:
            self._fit_head(coll, y_index)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, n_classes), columns in the order of ``classes_``."""
        out = self._head_outputs(X)
        n_classes = len(self.classes_)
        if isinstance(self.head_, torch.nn.Module):
            return scores_to_proba(out, n_classes)
        if hasattr(self.head_, "predict_proba"):
            return self.head_.predict_proba(out)
        return scores_to_proba(self.head_.decision_function(out), n_classes)

    def predict(self, X) -> np.ndarray:
        out = self._head_outputs(X)
        if isinstance(self.head_, torch.nn.Module):
            index = out.argmax(axis=1)
        else:
            index = np.asarray(self.head_.predict(out), dtype=np.int64)
        return self.classes_[index]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy; works for mixed-type labels too (compared element by element)."""
        pred = np.asarray(self.predict(X), dtype=object)
        y = np.asarray(column_or_1d(y), dtype=object)
        if y.shape != pred.shape:
            raise ValueError(f"y has {y.shape[0]} entries but X has {pred.shape[0]} series")
        return float(np.average(pred == y, weights=sample_weight))


class EARegressor(RegressorMixin, _Supervised):
    """EA-DC-Transformer encoder + regression head.

    ``head``: ``ridge`` (default; standardise + RidgeCV), ``svr`` or ``finetune`` (MSE on a
    standardised target). ``pooling``: ``"max"`` (default), ``"mean"``, ``"last"`` or
    ``"max+mean"``, as in :class:`EAClassifier`. The other parameters are those of
    :class:`tsea.EAEncoder`.
    """

    _task = "regression"
    _heads = REGRESSION_HEADS

    def __init__(
        self,
        head="ridge",
        *,
        pooling="max",
        repr_dim=320,
        d_model=64,
        depth="auto",
        n_heads=8,
        kernel_size=3,
        attention="evolving",
        alpha=0.5,
        beta=0.3,
        reuse_heads=None,
        k_ratio=0.25,
        v_ratio=0.25,
        max_attention_len=64,
        dropout=0.1,
        objective="hybrid",
        objective_weights=None,
        n_iters=None,
        max_epochs=None,
        batch_size=8,
        lr=1e-3,
        max_train_length=3000,
        normalize="channel",
        device="auto",
        n_jobs=None,
        random_state=None,
        verbose=False,
        trainer_kwargs=None,
        weight_averaging=True,
        hybrid_masks="values",
    ):
        self._store_params(locals())

    def fit(self, X, y):
        """Pre-train the encoder on X, then fit the head on (embeddings, y)."""
        coll = self._collection(X)
        y = check_targets(y, coll.n_series)
        self._check_head()
        self._check_pooling()
        self._fit_encoder(coll)
        if self.head == "finetune":
            self.y_mean_ = float(y.mean())
            self.y_scale_ = float(y.std()) if y.std() > 0 else 1.0
            target = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)
            self._finetune(coll, target, n_out=1)
        else:
            self._fit_head(coll, y)
        return self

    def predict(self, X) -> np.ndarray:
        out = self._head_outputs(X)
        if isinstance(self.head_, torch.nn.Module):
            return out[:, 0] * self.y_scale_ + self.y_mean_
        return np.asarray(self.head_.predict(out), dtype=np.float64)
