"""Attention-augmented dilated convolution sub-layers, and the two ways of stacking them.

A sub-layer maps x (B, C_in, L) to (B, C_out, L). How the attention output joins the
convolution's (``merge``):
- ``"concat"`` (the EA-DC-Transformer authors'):
  ``h = concat(dilated_conv(x) [C_out - d_v channels], attention(x) [d_v channels])``;
- ``"gated"``: ``h = dilated_conv(x) [C_out channels] + W_g attention(x)``, with ``W_g`` a 1x1
  convolution d_v -> C_out initialised at zero. The convolution keeps every channel, and the
  network starts as the attention-free backbone; training opens the gate only as far as the
  attention maps lower the loss.
Without attention (``attention=None``) the conv produces all C_out channels.

``paired_init=True`` makes the sub-layers of the attention modes start alike at the same seed:
the convolution is drawn C_out rows wide, as without attention, and keeps its first C_out - d_v
rows; the gate draws nothing (it starts at zero). Built after :func:`own_stream` attention, such
a sub-layer takes from torch's generator exactly what the attention-free one takes, so every
later weight of the network starts the same in every mode.

The convolution is padded on the left only (``causal=True``: the output at step t sees steps <= t)
or on both sides (``causal=False``, TS2Vec's "same" padding). With both-sided padding a valid step
could see the padding after a shorter series, so invalid steps are zeroed before every
convolution: padding then reads exactly as the zero padding at the end of a series alone.

Blocks (two sub-layers with the same dilation; attention logits flow through both):
- ``"transformer"`` (the EA-DC-Transformer authors' layout): each sub-layer is followed by a
  position-wise feed-forward layer and a per-step LayerNorm,
  ``x = LayerNorm(residual(x) + dropout(FFN(h)))``;
- ``"preact"`` (TS2Vec's layout): a pre-activation GELU residual block, no FFN, no normalisation,
  ``x = x + s2(gelu(s1(gelu(x))))``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsea.params import ATTENTION_MERGES as MERGES
from tsea.params import BLOCKS

from .attention import EvolvingAttention

__all__ = ["AttentionDilatedConv", "EADCBlock", "BLOCKS", "MERGES", "own_stream"]

T = TypeVar("T")


def own_stream(build: Callable[[], T], key) -> T:
    """``build()`` with torch's CPU generator seeded from its current seed and ``key``; the
    generator is then restored, so the draws of ``build`` leave the main stream where it was.
    Different keys give different streams; the same seed and key the same one."""
    digest = hashlib.blake2b(repr((torch.initial_seed(), key)).encode(), digest_size=8).digest()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int.from_bytes(digest, "little") % 2**63)
        return build()


class AttentionDilatedConv(nn.Module):
    """One attention-augmented dilated convolution sub-layer; with ``transformer=True`` also its
    FFN, residual connection and LayerNorm (the transformer block's sub-layer)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int,
        attention: EvolvingAttention | None = None,
        ffn_ratio: float = 2.0,
        dropout: float = 0.0,
        causal: bool = True,
        transformer: bool = True,
        merge: str = "concat",
        paired_init: bool = False,
    ):
        super().__init__()
        if merge not in MERGES:
            raise ValueError(f"merge must be one of {MERGES}, got {merge!r}")
        gated = attention is not None and merge == "gated"
        d_v = attention.d_v if attention is not None and not gated else 0
        if d_v >= out_channels:
            raise ValueError(
                f"attention channels d_v={d_v} must be fewer than out_channels={out_channels}"
            )
        span = (kernel_size - 1) * dilation
        # Same padding for an even span is one step longer on the left (the output keeps L).
        self.pad = (span, 0) if causal else (span - span // 2, span // 2)
        self.causal = causal
        self.transformer = transformer
        if paired_init and d_v:
            full = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)
            self.conv = nn.utils.skip_init(
                nn.Conv1d, in_channels, out_channels - d_v, kernel_size, dilation=dilation
            )
            with torch.no_grad():  # the same fan-in, so the same distribution as a narrow draw
                self.conv.weight.copy_(full.weight[: out_channels - d_v])
                self.conv.bias.copy_(full.bias[: out_channels - d_v])
        else:
            self.conv = nn.Conv1d(in_channels, out_channels - d_v, kernel_size, dilation=dilation)
        self.attention = attention
        if gated:
            if paired_init:
                self.gate = nn.utils.skip_init(nn.Conv1d, attention.d_v, out_channels, 1, bias=False)
            else:
                self.gate = nn.Conv1d(attention.d_v, out_channels, 1, bias=False)
            nn.init.zeros_(self.gate.weight)
        if transformer:
            hidden = max(1, int(round(ffn_ratio * out_channels)))
            # Position-wise layers act on (B, L, C) views: Linear maps to a plain matrix product.
            self.ffn = nn.Sequential(
                nn.Linear(out_channels, hidden),
                nn.GELU(),
                nn.Linear(hidden, out_channels),
            )
            self.residual = (
                nn.Identity() if in_channels == out_channels
                else nn.Linear(in_channels, out_channels)
            )
            self.norm = nn.LayerNorm(out_channels)
            self.dropout = nn.Dropout(dropout)

    def dilated_conv(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """The convolutional path alone. Causal: the output at step t depends on x[..., :t+1]
        only. Otherwise ``mask`` (B, L) marks the valid steps; the others are read as zeros."""
        if not self.causal and mask is not None:
            x = x * mask.unsqueeze(1).to(x.dtype)
        weight, left, right = self._live_taps(x.shape[-1])
        dilation = self.conv.dilation[0]
        if left == right:  # torch's own padding: several times faster than F.pad at large dilations
            return F.conv1d(x, weight, self.conv.bias, dilation=dilation, padding=left)
        return F.conv1d(F.pad(x, (left, right)), weight, self.conv.bias, dilation=dilation)

    def _live_taps(self, length: int) -> tuple[Tensor, int, int]:
        """The kernel taps that can read a step of a length-``length`` input, and the padding they
        need. A tap whose offset is ``length`` or more steps away reads only padding (zeros) at
        every output step, so dropping it changes no output and no gradient; at the top
        dilations of a short series that leaves one tap, a 1x1 convolution."""
        left, right = self.pad
        dilation, k = self.conv.dilation[0], self.conv.kernel_size[0]
        live = [j for j in range(k) if -length < j * dilation - left < length]
        if not live:
            return self.conv.weight, left, right
        first, last = live[0], live[-1]
        left_live, right_live = left - first * dilation, last * dilation - left
        if left_live < 0 or right_live < 0:  # the live taps all lie on one side of the step
            return self.conv.weight, left, right
        return self.conv.weight[:, :, first : last + 1], left_live, right_live

    def forward(
        self, x: Tensor, mask: Tensor, prev_logits: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Returns ``(out (B, C_out, L), logits or prev_logits, attention probs or None)``."""
        h = self.dilated_conv(x, mask)
        probs = None
        logits = prev_logits
        if self.attention is not None:
            a, logits, probs = self.attention(x, mask, prev_logits)
            h = h + self.gate(a) if hasattr(self, "gate") else torch.cat([h, a], dim=1)
        if not self.transformer:
            return h, logits, probs
        h = self.dropout(self.ffn(h.transpose(1, 2)))
        out = self.norm(self.residual(x.transpose(1, 2)) + h).transpose(1, 2)
        return out, logits, probs


class EADCBlock(nn.Module):
    """Two sub-layers with the same dilation; logits flow through both. ``preact``: the
    sub-layers carry no FFN or norm, and the block is ``x + s2(gelu(s1(gelu(x))))``;
    ``projector`` (e.g. a 1x1 convolution) maps the residual ``x`` when the block changes the
    number of channels."""

    def __init__(
        self, first: AttentionDilatedConv, second: AttentionDilatedConv, preact=False,
        projector: nn.Module | None = None,
    ):
        super().__init__()
        if projector is not None and not preact:
            raise ValueError("a residual projector needs preact=True")
        self.layers = nn.ModuleList([first, second])
        self.preact = preact
        self.projector = projector

    def forward(
        self, x: Tensor, mask: Tensor, prev_logits: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, list[Tensor]]:
        maps = []
        h = x
        for layer in self.layers:
            if self.preact:
                h = F.gelu(h)
            h, prev_logits, probs = layer(h, mask, prev_logits)
            if probs is not None:
                maps.append(probs)
        if not self.preact:
            return h, prev_logits, maps
        residual = x if self.projector is None else self.projector(x)
        return residual + h, prev_logits, maps
