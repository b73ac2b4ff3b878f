"""The 3x3 convolution over attention maps, heads as channels (evolving attention).

A full H -> H 3x3 convolution (zero padding 1) over (B, H, T, T) maps, run on a channels-last
copy of the maps: the fastest of the formulations measured on CPU in
``benchmarks/encoder_speed.py`` (BENCHMARKS.md), and the same computation as
``torch.nn.functional.conv2d`` on the maps (tested).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsea.params import MAP_INITS

__all__ = ["MapConv"]


class MapConv(nn.Module):
    """Full 3x3 convolution over (B, H, T, T) attention maps; parameters as ``nn.Conv2d``
    (``weight`` (H, H, 3, 3), ``bias`` (H,)).

    ``init="torch"`` starts the weights as ``nn.Conv2d`` does. ``init="identity"`` starts the
    convolution as the identity (each head's centre tap 1 on itself, all else 0): a random start
    mixes every head's map into every other's with weights of about 0.1, so the maps that
    evolving attention hands on start as noise; the identity start hands them on unchanged and
    lets training learn the neighbourhood and cross-head terms.
    """

    def __init__(self, n_heads: int, init: str = "torch"):
        super().__init__()
        if init not in MAP_INITS:
            raise ValueError(f"map_init must be one of {MAP_INITS}, got {init!r}")
        self.n_heads, self.init = n_heads, init
        self.weight = nn.Parameter(torch.empty(n_heads, n_heads, 3, 3))
        self.bias = nn.Parameter(torch.empty(n_heads))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.init == "identity":
            with torch.no_grad():
                self.weight.zero_()
                self.weight[:, :, 1, 1].copy_(torch.eye(self.n_heads))
                self.bias.zero_()
            return
        # Same initialisation as nn.Conv2d.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1.0 / math.sqrt(self.n_heads * 9)
        nn.init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, init={self.init!r}"

    def forward(self, m: Tensor) -> Tensor:
        m = m.contiguous(memory_format=torch.channels_last)
        return F.conv2d(m, self.weight, self.bias, padding=1).contiguous()
