"""EAClassifier and EARegressor: a pre-trained EA-DC-Transformer encoder plus a prediction head.

``fit(X, y)`` pre-trains the encoder on X without labels, then either fits a scikit-learn head
(:func:`tsea.heads.make_head`) on the pooled embeddings (``pooling``, ``"max"`` by default), or,
with ``head="finetune"``, trains encoder + linear layer end-to-end
(:func:`tsea.training.finetune`, early-stopped on a validation split carved from the training
data; the linear layer starts from the ``logistic`` head, ``ridge`` for regression, fitted on the
pre-trained embeddings of the other series (LP-FT), the encoder trains without dropout, and the
start is kept when no epoch improves on it; its learning rate is the training layer's
fine-tuning default, and ``n_iters`` / ``max_epochs`` bound fine-tuning as well as pre-training),
then fits that same scikit-learn head afresh on the fine-tuned embeddings of every training
series: the layer trained end to end has seen only the part left after the validation split.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d

from tsea import training as _training
from tsea.estimators._base import _EABase, table_parameters, torch_threads
from tsea.estimators.labels import (
    check_label_kinds,
    check_no_missing_labels,
    check_targets,
    class_weight_by_index,
    encode_labels,
)
from tsea.heads import check_embedding_spread, linear_weights, make_head, scores_to_proba
from tsea.params import plain_value
from tsea.training.finetune import VAL_FRACTION, no_validation_reason
from tsea.utils import resolve_threads, seeded


class _Supervised(_EABase):
    """Pre-training, then a scikit-learn head on the pooled embeddings (or fine-tuning)."""

    def _finetune(self, coll, y, n_out: int) -> None:
        """Replace ``encoder_`` by its fine-tuned copy (head='finetune'): encoder + linear layer
        trained end to end, the layer started from the linear probe of the pre-trained
        embeddings (LP-FT)."""
        X = np.ascontiguousarray(self._normalize(coll.X), dtype=np.float32)
        probe_head = self._sklearn_head()

        def probe(idx):
            # the series fine-tuning trains on (its validation part held out), frozen encoder
            Z = self._embed(coll.subset(idx), pooling=self.pooling)
            W, b = linear_weights(self._fitted_head(probe_head, Z, y[idx]), n_out)
            layer = torch.nn.Linear(W.shape[1], n_out)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(W))
                layer.bias.copy_(torch.from_numpy(b))
            return layer

        with torch_threads(self.n_jobs), seeded(self.seed_):
            # the linear layer it returns has seen only the series left after the validation
            # split; `_fit` fits the head again, on all of them
            encoder, _ = _training.finetune(
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
                probe=probe,
            )
        self.encoder_ = encoder.cpu().eval()

    def _fit(self, coll, y, n_out: int, resume_from=None) -> None:
        if self.head == "finetune":  # before the pre-training, not after it
            why = no_validation_reason(y, self._task)
            if why is not None:
                raise ValueError(
                    f"head='finetune' holds out {VAL_FRACTION:.0%} of the training series to "
                    f"early-stop on, and none can be held out here: {why}; use "
                    f"head='{self._sklearn_head()}' or more training series"
                )
        self._fit_encoder(coll, resume_from=resume_from)
        if self.head == "finetune":
            self._finetune(coll, y, n_out)
        Z = self._embed(coll, pooling=self.pooling)
        check_embedding_spread(Z)
        self._fit_sklearn_head(Z, y)

    def _fitted_head(self, name: str, Z, y):
        """The scikit-learn head ``name`` fitted on (Z, y), within the estimator's threads."""
        head = make_head(self._task, name, len(Z), y, self._head_class_weight())
        with torch_threads(self.n_jobs):
            return head.fit(Z, y)

    def _head_class_weight(self):
        """``class_weight`` for heads fitted on class indices; None for regression."""
        return None

    def _sklearn_head(self) -> str:
        """The scikit-learn head on the embeddings: ``head``, or for ``finetune`` the one its
        linear layer starts from and that is refitted after it."""
        if self.head != "finetune":
            return self.head
        return "logistic" if self._task == "classification" else "ridge"

    def _fit_sklearn_head(self, Z, y) -> None:
        self.head_ = self._fitted_head(self._sklearn_head(), Z, y)
        # kept for the model file, which refits the head on them instead of pickling it
        self._head_train_ = (Z, y)

    def _head_outputs(self, X) -> np.ndarray:
        """Embeddings of X, or a torch linear head's raw outputs (model files of head='finetune'
        written before its head was refitted with scikit-learn)."""
        check_is_fitted(self, "head_")
        Z = self._embed(self._collection(X), pooling=self.pooling)
        if isinstance(self.head_, torch.nn.Module):
            with torch.inference_mode():
                return self.head_(torch.from_numpy(Z)).double().numpy()
        return Z

    # -- model file: the head ---------------------------------------------------------------
    def _head_state(self) -> tuple[dict, dict]:
        check_is_fitted(self, "head_")
        if isinstance(self.head_, torch.nn.Module):
            arrays = {f"head/{k}": v.detach().cpu().numpy() for k, v in self.head_.state_dict().items()}
            return {}, arrays
        if not hasattr(self, "_head_train_"):
            raise ValueError("cannot save: this estimator's head was fitted by an older tsea "
                             "that did not keep its training embeddings; refit it")
        Z, y = self._head_train_
        return {}, {"head_train/Z": Z, "head_train/y": np.asarray(y)}

    def _restore_head(self, meta: dict, arrays: dict) -> None:
        if "head/weight" in arrays:  # head='finetune' before its head was refitted
            weight = torch.from_numpy(np.array(arrays["head/weight"]))
            self.head_ = torch.nn.Linear(weight.shape[1], weight.shape[0])
            self.head_.load_state_dict(
                {"weight": weight, "bias": torch.from_numpy(np.array(arrays["head/bias"]))}
            )
            self.head_.eval()
        else:
            # The same embeddings and targets through the same deterministic recipe give the
            # same head, without unpickling a scikit-learn object.
            self._fit_sklearn_head(arrays["head_train/Z"], arrays["head_train/y"])


@table_parameters(task="classification")
class EAClassifier(ClassifierMixin, _Supervised):
    """EA-DC-Transformer encoder + classification head.

    ``fit(X, y)`` pre-trains the encoder on X without labels, then fits the head on the pooled
    embeddings (:func:`tsea.heads.make_head`), or, with ``head="finetune"``, trains encoder +
    linear layer end to end (:func:`tsea.training.finetune`, early-stopped on a validation
    split carved from the training data) and then refits the ``logistic`` head on the
    fine-tuned embeddings of all training series. ``predict_proba`` is the head's own for
    ``logistic`` and ``finetune``, and a softmax of ``decision_function`` for ``svm`` and
    ``ridge``. Labels may be ints, strings or a mix of both.

    {parameters}

    Attributes
    ----------
    classes_ : ndarray
        The class labels, in the order of ``predict_proba``'s columns.
    head_ : estimator
        The fitted scikit-learn head (for ``finetune``, the ``logistic`` head on the fine-tuned
        encoder's embeddings).
    encoder_, depth_, n_channels_, train_length_, channel_mean_, channel_std_, seed_
        As in :class:`tsea.EAEncoder`.

    Examples
    --------
    >>> import tsea
    >>> X, y = tsea.datasets.load("BasicMotions", split="train")
    >>> Xt, yt = tsea.datasets.load("BasicMotions", split="test")
    >>> clf = tsea.EAClassifier(n_iters=20, random_state=0).fit(X, y)
    >>> clf.predict(Xt[:2]).shape
    (2,)
    >>> clf.save("clf.tsea"); clf2 = tsea.EAClassifier.load("clf.tsea")
    """

    def fit(self, X, y, *, resume_from=None):
        """Pre-train the encoder on X, then fit the head on (embeddings, y). ``resume_from``:
        as in :meth:`tsea.EAEncoder.fit` (pre-training only)."""
        with self._fitting():
            self._check_params()
            coll = self._collection(X)
            classes, y_index = encode_labels(y, coll.n_series)
            self.classes_ = classes
            self._head_class_weight()  # a bad class_weight fails here, before pre-training
            self._fit(coll, y_index, n_out=len(classes), resume_from=resume_from)
        return self

    def _head_class_weight(self):
        return class_weight_by_index(self.class_weight, self.classes_)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, n_classes), columns in the order of ``classes_``."""
        return self._proba(self._head_outputs(X))

    def decision_function(self, X) -> np.ndarray:
        """The head's decision scores, as scikit-learn's classifiers give them: (n,) for two
        classes (positive favours ``classes_[1]``), else (n, n_classes) in the order of
        ``classes_``. For ``svm`` and ``ridge``, ``predict_proba`` is their softmax."""
        out = self._head_outputs(X)
        if isinstance(self.head_, torch.nn.Module):
            return out[:, 1] - out[:, 0] if out.shape[1] == 2 else out
        return self.head_.decision_function(out)

    def predict(self, X) -> np.ndarray:
        return self._labels(self._head_outputs(X))

    def _predict_with_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(predict(X), predict_proba(X))`` from one pass of the encoder (``tsea predict``)."""
        out = self._head_outputs(X)
        return self._labels(out), self._proba(out)

    def _proba(self, out: np.ndarray) -> np.ndarray:
        n_classes = len(self.classes_)
        if isinstance(self.head_, torch.nn.Module):
            return scores_to_proba(out, n_classes)
        if hasattr(self.head_, "predict_proba"):
            return self.head_.predict_proba(out)
        return scores_to_proba(self.head_.decision_function(out), n_classes)

    def _labels(self, out: np.ndarray) -> np.ndarray:
        if isinstance(self.head_, torch.nn.Module):
            index = out.argmax(axis=1)
        else:
            index = np.asarray(self.head_.predict(out), dtype=np.int64)
        return self.classes_[index]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy; works for mixed-type labels too (compared element by element)."""
        y = column_or_1d(y)
        check_no_missing_labels(y)
        y = np.asarray(y, dtype=object)
        check_label_kinds(y, self.classes_)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != y.shape:
                raise ValueError(f"sample_weight has shape {sample_weight.shape}, but y has "
                                 f"{y.shape[0]} entries")
        pred = np.asarray(self.predict(X), dtype=object)
        if y.shape != pred.shape:
            raise ValueError(f"y has {y.shape[0]} entries but X has {pred.shape[0]} series")
        return float(np.average(pred == y, weights=sample_weight))

    def _head_state(self) -> tuple[dict, dict]:
        meta, arrays = super()._head_state()
        classes = [plain_value(c) for c in self.classes_]
        return {**meta, "classes": classes, "classes_dtype": self.classes_.dtype.str}, arrays

    def _restore_head(self, meta: dict, arrays: dict) -> None:
        dtype = np.dtype(meta["classes_dtype"])
        if dtype.kind == "O":
            classes = np.empty(len(meta["classes"]), dtype=object)
            classes[:] = meta["classes"]
        else:
            classes = np.asarray(meta["classes"], dtype=dtype)
        y = arrays.get("head_train/y")
        if y is not None and not np.array_equal(np.unique(y), np.arange(len(classes))):
            raise KeyError(f"its {len(classes)} classes do not match the head's training "
                           f"labels, indices {np.unique(y).tolist()[:10]}")
        self.classes_ = classes
        super()._restore_head(meta, arrays)


@table_parameters(task="regression")
class EARegressor(RegressorMixin, _Supervised):
    """EA-DC-Transformer encoder + regression head.

    As :class:`EAClassifier`, for real-valued targets; ``head="finetune"`` minimises the MSE
    of a standardised target.

    {parameters}

    Attributes
    ----------
    encoder_, depth_, n_channels_, train_length_, channel_mean_, channel_std_, seed_
        As in :class:`tsea.EAEncoder`.
    head_ : estimator
        The fitted scikit-learn head (for ``finetune``, the ``ridge`` head on the fine-tuned
        encoder's embeddings, fitted to the standardised target).
    y_mean_, y_scale_ : float
        The target standardisation of ``head="finetune"``.

    Examples
    --------
    >>> import tsea
    >>> X, y = tsea.datasets.load("Covid3Month", split="train")
    >>> reg = tsea.EARegressor(n_iters=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    def fit(self, X, y, *, resume_from=None):
        """Pre-train the encoder on X, then fit the head on (embeddings, y). ``resume_from``:
        as in :meth:`tsea.EAEncoder.fit` (pre-training only)."""
        with self._fitting():
            self._check_params()
            coll = self._collection(X)
            y = check_targets(y, coll.n_series)
            target = y
            if self.head == "finetune":
                self.y_mean_ = float(y.mean())
                self.y_scale_ = float(y.std()) if y.std() > 0 else 1.0
                target = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)
            self._fit(coll, target, n_out=1, resume_from=resume_from)
        return self

    def predict(self, X) -> np.ndarray:
        out = self._head_outputs(X)
        if isinstance(self.head_, torch.nn.Module):
            out = out[:, 0]
        else:
            out = np.asarray(self.head_.predict(out), dtype=np.float64)
        if self.head == "finetune":
            return out * self.y_scale_ + self.y_mean_
        return out

    def _head_state(self) -> tuple[dict, dict]:
        meta, arrays = super()._head_state()
        if self.head == "finetune":
            meta = {**meta, "y_mean": self.y_mean_, "y_scale": self.y_scale_}
        return meta, arrays

    def _restore_head(self, meta: dict, arrays: dict) -> None:
        if self.head == "finetune":
            self.y_mean_, self.y_scale_ = float(meta["y_mean"]), float(meta["y_scale"])
        super()._restore_head(meta, arrays)
