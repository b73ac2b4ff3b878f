"""EAEncoder: the EA-DC-Transformer as a scikit-learn transformer (fit = pre-training)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

import tsea
from tsea import modelfile
from tsea import nn as _nn
from tsea.estimators._base import PARAMS_BEFORE_THEY_EXISTED, _EABase

_KIND = "EAEncoder"


class EAEncoder(TransformerMixin, _EABase):
    """Unsupervised EA-DC-Transformer encoder with the scikit-learn transformer API.

    ``fit(X)`` pre-trains the encoder without labels; ``transform(X, pooling="max")`` returns
    one ``repr_dim`` float32 embedding per series. X is any input form of DESIGN.md: an ndarray
    (n, C, L) or (n, L), a list of (C, L_i) arrays, an sktime nested or a long pandas DataFrame;
    NaN marks missing values, unequal lengths are fine.

    Parameters
    ----------
    repr_dim, d_model, n_heads, kernel_size, k_ratio, v_ratio, dropout
        Encoder size (see :class:`tsea.nn.EADCEncoder`; the defaults are its defaults).
    depth : int or "auto"
        Dilated causal blocks (block i has dilation 2**i). ``"auto"`` (default) takes the
        smallest depth, at most 7, whose receptive field (:func:`tsea.nn.receptive_field`,
        ``1 + 4 (2**depth - 1)`` steps with kernel 3) covers the longest training series: 3 for
        24 steps, 6 for 131, 7 from 254 steps up. The depth used is ``depth_`` after fit.
    attention : {"evolving", "vanilla", "residual", "reuse", "none"}
        Attention mode; ``alpha``, ``beta`` and ``reuse_heads`` configure it
        (``reuse_heads=None``: half of the heads, ``n_heads // 2``).
    max_attention_len : int
        Above this many steps attention runs on pooled tokens (bounded memory).
    objective, objective_weights, n_iters, max_epochs, batch_size, lr, max_train_length
        Pre-training (:func:`tsea.training.pretrain`); ``n_iters=None`` and ``max_epochs=None``
        use the training layer's data-size heuristic.
    normalize : {"channel", "series", None}
        ``channel``: per-channel mean/std learned in fit over observed values; ``series``:
        per-series, per-channel z-normalisation; None: raw values.
    device : "auto", "cpu", "cuda", ...
        ``auto`` picks CUDA when present.
    n_jobs : int or None
        torch CPU threads during fit/transform (restored afterwards). None means 1, as in
        scikit-learn; -1 uses every core. One thread is the fastest choice for small models and
        on shared CPUs (BENCHMARKS.md: 58 s vs 180 s for one BasicMotions fit on a loaded
        2-core machine).
    random_state : int, RandomState or None
        Same seed, same machine: same embeddings.
    verbose : bool
    trainer_kwargs : dict or None
        Passed to ``lightning.Trainer`` (devices, strategy, precision...).
    weight_averaging : bool
        Keep the equal-weight average of the encoder's weights over every optimizer step
        (Lightning's ``WeightAveraging``; TS2Vec embeds with such an average too) and return it
        instead of the last step's weights. Default True: on the development suite of
        BENCHMARKS.md it made the embeddings more accurate at no measurable cost.
    hybrid_masks : {"values", "timestamps"}
        Which values the hybrid objective reconstructs (:mod:`tsea.training.hybrid`):
        ``"values"`` adds geometric value masks (Zerveas et al.) to the contrastive views and
        reconstructs the masked values; ``"timestamps"`` adds no corruption and reconstructs
        the values at the steps that the contrastive timestamp mask hides. Ignored by the
        other objectives.
    """

    def __init__(
        self,
        *,
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

    def fit(self, X, y=None):
        """Pre-train the encoder on X (labels are ignored)."""
        coll = self._collection(X)
        if y is not None and len(y) != coll.n_series:
            raise ValueError(f"y has {len(y)} entries but X has {coll.n_series} series")
        self._fit_encoder(coll)
        return self

    def transform(self, X, pooling="max"):
        """Embed X.

        ``pooling`` "max" (default), "mean" or "last" pools over each series' valid steps and
        returns (n, repr_dim) float32; "max+mean" concatenates the max- and mean-pooled
        vectors, (n, 2 * repr_dim); None returns per-step representations
        (n, L_max, repr_dim) with NaN beyond each series' length.
        """
        check_is_fitted(self, "encoder_")
        return self._embed(self._collection(X), pooling=pooling)

    def attention_maps(self, X) -> list:
        """Attention probabilities of every attention sub-layer, one array per series.

        Returns a list of float32 arrays of shape (n_attention_layers, n_heads, L', L'), where
        L' <= max_attention_len is the number of attention tokens of that series.
        ``attention="none"`` has no maps: ValueError.
        """
        check_is_fitted(self, "encoder_")
        return self._attention_maps(self._collection(X))

    # -- model file ---------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write params, weights and normalisation statistics to one ``.tsea`` file (atomic).

        Every parameter must be a plain JSON value: ``trainer_kwargs`` holding objects (e.g.
        Lightning callbacks) or a RandomState ``random_state`` give a ValueError; use pickle or
        joblib for such models.
        """
        check_is_fitted(self, "encoder_")
        params = self.get_params()
        if not (params["random_state"] is None or isinstance(params["random_state"], int)):
            raise ValueError("cannot save: random_state must be an int or None in a model file")
        meta = {
            "tsea_version": tsea.__version__,
            "encoder_config": self.encoder_.config,
            "n_channels": int(self.n_channels_),
            "seed": int(self.seed_),
        }
        arrays = {}
        for name, tensor in self.encoder_.state_dict().items():
            arrays[f"weights/{name}"] = tensor.detach().cpu().numpy()
        if self.channel_mean_ is not None:
            arrays["channel_mean"] = self.channel_mean_
            arrays["channel_std"] = self.channel_std_
        modelfile.write_model(path, _KIND, params, meta, arrays)

    @classmethod
    def load(cls, path) -> EAEncoder:
        """Load a model written by :meth:`save` (no code is executed while loading)."""
        params, meta, arrays = modelfile.read_model(path, kind=_KIND)
        params = {**PARAMS_BEFORE_THEY_EXISTED, **params}  # files from before a parameter existed
        try:
            est = cls(**params)
            encoder = _nn.EADCEncoder(**meta["encoder_config"])
            state = {
                name[len("weights/") :]: torch.from_numpy(np.array(value))
                for name, value in arrays.items()
                if name.startswith("weights/")
            }
            encoder.load_state_dict(state, strict=True)
            est.encoder_ = encoder.eval()
            est.n_channels_ = int(meta["n_channels"])
            est.seed_ = int(meta["seed"])
            if params.get("normalize") == "channel":
                est.channel_mean_ = arrays["channel_mean"].astype(np.float32)
                est.channel_std_ = arrays["channel_std"].astype(np.float32)
            else:
                est.channel_mean_ = est.channel_std_ = None
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"{str(path)!r} is not a valid EAEncoder model file ({exc})") from None
        return est

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
