"""EADCEncoder: the EA-DC-Transformer encoder (pure torch).

Per-step input projection (NaN -> 0 first; invalid steps and ``proj_mask``-ed steps zeroed after
it), ``depth`` blocks of two attention-augmented dilated conv sub-layers (block i: dilation
2**i; ``block`` and ``causal`` choose the layout and the padding, see :mod:`tsea.nn.blocks`), then
a per-step projection to ``repr_dim`` or, with ``output_block=True``, TS2Vec's output block (a
pre-activation block ``d_model -> repr_dim`` with dilation ``2**depth`` and a 1x1 convolution on
its residual path). With ``block="preact"``, as TS2Vec, the representations are dropped out
while training. The attention logits flow from each attention sub-layer to the
next (``mode``); ``mode="none"`` is the plain dilated CNN.
There is no positional table: any length runs.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor, nn

from tsea.params import (
    ATTENTION_MODES,
    ATTENTION_PLACES,
    AUTO_MAX_DEPTH,
    MAP_INITS,
    NN_NAMES,
    legacy_values,
)

from .attention import EvolvingAttention, head_dims
from .blocks import BLOCKS, MERGES, AttentionDilatedConv, EADCBlock, own_stream
from .pooling import valid_mask

__all__ = ["EADCEncoder", "receptive_field", "covering_depth"]


def receptive_field(depth: int, kernel_size: int = 3) -> int:
    """Steps of input that one output step's conv path spans (its past with causal padding,
    centred on it with same padding):
    ``1 + 2 (kernel_size - 1) (2**depth - 1)`` (two convolutions per block, block i dilated 2**i).
    Attention is not counted: it is global."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth must be a non-negative integer, got {depth!r}")
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
        raise ValueError(f"kernel_size must be a positive integer, got {kernel_size!r}")
    return 1 + 2 * (kernel_size - 1) * (2**depth - 1)


def covering_depth(length: int, kernel_size: int = 3, max_depth: int = AUTO_MAX_DEPTH) -> int:
    """The smallest depth in ``[1, max_depth]`` whose receptive field covers ``length`` steps;
    ``max_depth`` when none does (e.g. 24 steps -> 3, 131 -> 6, 512 -> 7 with kernel 3)."""
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError(f"max_depth must be a positive integer, got {max_depth!r}")
    for depth in range(1, max_depth):
        if receptive_field(depth, kernel_size) >= length:
            return depth
    return max_depth


# The constructor arguments, in order: ``EADCEncoder(**encoder.config)`` rebuilds the network.
_CONFIG_NAMES = (
    "in_channels", "repr_dim", "d_model", "depth", "kernel_size", "mode", "n_heads", "k_ratio",
    "v_ratio", "alpha", "beta", "reuse_heads", "max_attention_len", "dropout", "ffn_ratio",
    "block", "causal", "attention_blocks", "output_block", "attention_merge", "attention_norm",
    "map_init", "attention_place", "paired_init",
)


class EADCEncoder(nn.Module):
    """Encoder mapping x (B, C, L) (NaN = missing/padding) to per-step representations
    (B, L, repr_dim). See docs/INTERNALS.md for the call contract."""

    def __init__(
        self,
        in_channels: int,
        repr_dim: int = 640,
        d_model: int = 64,
        depth: int = 10,
        kernel_size: int = 3,
        mode: str = "evolving",
        n_heads: int = 8,
        k_ratio: float = 0.25,
        v_ratio: float = 0.25,
        alpha: float = 0.5,
        beta: float = 0.3,
        reuse_heads: int = 4,
        max_attention_len: int = 64,
        dropout: float = 0.1,
        ffn_ratio: float = 2.0,
        block: str = "preact",
        causal: bool = False,
        attention_blocks: int | None = 3,
        output_block: bool = False,
        attention_merge: str = "concat",
        attention_norm: bool = True,
        map_init: str = "torch",
        attention_place: str = "top",
        paired_init: bool = False,
    ):
        arguments = dict(locals())
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("repr_dim", repr_dim),
            ("d_model", d_model),
            ("depth", depth),
            ("kernel_size", kernel_size),
            ("n_heads", n_heads),
            ("max_attention_len", max_attention_len),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if mode not in ATTENTION_MODES:
            raise ValueError(f"mode must be one of {ATTENTION_MODES}, got {mode!r}")
        if not 0.0 <= alpha <= 1.0 or not 0.0 <= beta <= 1.0:
            raise ValueError(f"alpha and beta must lie in [0, 1], got alpha={alpha}, beta={beta}")
        if block not in BLOCKS:
            raise ValueError(f"block must be one of {BLOCKS}, got {block!r}")
        if attention_merge not in MERGES:
            raise ValueError(f"attention_merge must be one of {MERGES}, got {attention_merge!r}")
        if not isinstance(causal, bool):
            raise ValueError(f"causal must be True or False, got {causal!r}")
        if not isinstance(output_block, bool):
            raise ValueError(f"output_block must be True or False, got {output_block!r}")
        if not isinstance(attention_norm, bool):
            raise ValueError(f"attention_norm must be True or False, got {attention_norm!r}")
        if not isinstance(paired_init, bool):
            raise ValueError(f"paired_init must be True or False, got {paired_init!r}")
        if map_init not in MAP_INITS:
            raise ValueError(f"map_init must be one of {MAP_INITS}, got {map_init!r}")
        if attention_place not in ATTENTION_PLACES:
            raise ValueError(
                f"attention_place must be one of {ATTENTION_PLACES}, got {attention_place!r}"
            )
        if attention_blocks is not None and (
            isinstance(attention_blocks, bool) or not isinstance(attention_blocks, int)
            or attention_blocks < 1
        ):
            raise ValueError(
                f"attention_blocks must be a positive integer or None, got {attention_blocks!r}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        if mode == "reuse" and not 0 <= reuse_heads <= n_heads:
            raise ValueError(f"reuse_heads must be in [0, n_heads={n_heads}], got {reuse_heads}")
        if k_ratio <= 0 or v_ratio <= 0 or ffn_ratio <= 0:
            raise ValueError("k_ratio, v_ratio and ffn_ratio must be positive")
        self.config = {name: arguments[name] for name in _CONFIG_NAMES}  # JSON-serialisable
        for name in ("k_ratio", "v_ratio", "alpha", "beta", "dropout", "ffn_ratio"):
            self.config[name] = float(self.config[name])
        self.config["reuse_heads"] = int(reuse_heads)
        self.in_channels, self.repr_dim, self.mode = in_channels, repr_dim, mode
        self.input_projection = nn.Linear(in_channels, d_model)
        d_k = head_dims(k_ratio, d_model, n_heads)
        d_v = head_dims(v_ratio, d_model, n_heads)
        if mode != "none" and attention_merge == "concat" and d_v >= d_model:
            raise ValueError(
                f"d_model={d_model} too small for {n_heads} heads: attention would take "
                f"{d_v} of the {d_model} channels"
            )
        # attention_blocks: only that many blocks carry attention (None: every block), at the
        # top of the stack or at its bottom (attention_place)
        n_attended = depth if attention_blocks is None else min(depth, attention_blocks)
        first_attended = depth - n_attended if attention_place == "top" else 0
        attended = range(first_attended, first_attended + n_attended)
        blocks = []
        for i in range(depth):
            layers = []
            for j in range(2):
                attention = None
                if mode != "none" and i in attended:
                    build = functools.partial(
                        EvolvingAttention,
                        d_model, d_k, d_v, n_heads=n_heads, mode=mode, alpha=alpha, beta=beta,
                        reuse_heads=reuse_heads, max_attention_len=max_attention_len,
                        first=(i == first_attended and j == 0), dropout=dropout,
                        norm=attention_norm, map_init=map_init,
                    )
                    attention = own_stream(build, ("attention", i, j)) if paired_init else build()
                layers.append(
                    AttentionDilatedConv(
                        d_model, d_model, kernel_size, 2**i, attention, ffn_ratio, dropout,
                        causal=causal, transformer=(block == "transformer"),
                        merge=attention_merge, paired_init=paired_init,
                    )
                )
            blocks.append(EADCBlock(*layers, preact=(block == "preact")))
        self.blocks = nn.ModuleList(blocks)
        # Only one of the two exists, so older model files keep their state_dict keys.
        if output_block:
            dilation = 2**depth
            self.output_block = EADCBlock(
                AttentionDilatedConv(d_model, repr_dim, kernel_size, dilation, causal=causal,
                                     transformer=False),
                AttentionDilatedConv(repr_dim, repr_dim, kernel_size, dilation, causal=causal,
                                     transformer=False),
                preact=True, projector=nn.Conv1d(d_model, repr_dim, 1),
            )
        else:
            self.output_projection = nn.Linear(d_model, repr_dim)
        # No parameters, so old model files (transformer blocks) keep their state_dict keys.
        self.output_dropout = nn.Dropout(dropout) if block == "preact" else nn.Identity()

    @classmethod
    def from_config(cls, config: dict) -> EADCEncoder:
        """An (untrained) encoder built from ``config`` (``encoder.config``, as saved with a
        model). A layout argument that an older model file lacks takes the value such files were
        built with (the parameter table's ``legacy``, not today's default). A ``map_conv`` key,
        which older model files hold (it picked one of several formulations of the same map
        convolution), is ignored."""
        legacy = {NN_NAMES.get(name, name): value for name, value in legacy_values().items()}
        missing = {k: legacy[k] for k in _CONFIG_NAMES if k not in config and k in legacy}
        return cls(**missing, **{k: v for k, v in config.items() if k != "map_conv"})

    def _check_inputs(self, x, lengths, mask, proj_mask):
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise ValueError("x must be a floating-point torch tensor of shape (batch, channels, length)")
        if x.dim() != 3:
            raise ValueError(f"x must have shape (batch, channels, length), got {tuple(x.shape)}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x has {x.shape[1]} channels, expected {self.in_channels}")
        if x.shape[0] == 0 or x.shape[2] == 0:
            raise ValueError(f"x is empty: shape {tuple(x.shape)}")
        for name, m in (("mask", mask), ("proj_mask", proj_mask)):
            if m is None:
                continue
            if not isinstance(m, Tensor) or m.dtype != torch.bool:
                raise ValueError(f"{name} must be a bool tensor of shape (batch, length)")
            if m.shape != (x.shape[0], x.shape[2]):
                raise ValueError(
                    f"{name} has shape {tuple(m.shape)}, expected {(x.shape[0], x.shape[2])}"
                )

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        mask: Tensor | None = None,
        proj_mask: Tensor | None = None,
        return_attention: bool = False,
    ):
        self._check_inputs(x, lengths, mask, proj_mask)
        valid = valid_mask(x, lengths)
        if mask is not None:
            valid = valid & mask.to(x.device)
        h = self.input_projection(x.nan_to_num(0.0, 0.0, 0.0).transpose(1, 2))  # (B, L, D)
        keep = valid if proj_mask is None else valid & proj_mask.to(x.device)
        h = (h * keep.unsqueeze(-1).to(h.dtype)).transpose(1, 2)  # (B, D, L)
        logits = None
        maps = []
        for block in self.blocks:
            h, logits, block_maps = block(h, valid, logits)
            maps.extend(block_maps)
        if hasattr(self, "output_block"):
            out = self.output_block(h, valid)[0].transpose(1, 2)
        else:
            out = self.output_projection(h.transpose(1, 2))
        out = self.output_dropout(out)
        if return_attention:
            return out, maps
        return out

