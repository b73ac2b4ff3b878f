"""EAEncoder: the EA-DC-Transformer as a scikit-learn transformer (fit = pre-training)."""

from __future__ import annotations

import pandas as pd
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_is_fitted

from tsea.data.convert import series_index
from tsea.estimators._base import _EABase, table_parameters

_OWN = "own"  # transform's pooling default: the estimator's ``pooling`` parameter


@table_parameters(task=None)
class EAEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _EABase):
    """Unsupervised EA-DC-Transformer encoder with the scikit-learn transformer API.

    ``fit(X)`` pre-trains the encoder without labels; ``transform(X)`` returns one float32
    embedding per series, pooled as ``pooling`` says. X is any input form of DESIGN.md: an
    ndarray (n, C, L) or (n, L), a list of (C, L_i) arrays, an sktime nested or a long pandas
    DataFrame; NaN marks missing values, unequal lengths are fine.

    {parameters}

    Attributes
    ----------
    encoder_ : tsea.nn.EADCEncoder or tsea.nn.EncoderEnsemble
        The pre-trained network (in eval mode, on the CPU); with ``n_encoders > 1`` the
        ensemble of the independently pre-trained encoders.
    depth_ : int
        Blocks of the fitted encoder (``depth="auto"`` resolved).
    n_channels_ : int
        Channels of the training series; transform refuses others.
    train_length_ : int
        Steps of the longest training series: the window of ``readout="canvas"`` (None for a
        model saved before it was stored).
    channel_mean_, channel_std_ : ndarray of shape (n_channels_,) or None
        Normalisation statistics (``normalize="channel"``); of shape (2 * n_channels_,) with
        ``differences=True`` (the values' channels, then their differences').
    seed_ : int
        The seed the fit used (drawn when ``random_state`` is None).

    Notes
    -----
    In a pipeline with ``set_output(transform="pandas")`` transform returns a DataFrame: one
    row per series, columns ``get_feature_names_out()`` ("eaencoder0", "eaencoder1", ...). Its
    index is the series' ids where the input has them (a nested DataFrame's index; a long
    table's ids, in order of first appearance), else 0, 1, ... .

    ``EAEncoder.load`` also reads an ``EAClassifier`` or ``EARegressor`` file and returns its
    encoder (fine-tuned, with ``head="finetune"``), so that ``tsea embed`` and ``tsea
    attention`` take those files too.

    Examples
    --------
    >>> import tsea
    >>> X, _ = tsea.datasets.load("BasicMotions", split="train")
    >>> enc = tsea.EAEncoder(n_iters=5, random_state=0).fit(X)
    >>> enc.transform(X).shape
    (40, 640)
    >>> enc.transform(X, pooling=None).shape  # per-step representations
    (40, 100, 640)
    """

    _also_loads = ("EAClassifier", "EARegressor")

    def fit(self, X, y=None, *, resume_from=None):
        """Pre-train the encoder on X (labels are ignored). ``resume_from``: a checkpoint that
        an interrupted fit of the same data and parameters wrote to its ``run_dir``
        (``run_dir/checkpoints/last.ckpt``); training continues from its weights, optimizer
        state, step count and random draws up to ``n_iters`` steps in all, so that in one
        process the result equals that of the uninterrupted fit."""
        with self._fitting():
            self._check_params()
            coll = self._collection(X)
            if y is not None and len(y) != coll.n_series:
                raise ValueError(f"y has {len(y)} entries but X has {coll.n_series} series")
            self._fit_encoder(coll, resume_from=resume_from)
        return self

    def transform(self, X, pooling=_OWN):
        """Embed X.

        ``pooling`` defaults to the estimator's ``pooling`` parameter. "max", "mean" or "last"
        pool over each series' valid steps and return (n, repr_dim) float32; "max+mean"
        concatenates the max- and mean-pooled vectors, (n, 2 * repr_dim); None returns
        per-step representations (n, L_max, repr_dim) with NaN beyond each series' length.
        """
        check_is_fitted(self, "encoder_")
        coll = self._collection(X)
        pooling = self.pooling if pooling == _OWN else pooling
        Z = self._embed(coll, pooling=pooling)
        table = _get_output_config("transform", self)["dense"]
        if table == "default":
            return Z
        if Z.ndim != 2 or Z.shape[1] != self._n_features_out:
            raise ValueError(
                f"transform(pooling={pooling!r}) gives an array of shape {Z.shape}, but "
                f"set_output(transform={table!r}) makes tables of the {self._n_features_out} "
                f"columns of get_feature_names_out() (pooling={self.pooling!r}); call "
                "set_output(transform='default') for this pooling"
            )
        if table == "pandas" and isinstance(X, pd.DataFrame):
            # scikit-learn would take X's index, which a long table has one row per step in
            return pd.DataFrame(Z, index=series_index(X, coll.ids), copy=False)
        return Z

    @property
    def _n_features_out(self) -> int:
        """Columns of the default transform (for ``get_feature_names_out``)."""
        check_is_fitted(self, "encoder_")
        return int(self.encoder_.config["repr_dim"]) * (2 if self.pooling == "max+mean" else 1)

    def attention_maps(self, X) -> list:
        """Attention probabilities of every attention sub-layer, one array per series.

        Returns a list of float32 arrays of shape (n_attention_layers, n_heads, L', L'), where
        L' <= max_attention_len is the number of attention tokens of that series; with
        ``n_encoders > 1`` the encoders' heads follow each other (n_encoders * n_heads heads).
        ``attention="none"`` has no maps: ValueError.
        """
        check_is_fitted(self, "encoder_")
        return self._attention_maps(self._collection(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
