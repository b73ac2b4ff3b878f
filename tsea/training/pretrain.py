"""``pretrain``: self-supervised pre-training of an encoder with Lightning.

Training length. ``n_iters`` counts optimizer steps, ``max_epochs`` passes over the data; with
both, training stops at whichever comes first. With neither, :func:`default_n_iters` gives
TS2Vec's budget: 200 steps when ``n * C * L <= 100_000`` and 600 above; ``n_iters="ts2vec"``
names that budget (and keeps it when ``max_epochs`` is given too). When resuming, ``n_iters`` is
the total step count including the steps already in the checkpoint.

Distributed training (GPUs, nodes): see :mod:`tsea.training.runtime`.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, WeightAveraging
from lightning.pytorch.loggers import CSVLogger
from torch import nn

from tsea.params import SOFT_SCOPES
from tsea.utils import quiet_lightning, resolve_seed, seeded, thread_limit

from .datamodule import SeriesDataModule
from .module import PretrainModule, resolve_objective_weights
from .runtime import build_trainer, default_n_iters, named_n_iters, scratch_dir
from .soft import dtw_matrix, instance_weights

__all__ = ["pretrain", "check_collection", "checkpoint_seed", "split_budget"]


def check_collection(X, lengths) -> tuple[np.ndarray, np.ndarray]:
    """Validate the internal form: float (n, C, L) without +-inf, int lengths (n,) in [1, L]."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n_series, n_channels, length), got {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"X must be a float array (NaN = missing/padding), got dtype {X.dtype}")
    if 0 in X.shape:
        raise ValueError(f"X is empty: shape {X.shape}")
    X = X.astype(np.float32, copy=False)
    if np.isinf(X).any():
        raise ValueError("X contains infinite values; use NaN for missing values")
    lengths = np.asarray(lengths)
    if lengths.shape != (X.shape[0],):
        raise ValueError(f"lengths must have shape ({X.shape[0]},), got {lengths.shape}")
    if not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be integers, got dtype {lengths.dtype}")
    bad = np.flatnonzero((lengths < 1) | (lengths > X.shape[2]))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"lengths[{i}] = {int(lengths[i])} is outside [1, {X.shape[2]}]")
    return X, lengths.astype(np.int64)


def _positive_int_or_none(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    return int(value)


def _check_share(name, value) -> None:
    if isinstance(value, bool) or not (isinstance(value, (int, float, np.number)) and 0 <= value < 1):
        raise ValueError(f"{name} must be a number in [0, 1) (a share of the steps), got {value!r}")


def training_budget(n_iters, max_epochs, shape) -> tuple[int, int | None]:
    """``(max_steps, max_epochs)`` for the Trainer (see the module docstring)."""
    max_epochs = _positive_int_or_none("max_epochs", max_epochs)
    n_iters = _positive_int_or_none("n_iters", named_n_iters(n_iters, shape))
    if n_iters is None and max_epochs is None:
        n_iters = default_n_iters(*shape)
    return (-1 if n_iters is None else n_iters), max_epochs


def split_budget(n_iters, max_epochs, shape, parts: int) -> dict:
    """``{"n_iters", "max_epochs"}`` for each of ``parts`` encoders that share one fit's budget
    (an ensemble): 1 / parts of the steps (``n_iters``, or TS2Vec's rule when both are None) and
    of ``max_epochs``, rounded up. ``shape`` is the data's (n, C, L), which TS2Vec's rule reads:
    the budget is resolved here, so that channels derived from the data (``differences``) do not
    raise it."""
    max_steps, max_epochs = training_budget(n_iters, max_epochs, shape)
    return {"n_iters": None if max_steps == -1 else -(-max_steps // parts),
            "max_epochs": None if max_epochs is None else -(-max_epochs // parts)}


#: With a ``run_dir``, ``checkpoints/last.ckpt`` is rewritten every this many optimizer steps.
CHECKPOINT_EVERY = 50

def pretrain(
    encoder: nn.Module,
    X,
    lengths,
    *,
    objective: str = "masked",
    objective_weights=None,
    n_iters: int | None = None,
    max_epochs: int | None = None,
    batch_size: int = 8,
    lr: float = 1e-3,
    grad_clip: float = 5.0,
    warmup: float = 0.0,
    max_train_length: int = 3000,
    random_state=None,
    verbose: bool = False,
    trainer_kwargs: dict | None = None,
    run_dir: str | None = None,
    resume_from: str | None = None,
    device: str = "auto",
    num_threads: int | None = None,
    mask_ratio: float = 0.15,
    mask_mean_length: float = 3.0,
    weight_averaging: bool = False,
    averaging_start: float = 0.0,
    hybrid_masks: str = "values",
    crops: str = "valid",
    soft_instance: float | None = None,
    soft_temporal: float | None = None,
    soft_scope: str = "train",
) -> nn.Module:
    """Pre-train ``encoder`` without labels on the collection ``(X, lengths)``; return it.

    ``X``: float (n, C, L) with NaN for missing values and padding; ``lengths``: int (n,).
    ``objective``: "masked" (Zerveas et al. reconstruction, mask ratio ``mask_ratio`` and mean
    masked run ``mask_mean_length``), "contrastive" (TS2Vec) or "hybrid" (weighted sum,
    ``objective_weights`` = {"masked": w, "contrastive": w} or a pair; default 0.5/0.5; both
    losses share the contrastive views' encoder passes, see :mod:`tsea.training.hybrid`;
    ``hybrid_masks`` "values" or "timestamps" chooses what its reconstruction hides;
    ``crops`` "valid", "canvas" or "ts2vec": where the contrastive views are cut and how their
    padding is read, see
    :mod:`tsea.training.contrastive`).
    ``soft_instance`` / ``soft_temporal`` (positive taus, or None for TS2Vec's hard targets):
    SoftCLT's soft contrastive targets, instance-wise from DTW distances between the training
    series, temporally from the lag between steps; see :mod:`tsea.training.soft`.
    ``soft_scope`` "train": the DTW distances among all training series, min-max scaled over
    the training set (SoftCLT's; computed once here, O(n^2 L^2) time, (n, n) memory); "batch":
    among the series of each batch, scaled over the batch (O(B^2 L^2) per step, so bounded by
    the step budget whatever n).
    A copy of the encoder is trained; on success its weights are copied into ``encoder``
    (which is returned on the CPU, in its original train/eval mode); on a NaN/inf loss a
    :class:`~tsea.training.module.NonFiniteLossError` is raised and ``encoder`` is unchanged.

    Nothing is written to disk unless ``run_dir`` is given: then a CSV log per fit
    (``run_dir/logs/version_N``) and checkpoints ``run_dir/checkpoints/last.ckpt`` (every
    ``CHECKPOINT_EVERY`` steps) and ``best.ckpt`` (at the end of the epoch of lowest training
    loss) are kept, replacing an earlier fit's; ``resume_from`` continues from such a
    checkpoint of the same fit (one of other data, seed or training settings is refused),
    from its weights, optimizer state, step count and the random generators' states (in one process
    the batches, crops, masks and dropout after it are those an uninterrupted fit would draw,
    so the result equals that fit's on the same machine; under a distributed strategy the
    batches restart at the checkpoint's epoch, and the result is only close to it).
    ``weight_averaging=True`` returns the equal-weight average of the encoder's weights over
    all optimizer steps (Lightning's ``WeightAveraging`` callback; TS2Vec embeds with the same
    kind of average) instead of the last step's weights; ``averaging_start`` in [0, 1) is the
    share of the steps left out before the average starts (the last step is always in it).
    Checkpoints then hold the average in ``state_dict`` and the last iterate in
    ``current_model_state`` (used when resuming).
    ``grad_clip`` caps the global L2 norm of the gradients before each AdamW step (0: no
    clipping, as TS2Vec trains). ``warmup`` in [0, 1): the share of the optimizer steps (of
    the Trainer's estimate of them with ``max_epochs``) over which the learning rate rises
    linearly to ``lr``; 0: ``lr`` from the first step, as TS2Vec trains.
    ``num_threads`` sets torch's intra-op threads during training only. The same
    ``random_state`` on the same machine gives identical weights.
    """
    X, lengths = check_collection(X, lengths)
    if not isinstance(encoder, nn.Module):
        raise ValueError(f"encoder must be a torch.nn.Module, got {type(encoder).__name__}")
    in_channels = getattr(encoder, "in_channels", X.shape[1])
    if in_channels != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} channels but the encoder expects {in_channels}")
    weights = resolve_objective_weights(objective, objective_weights)
    batch_size = _positive_int_or_none("batch_size", batch_size)
    max_train_length = _positive_int_or_none("max_train_length", max_train_length)
    if batch_size is None or max_train_length is None:
        raise ValueError("batch_size and max_train_length must be positive integers, not None")
    if not (isinstance(lr, (int, float)) and 0 < lr < float("inf")):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if isinstance(grad_clip, bool) or not (
        isinstance(grad_clip, (int, float, np.number)) and 0 <= grad_clip < float("inf")
    ):
        raise ValueError(f"grad_clip must be a number >= 0 (0: no clipping), got {grad_clip!r}")
    _check_share("warmup", warmup)
    if weights["contrastive"] > 0 and max_train_length < 2:
        raise ValueError("the contrastive objective needs max_train_length >= 2")
    if not isinstance(weight_averaging, bool | np.bool_):
        raise ValueError(f"weight_averaging must be True or False, got {weight_averaging!r}")
    weight_averaging = bool(weight_averaging)
    _check_share("averaging_start", averaging_start)
    if resume_from is not None and not os.path.isfile(resume_from):
        raise ValueError(f"resume_from={str(resume_from)!r} is not a checkpoint file")
    for name, tau in (("soft_instance", soft_instance), ("soft_temporal", soft_temporal)):
        if tau is None:
            continue
        if isinstance(tau, bool) or not isinstance(tau, (int, float, np.number)) or not (
            0 < tau < float("inf")
        ):
            raise ValueError(f"{name} must be a positive number or None, got {tau!r}")
    if soft_scope not in SOFT_SCOPES:
        raise ValueError(f"soft_scope must be one of {SOFT_SCOPES}, got {soft_scope!r}")
    if weights["contrastive"] == 0:  # the soft targets only weight the contrastive loss
        soft_instance = soft_temporal = None
    batch_tau = float(soft_instance) if soft_instance is not None and soft_scope == "batch" else None
    max_steps, max_epochs = training_budget(n_iters, max_epochs, X.shape)
    seed = resolve_seed(random_state)
    record = None
    if run_dir is not None or resume_from is not None:
        settings = {"objective_weights": weights, "batch_size": batch_size, "lr": lr,
                    "grad_clip": grad_clip, "warmup": warmup, "max_train_length": max_train_length,
                    "mask_ratio": mask_ratio, "mask_mean_length": mask_mean_length,
                    "averaging_start": averaging_start, "hybrid_masks": hybrid_masks,
                    "crops": crops, "soft_instance": soft_instance,
                    "soft_temporal": soft_temporal, "soft_scope": soft_scope}
        record = _fit_record(X, lengths, seed, settings)
    checkpoint = None if resume_from is None else _read_checkpoint(
        resume_from, max_steps, weight_averaging, record)
    repr_dim = _repr_dim(encoder)

    with quiet_lightning(verbose), thread_limit(num_threads), seeded(seed), scratch_dir() as tmp:
        soft_weights = None
        if soft_instance is not None and batch_tau is None:
            # the DTW matrix is the costly part of a short fit: it gets the training's threads
            distances = dtw_matrix(X, lengths, torch.get_num_threads())
            soft_weights = instance_weights(distances, float(soft_instance))
        model = PretrainModule(
            copy.deepcopy(encoder).cpu().train(),
            X.shape[1],
            repr_dim,
            weights=weights,
            lr=float(lr),
            grad_clip=float(grad_clip),
            warmup=float(warmup),
            seed=seed,
            mask_ratio=mask_ratio,
            mask_mean_length=mask_mean_length,
            verbose=verbose,
            num_threads=num_threads,
            hybrid_masks=hybrid_masks,
            crops=crops,
            soft_instance=soft_weights,
            soft_temporal=None if soft_temporal is None else float(soft_temporal),
            soft_batch_tau=batch_tau,
        )
        data = SeriesDataModule(
            X, lengths, batch_size=batch_size, max_train_length=max_train_length, seed=seed,
            return_index=soft_weights is not None,
            resume=None if checkpoint is None else SeriesDataModule.resume_state(checkpoint),
        )
        callbacks, logger = [], False
        if weight_averaging:
            callbacks.append(_AverageFrom(float(averaging_start)))
        if run_dir is not None:
            # a version folder per fit (logs/version_N): a resumed fit, or a second fit into
            # the same run_dir, writes its own log instead of replacing the earlier one
            logger = CSVLogger(str(run_dir), name="logs")
            # Each fit writes best.ckpt and last.ckpt, replacing those of an earlier fit into
            # the same run_dir (Lightning would write last-v1.ckpt beside them, and resuming
            # from last.ckpt, the documented path, would continue the earlier fit).
            folder = os.path.join(run_dir, "checkpoints")
            callbacks += [
                _FitRecord(record),
                ModelCheckpoint(
                    dirpath=folder,
                    filename="best",
                    monitor="train_loss_epoch",
                    mode="min",
                    save_top_k=1,
                    enable_version_counter=False,
                ),
                # every CHECKPOINT_EVERY steps too: one epoch of a large set can outlast the
                # whole step budget, and an interrupted fit resumes from the last of these
                ModelCheckpoint(
                    dirpath=folder,
                    save_last=True,
                    save_top_k=0,
                    every_n_train_steps=CHECKPOINT_EVERY,
                    save_on_train_epoch_end=True,
                    enable_version_counter=False,
                ),
            ]
        trainer = build_trainer(
            root_dir=tmp,
            max_steps=max_steps,
            max_epochs=max_epochs,
            verbose=verbose,
            device=device,
            trainer_kwargs=trainer_kwargs,
            callbacks=callbacks,
            logger=logger,
        )
        try:
            trainer.fit(model, datamodule=data,
                        ckpt_path=None if resume_from is None else str(resume_from))
        except RuntimeError as exc:
            if resume_from is None or "state_dict" not in str(exc):
                raise
            detail = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else ""
            raise ValueError(
                f"resume_from={str(resume_from)!r} holds a network of another shape: it was "
                f"written by a fit with other parameters or data ({detail})"
            ) from None
        trained = {k: v.detach().cpu() for k, v in model.encoder.state_dict().items()}

    was_training = encoder.training
    encoder.load_state_dict(trained)
    return encoder.cpu().train(was_training)



def _fit_record(X: np.ndarray, lengths: np.ndarray, seed: int, settings: dict) -> dict:
    """What a checkpoint keeps of the fit that wrote it, to refuse resuming another fit from
    it: the seed, a digest of the training data, and the training settings that decide what
    the fit draws and learns, as plain values."""
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(X).tobytes())
    digest.update(np.ascontiguousarray(lengths, dtype=np.int64).tobytes())
    plain = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in settings.items()}
    plain["objective_weights"] = {k: float(w) for k, w in settings["objective_weights"].items()}
    return {"seed": int(seed), "data": f"{X.shape} {X.dtype}, {digest.hexdigest()}", **plain}


class _FitRecord(Callback):
    """Writes :func:`_fit_record`'s record into every checkpoint (key ``tsea_fit``)."""

    def __init__(self, record: dict):
        self.record = record

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        checkpoint["tsea_fit"] = self.record


def checkpoint_seed(path) -> int | None:
    """The seed of the fit that wrote the checkpoint ``path`` (its ``tsea_fit`` record), or
    None when it holds none or cannot be read (resuming then says why): a fit resumed with
    ``random_state=None`` takes it, as the interrupted fit drew it."""
    import torch

    try:
        record = torch.load(path, map_location="cpu", weights_only=False).get("tsea_fit")
        return int(record["seed"])
    except Exception:  # noqa: BLE001 - any unreadable checkpoint is refused by _read_checkpoint
        return None


def _read_checkpoint(path, max_steps: int, weight_averaging: bool, record: dict) -> dict:
    """The checkpoint ``resume_from`` names, read before anything is built: ValueError when it
    is no Lightning checkpoint of a tsea fit, is past this fit's step budget, was written
    with weight averaging on and this fit has it off (or the reverse), or was written by a
    fit of other data, another seed or other training settings (``record``; checkpoints
    written before tsea kept a record are not compared)."""
    import torch

    def refuse(why: str):
        raise ValueError(f"resume_from={str(path)!r} {why}; resume from a checkpoint that a "
                         "fit with run_dir wrote (run_dir/checkpoints/last.ckpt)") from None

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a damaged file
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else "no detail"
        refuse(f"cannot be read as a checkpoint ({type(exc).__name__}: {detail})")
    if not isinstance(checkpoint, dict) or not {"state_dict", "global_step", "loops"} <= set(
            checkpoint):
        refuse("is not a Lightning checkpoint of a pre-training")
    step = int(checkpoint["global_step"])
    if max_steps not in (None, -1) and step > max_steps:
        refuse(f"was written at step {step}, past this fit's budget of {max_steps} steps "
               "(n_iters counts the steps already in the checkpoint)")
    averaged = "current_model_state" in checkpoint
    if averaged != weight_averaging:
        refuse(f"was written by a fit with weight_averaging={averaged}, and this fit has "
               f"weight_averaging={weight_averaging}")
    written = checkpoint.get("tsea_fit")
    if isinstance(written, dict) and written != record:
        if written.get("data") != record["data"]:
            refuse(f"was written by a fit of other training data ({written.get('data')}; this "
                   f"fit's: {record['data']}), after normalisation")
        if written.get("seed") != record["seed"]:
            refuse(f"was written by a fit with seed {written.get('seed')}, and this fit's seed "
                   f"is {record['seed']} (random_state: give the checkpoint's, or None to take "
                   "it from the checkpoint)")
        names = sorted(k for k in record if written.get(k) != record[k])
        refuse("was written by a fit with other settings: " + ", ".join(
            f"{k}={written.get(k)!r} there, {record[k]!r} here" for k in names))
    return checkpoint


class _AverageFrom(WeightAveraging):
    """Lightning's equal-weight average of the weights, over the steps after the first
    ``share`` of the Trainer's step count (at least the last step)."""

    def __init__(self, share: float):
        super().__init__()
        self.share = share
        self.first_step = 0
        self.trained = False

    def setup(self, trainer, pl_module, stage):
        super().setup(trainer, pl_module, stage)
        total = trainer.estimated_stepping_batches
        self.first_step = min(round(self.share * total), max(int(total) - 1, 0))

    def should_update(self, step_idx=None, epoch_idx=None):
        return step_idx is not None and step_idx >= self.first_step

    def on_train_start(self, trainer, pl_module):
        self.trained = True

    def on_fit_end(self, trainer, pl_module):
        # a fit resumed from a checkpoint already at the step budget trains nothing, and Lightning
        # then skips on_train_end, where the average replaces the last step's weights
        if not self.trained:
            self.on_train_end(trainer, pl_module)


def _repr_dim(encoder: nn.Module) -> int:
    config = getattr(encoder, "config", None)
    if isinstance(config, dict) and "repr_dim" in config:
        return int(config["repr_dim"])
    if hasattr(encoder, "repr_dim"):
        return int(encoder.repr_dim)
    raise ValueError("encoder must expose its output size as .config['repr_dim'] or .repr_dim")
