"""Several encoders of one architecture read side by side as one network.

The estimators' ``n_encoders`` pre-trains its members independently (each on a share of one
fit's step budget); this module only joins their outputs. Every member sees the same input, so
padding, causality and length invariants hold for the ensemble when they hold for a member, and
any per-feature pooling of the joined output equals the members' pooled outputs side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .encoder import EADCEncoder

__all__ = ["EncoderEnsemble", "encoder_from_config"]


class EncoderEnsemble(nn.Module):
    """Encoders with one architecture whose per-step representations are concatenated.

    ``config`` is a member's, with ``repr_dim`` the joined size (``n_encoders`` times the
    member's) and ``n_encoders`` added; :func:`encoder_from_config` rebuilds either kind.
    With ``return_attention=True`` each attention layer's maps hold the members' heads one after
    the other (``n_encoders * n_heads`` heads).
    """

    def __init__(self, members: Sequence[EADCEncoder]):
        super().__init__()
        members = list(members)
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 encoders, got {len(members)}")
        first = members[0].config
        if any(m.config != first for m in members[1:]):
            raise ValueError("the encoders of an ensemble must share one architecture (config)")
        self.members = nn.ModuleList(members)
        self.config = {**first, "repr_dim": int(first["repr_dim"]) * len(members),
                       "n_encoders": len(members)}

    @classmethod
    def from_config(cls, config: dict) -> EncoderEnsemble:
        """An (untrained) ensemble built from ``config`` (``ensemble.config``)."""
        member = dict(config)
        n = int(member.pop("n_encoders"))
        if n < 2 or int(member["repr_dim"]) % n:
            raise ValueError(
                f"n_encoders = {n} must be at least 2 and divide repr_dim = {member['repr_dim']}"
            )
        member["repr_dim"] = int(member["repr_dim"]) // n
        return cls([EADCEncoder.from_config(member) for _ in range(n)])

    def forward(self, x: Tensor, lengths: Tensor | None = None, mask: Tensor | None = None,
                proj_mask: Tensor | None = None, return_attention: bool = False):
        outs = [m(x, lengths=lengths, mask=mask, proj_mask=proj_mask,
                  return_attention=return_attention) for m in self.members]
        if not return_attention:
            return torch.cat(outs, dim=-1)
        maps = [torch.cat(layer, dim=1) for layer in zip(*(maps for _, maps in outs))]
        return torch.cat([out for out, _ in outs], dim=-1), maps


def encoder_from_config(config: dict) -> nn.Module:
    """An untrained :class:`EADCEncoder` or :class:`EncoderEnsemble` from a saved ``config``."""
    if int(config.get("n_encoders", 1)) > 1:
        return EncoderEnsemble.from_config(config)
    return EADCEncoder.from_config({k: v for k, v in config.items() if k != "n_encoders"})
