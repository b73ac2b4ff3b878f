"""LightningModule for self-supervised pre-training of an encoder."""

from __future__ import annotations

import torch
from torch import nn

from tsea.params import CROPS, HYBRID_MASKS, OBJECTIVES

from .contrastive import contrastive_loss
from .hybrid import hybrid_loss
from .masked import masked_reconstruction_loss
from .runtime import SpawnSafeModule
from .soft import dtw_batch, instance_weights

__all__ = ["PretrainModule", "NonFiniteLossError", "resolve_objective_weights"]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; training was stopped."""


def resolve_objective_weights(objective: str, weights) -> dict[str, float]:
    """Weights of the two losses: ``{"masked": w_m, "contrastive": w_c}``.

    ``masked`` -> (1, 0); ``contrastive`` -> (0, 1); ``hybrid`` -> ``weights`` given as a dict
    with those two keys or a pair ``(w_masked, w_contrastive)``; default (0.5, 0.5).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if objective != "hybrid":
        if weights is not None:
            raise ValueError(f"objective_weights only applies to objective='hybrid', not {objective!r}")
        return {"masked": float(objective == "masked"), "contrastive": float(objective != "masked")}
    if weights is None:
        return {"masked": 0.5, "contrastive": 0.5}
    if isinstance(weights, dict):
        unknown = set(weights) - {"masked", "contrastive"}
        if unknown:
            raise ValueError(f"objective_weights has unknown keys {sorted(unknown)}; use 'masked', 'contrastive'")
        pair = (weights.get("masked", 0.0), weights.get("contrastive", 0.0))
    else:
        try:
            pair = tuple(weights)
        except TypeError:
            raise ValueError(f"objective_weights must be a dict or a pair, got {weights!r}") from None
        if len(pair) != 2:
            raise ValueError(f"objective_weights must be a pair (masked, contrastive), got {weights!r}")
    try:
        w = {"masked": float(pair[0]), "contrastive": float(pair[1])}
    except (TypeError, ValueError):
        raise ValueError(f"objective_weights must be numbers, got {weights!r}") from None
    if any(not (v >= 0 and v < float("inf")) for v in w.values()) or sum(w.values()) == 0:
        raise ValueError(f"objective_weights must be finite, >= 0 and not all 0, got {weights!r}")
    return w


class PretrainModule(SpawnSafeModule):
    """Wraps an encoder (and, for masked reconstruction, a linear head) for pre-training.

    Logs ``train_loss`` (per step and per epoch); AdamW, its learning rate rising linearly to
    ``lr`` over the first ``warmup`` share of the steps; gradients clipped to norm
    ``grad_clip``; raises :class:`NonFiniteLossError` naming the step on a NaN/inf loss.
    Random masks and crops come from a CPU generator seeded with ``seed`` (+ process rank).
    """

    def __init__(
        self,
        encoder: nn.Module,
        n_channels: int,
        repr_dim: int,
        *,
        weights: dict[str, float],
        lr: float = 1e-3,
        seed: int = 0,
        mask_ratio: float = 0.15,
        mask_mean_length: float = 3.0,
        grad_clip: float = 5.0,
        warmup: float = 0.0,
        verbose: bool = False,
        num_threads: int | None = None,
        hybrid_masks: str = "values",
        crops: str = "valid",
        soft_instance=None,
        soft_temporal: float | None = None,
        soft_batch_tau: float | None = None,
    ):
        super().__init__()
        if crops not in CROPS:
            raise ValueError(f"crops must be one of {CROPS}, got {crops!r}")
        self.crops = crops
        if hybrid_masks not in HYBRID_MASKS:
            raise ValueError(f"hybrid_masks must be one of {HYBRID_MASKS}, got {hybrid_masks!r}")
        self.hybrid_masks = hybrid_masks
        self.num_threads = num_threads
        self.encoder = encoder
        self.weights = dict(weights)
        self.recon_head = nn.Linear(repr_dim, n_channels) if self.weights["masked"] > 0 else None
        self.lr = lr
        self.seed = int(seed)
        self.mask_ratio = mask_ratio
        self.mask_mean_length = mask_mean_length
        self.grad_clip = grad_clip
        if not 0 <= warmup < 1:
            raise ValueError(f"warmup must be in [0, 1), got {warmup!r}")
        self.warmup = warmup
        self.verbose = verbose
        self._generator = None
        self._saved_rng = None  # generator states from a checkpoint, applied at fit start
        # SoftCLT: (n, n) instance weights over the training series (batches carry their
        # indices) and the temporal tau; None: TS2Vec's hard targets
        self.soft_instance = None if soft_instance is None else torch.as_tensor(soft_instance)
        self.soft_temporal = soft_temporal
        # SoftCLT with soft_scope="batch": instance weights from DTW among each batch's series
        if soft_batch_tau is not None and soft_instance is not None:
            raise ValueError("give soft_instance (a training-set matrix) or soft_batch_tau, not both")
        self.soft_batch_tau = soft_batch_tau

    def on_fit_start(self) -> None:
        rank = int(self.global_rank)
        self._generator = torch.Generator().manual_seed(self.seed + 104729 * rank)
        saved, self._saved_rng = self._saved_rng, None
        if saved:  # resuming: the draws go on where the checkpoint left them
            self._generator.set_state(saved["objective"])
            torch.set_rng_state(saved["torch"])
            if "cuda" in saved and self.device.type == "cuda":
                torch.cuda.set_rng_state(saved["cuda"], self.device)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # the objective's masks and crops and the global generator (dropout) continue from
        # here on resume, as they would in an uninterrupted fit (one process only: the
        # checkpoint is rank 0's, and other ranks must not take its states)
        if self._generator is None or self.trainer.world_size != 1:
            return
        state = {"objective": self._generator.get_state(), "torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        checkpoint["tsea_rng"] = state

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._saved_rng = checkpoint.get("tsea_rng")

    def compute_loss(
        self, x: torch.Tensor, lengths: torch.Tensor, index: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The objective on one batch; ``index`` (B,): the batch's series in the training set
        (needed with ``soft_instance``)."""
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(self.seed)
        w = self.weights
        mask_kwargs = dict(ratio=self.mask_ratio, mean_length=self.mask_mean_length, generator=self._generator)
        soft = {"temporal_tau": self.soft_temporal, "instance_weights": None}
        if self.soft_instance is not None:
            if index is None:
                raise ValueError("soft instance weights need the batch's series indices")
            idx = index.to(self.soft_instance.device).long()
            soft["instance_weights"] = self.soft_instance[idx][:, idx].to(x.device)
        elif self.soft_batch_tau is not None:
            distances = dtw_batch(x.detach().cpu().numpy(), lengths.cpu().numpy())
            soft["instance_weights"] = torch.from_numpy(
                instance_weights(distances, self.soft_batch_tau)).to(x.device)
        if w["masked"] > 0 and w["contrastive"] > 0:
            loss = hybrid_loss(
                self.encoder, self.recon_head, x, lengths, weights=w, masks=self.hybrid_masks,
                crops=self.crops, **mask_kwargs, **soft,
            )
        elif w["masked"] > 0:
            loss = w["masked"] * masked_reconstruction_loss(self.encoder, self.recon_head, x, lengths, **mask_kwargs)
        else:
            loss = w["contrastive"] * contrastive_loss(
                self.encoder, x, lengths, generator=self._generator, crops=self.crops, **soft
            )
        return loss

    def training_step(self, batch, batch_idx):
        x, lengths = batch[0], batch[1]
        loss = self.compute_loss(x, lengths, batch[2] if len(batch) > 2 else None)
        if not bool(torch.isfinite(loss)):
            raise NonFiniteLossError(
                f"pre-training loss became {float(loss.detach())} at optimizer step {self.global_step} "
                f"(epoch {self.current_epoch}, batch {batch_idx}); training stopped, the "
                "encoder passed in is left unchanged. Try a lower lr or check the inputs' scale."
            )
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        clip = self.grad_clip if gradient_clip_val is None else gradient_clip_val
        if clip:
            self.clip_gradients(optimizer, gradient_clip_val=clip, gradient_clip_algorithm="norm")

    def warmup_steps(self) -> int:
        """Optimizer steps of the warm-up (0: none): ``warmup`` of the Trainer's step count."""
        if not self.warmup:
            return 0
        return max(1, round(self.warmup * self.trainer.estimated_stepping_batches))

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr)
        n_warm = self.warmup_steps()
        if not n_warm:
            return optimizer
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: min(1.0, (k + 1) / n_warm))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
