"""The names every layer agrees on: attention modes, poolings, heads, objectives.

Torch-free, so that the command line can parse and check arguments before torch loads.
"""

from __future__ import annotations

#: Attention modes of the encoder; ``"none"`` has no attention channels (the conv backbone).
ATTENTION_MODES = ("none", "vanilla", "residual", "evolving", "reuse")
#: How per-step representations become one vector per series; ``"max+mean"`` concatenates.
POOLINGS = ("max", "mean", "last", "max+mean")
NORMALIZE_MODES = ("channel", "series", None)
OBJECTIVES = ("masked", "contrastive", "hybrid")
#: What the hybrid objective reconstructs (see :mod:`tsea.training.hybrid`).
HYBRID_MASKS = ("values", "timestamps")
CLASSIFICATION_HEADS = ("svm", "ridge", "logistic", "finetune")
REGRESSION_HEADS = ("ridge", "svr", "finetune")
