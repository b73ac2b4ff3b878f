"""tsea.nn: the EA-DC-Transformer encoder in pure torch (no Lightning, no scikit-learn)."""


from .attention import EvolvingAttention
from .encoder import EADCEncoder, covering_depth, receptive_field
from .ensemble import EncoderEnsemble, encoder_from_config
from .map_conv import MapConv
from .pooling import pool, pooled_dim, valid_mask

__all__ = [
    "EADCEncoder",
    "EncoderEnsemble",
    "encoder_from_config",
    "EvolvingAttention",
    "MapConv",
    "valid_mask",
    "pool",
    "pooled_dim",
    "receptive_field",
    "covering_depth",
]
