"""tsea.nn: the EA-DC-Transformer encoder in pure torch (no Lightning, no scikit-learn)."""

from .attention import ATTENTION_MODES, EvolvingAttention
from .encoder import ENCODER_MODES, EADCEncoder, covering_depth, receptive_field
from .map_conv import MAP_CONV_IMPLS, MapConv
from .masking import POOL_METHODS, pool, pooled_dim, valid_mask

__all__ = [
    "EADCEncoder",
    "EvolvingAttention",
    "MapConv",
    "valid_mask",
    "pool",
    "pooled_dim",
    "POOL_METHODS",
    "ENCODER_MODES",
    "ATTENTION_MODES",
    "MAP_CONV_IMPLS",
    "receptive_field",
    "covering_depth",
]
