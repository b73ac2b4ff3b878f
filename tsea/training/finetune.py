"""``finetune``: supervised fine-tuning of an encoder plus a linear head with Lightning.

The head is ``torch.nn.Linear(width, n_outputs)`` applied to pooled representations
(``tsea.nn.pool`` over valid steps; ``width`` is ``tsea.nn.pooled_dim(repr_dim, pooling)``).
A validation split is carved from the training data
(stratified by class for classification, random for regression; numpy only), training stops
early when the validation loss has not improved for ``patience`` epochs (Lightning's
``EarlyStopping``) and the weights of the best validation epoch are restored. With
``val_fraction=0`` there is no validation: training runs for the whole budget.

The head starts from random weights, or from a linear probe (``probe``): a function that is given
the indices of the series left for training once the validation part is held out and returns the
linear layer to start from, fitted on the frozen encoder's embeddings of those series. Fitting
the probe first and fine-tuning after (LP-FT, Kumar et al., ICLR 2022) keeps a random head's
large early gradients from distorting the pre-trained features. The probe is the caller's (the
estimators fit a scikit-learn head), so this layer needs no scikit-learn.
From a probe, the encoder trains without dropout: pre-trained embeddings can vary little between
series, and dropout's noise on them is of the same size (on Adiac the median per-feature noise is
0.64 of the spread between series), so a probe fitted on clean embeddings would meet features it
was not fitted on and its first gradients would undo the pre-training. The start is validated
like every epoch (before the first step), so with early stopping the probe itself is kept when
no epoch improves on it.

Training length: ``n_iters`` optimizer steps and/or ``max_epochs``; with neither, up to 100
epochs with a validation split (early stopping ends it sooner), or the pre-training default
step count (:func:`tsea.training.runtime.default_n_iters`) without one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback, EarlyStopping
from torch import nn

from tsea.nn import pool, pooled_dim, valid_mask
from tsea.params import POOLINGS
from tsea.utils import quiet_lightning, resolve_seed, seeded, thread_limit

from .datamodule import SupervisedDataModule
from .pretrain import _positive_int_or_none, _repr_dim, check_collection
from .runtime import SpawnSafeModule, build_trainer, default_n_iters, named_n_iters, scratch_dir

__all__ = ["finetune", "FinetuneModule", "split_validation"]

TASKS = ("classification", "regression")
#: The encoder's share of the learning rate when the head starts from a probe.
PROBE_ENCODER_LR_SCALE = 0.1
#: Share of the training series (of each class) held out to early-stop fine-tuning.
VAL_FRACTION = 0.2


class FinetuneModule(SpawnSafeModule):
    """Encoder + linear head on pooled representations; cross-entropy or MSE."""

    def __init__(self, encoder, head, *, task, pooling, lr, encoder_lr=None, verbose=False,
                 num_threads=None):
        super().__init__()
        self.encoder_lr = lr if encoder_lr is None else encoder_lr
        self.num_threads = num_threads
        self.encoder, self.head = encoder, head
        self.task, self.pooling, self.lr, self.verbose = task, pooling, lr, verbose

    def forward(self, x, lengths):
        H = self.encoder(x, lengths=lengths)
        return self.head(pool(H, valid_mask(x, lengths), self.pooling))

    def _loss(self, batch):
        x, lengths, y = batch
        out = self(x, lengths)
        if self.task == "classification":
            return F.cross_entropy(out, y.long())
        return F.mse_loss(out, y.to(out.dtype).reshape(out.shape))

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        if not bool(torch.isfinite(loss)):
            from .module import NonFiniteLossError

            raise NonFiniteLossError(
                f"fine-tuning loss became {float(loss.detach())} at optimizer step {self.global_step}; "
                "training stopped, the encoder passed in is left unchanged"
            )
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(batch[0]))
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("val_loss", loss, on_epoch=True, prog_bar=True, batch_size=len(batch[0]), sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.AdamW([
            {"params": self.encoder.parameters(), "lr": self.encoder_lr},
            {"params": self.head.parameters(), "lr": self.lr},
        ])


def _start_loss(trainer, module) -> float:
    """The validation loss of the weights training starts from: the mean over the validation
    series, as Lightning's epoch value of ``val_loss`` is (every process scores all of them, so
    they agree, as the epochs' values do through ``sync_dist``)."""
    was_training = module.training
    module.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in trainer.datamodule.val_dataloader():
            batch = trainer.strategy.batch_to_device(batch)
            total += float(module._loss(batch)) * len(batch[0])
            count += len(batch[0])
    module.train(was_training)
    return total / count


class _RestoreBest(Callback):
    """Keep an in-memory copy of the weights of the best validation epoch; restore at the end.
    With ``start=True`` the weights training starts from are the first candidate. They are
    scored inside ``fit`` (not by a ``Trainer.validate`` before it), so that a strategy that
    trains in other processes (``ddp_spawn``) keeps the score with the weights."""

    def __init__(self, start: bool = False):
        self.best, self.state, self.start = float("inf"), None, start

    def _consider(self, value: float, module) -> None:
        if value < self.best:
            self.best = value
            self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}

    def on_train_start(self, trainer, module):
        if self.start:
            self._consider(_start_loss(trainer, module), module)

    def on_validation_end(self, trainer, module):
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get("val_loss")
        if value is not None:
            self._consider(float(value), module)

    def on_fit_end(self, trainer, module):
        if self.state is not None:
            module.load_state_dict(self.state)


def split_validation(y, task: str, val_fraction: float, seed: int):
    """``(train_idx, val_idx)``: per class ``round(count * val_fraction)`` series (at most
    ``count - 1``) for classification, ``round(n * val_fraction)`` for regression."""
    n = len(y)
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    if val_fraction == 0:
        return np.arange(n), np.array([], dtype=np.int64)
    rng = np.random.default_rng(seed)
    if task == "classification":
        val = []
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            k = min(int(round(len(members) * val_fraction)), len(members) - 1)
            val.extend(members[:k].tolist())
        val = np.sort(np.array(val, dtype=np.int64))
    else:
        k = min(int(round(n * val_fraction)), n - 1)
        val = np.sort(rng.permutation(n)[:k])
    if len(val) == 0:
        raise ValueError(f"val_fraction={val_fraction} leaves no validation series: "
                         f"{no_validation_reason(y, task, val_fraction)}; use a larger "
                         "val_fraction or val_fraction=0 (no early stopping)")
    return np.setdiff1d(np.arange(n), val), val


def no_validation_reason(y, task: str, val_fraction: float = VAL_FRACTION) -> str | None:
    """Why :func:`split_validation` can hold out no series of ``y``, or None when it can."""
    n = len(y)
    if task == "classification":
        counts = np.unique(np.asarray(y), return_counts=True)[1]
        if max(min(int(round(c * val_fraction)), c - 1) for c in counts) > 0:
            return None
        return (f"of each class's series, round(count x {val_fraction}) are held out, which is "
                f"0 for every class here (the largest has {int(counts.max())} series)")
    if min(int(round(n * val_fraction)), n - 1) > 0:
        return None
    return f"round({n} x {val_fraction}) of the {n} series are held out, which is 0"


def _check_targets(y, n, task, n_outputs):
    y = np.asarray(y)
    if y.shape[0:1] != (n,):
        raise ValueError(f"y must have {n} entries (one per series), got shape {y.shape}")
    if task == "classification":
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError("for classification y must be 1-d integer class codes 0..K-1")
        if y.min() < 0 or y.max() >= n_outputs:
            raise ValueError(f"class codes must be in [0, {n_outputs - 1}], got [{y.min()}, {y.max()}]")
        return y.astype(np.int64)
    y = y.astype(np.float32)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[1] != n_outputs:
        raise ValueError(f"regression y must have shape ({n},) or ({n}, {n_outputs}), got {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("regression targets contain NaN or infinite values")
    return y


def _probe_head(probe, train_idx, width: int, n_outputs: int) -> nn.Linear:
    """The probe's linear layer for the training indices, checked to fit the head's shape."""
    head = probe(np.asarray(train_idx))
    if not isinstance(head, nn.Linear) or (head.in_features, head.out_features) != (width, n_outputs):
        got = (f"nn.Linear({head.in_features}, {head.out_features})" if isinstance(head, nn.Linear)
               else type(head).__name__)
        raise ValueError(f"probe must return nn.Linear({width}, {n_outputs}) for these embeddings "
                         f"and outputs, got {got}")
    if not all(bool(torch.isfinite(t).all()) for t in head.parameters()):
        raise ValueError("probe returned a linear layer with NaN or infinite weights")
    return head


def finetune(
    encoder: nn.Module,
    X,
    lengths,
    y,
    *,
    task: str = "classification",
    n_outputs: int,
    pooling: str = "max",
    n_iters: int | None = None,
    max_epochs: int | None = None,
    batch_size: int = 8,
    lr: float = 5e-4,
    val_fraction: float = VAL_FRACTION,
    patience: int = 5,
    max_train_length: int = 3000,
    random_state=None,
    verbose: bool = False,
    trainer_kwargs: dict | None = None,
    device: str = "auto",
    num_threads: int | None = None,
    probe: Callable[[np.ndarray], nn.Linear] | None = None,
) -> tuple[nn.Module, nn.Linear]:
    """Fine-tune ``encoder`` with a new linear head; return ``(encoder, head)`` on the CPU.

    ``y``: int class codes 0..n_outputs-1 (classification) or float targets of shape (n,) or
    (n, n_outputs), already standardised by the caller (regression). ``probe``: see the module
    docstring; called once with the training indices (sorted). The encoder is trained on
    a copy; its weights are copied back only on success (a NaN/inf loss raises
    :class:`~tsea.training.module.NonFiniteLossError`). Nothing is written to disk.
    """
    X, lengths = check_collection(X, lengths)
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    n_outputs = _positive_int_or_none("n_outputs", n_outputs)
    if n_outputs is None:
        raise ValueError("n_outputs must be a positive integer")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    y = _check_targets(y, X.shape[0], task, n_outputs)
    batch_size = _positive_int_or_none("batch_size", batch_size) or 8
    patience = _positive_int_or_none("patience", patience) or 5
    n_iters = _positive_int_or_none("n_iters", named_n_iters(n_iters, X.shape))
    max_epochs = _positive_int_or_none("max_epochs", max_epochs)
    if not (isinstance(lr, (int, float)) and 0 < lr < float("inf")):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    seed = resolve_seed(random_state)
    train_idx, val_idx = split_validation(y if task == "classification" else y[:, 0], task, val_fraction, seed)
    if n_iters is None and max_epochs is None:
        if len(val_idx):
            max_epochs = 100
        else:
            n_iters = default_n_iters(*X.shape)

    width = pooled_dim(_repr_dim(encoder), pooling)
    start = None if probe is None else _probe_head(probe, train_idx, width, n_outputs)
    with quiet_lightning(verbose), thread_limit(num_threads), seeded(seed), scratch_dir() as tmp:
        head = nn.Linear(width, n_outputs)
        trained_encoder = copy.deepcopy(encoder).cpu().train()
        if start is not None:
            head.load_state_dict(start.state_dict())
            # on the copy only: the encoder handed back keeps its dropout
            for module in trained_encoder.modules():
                if isinstance(module, nn.Dropout):
                    module.p = 0.0
        model = FinetuneModule(
            trained_encoder, head, task=task, pooling=pooling, lr=float(lr),
            # from a probe, the encoder moves slowly: its embeddings vary little between series
            encoder_lr=None if start is None else float(lr) * PROBE_ENCODER_LR_SCALE, verbose=verbose,
            num_threads=num_threads,
        )
        data = SupervisedDataModule(
            X, lengths, y, batch_size=batch_size, max_train_length=max_train_length, seed=seed,
            train_idx=train_idx, val_idx=val_idx,
        )
        callbacks = []
        if len(val_idx):
            # not strict: a step budget can end training before the first validation epoch
            # (then the last weights are kept)
            callbacks = [
                EarlyStopping("val_loss", patience=patience, mode="min", strict=False),
                _RestoreBest(start=start is not None),  # from a probe, the start is a candidate
            ]
        trainer = build_trainer(
            root_dir=tmp,
            max_steps=-1 if n_iters is None else n_iters,
            max_epochs=max_epochs,
            verbose=verbose,
            device=device,
            trainer_kwargs=trainer_kwargs,
            callbacks=callbacks,
        )
        trainer.fit(model, datamodule=data)
        trained = {k: v.detach().cpu() for k, v in model.encoder.state_dict().items()}
        head_state = {k: v.detach().cpu() for k, v in model.head.state_dict().items()}

    was_training = encoder.training
    encoder.load_state_dict(trained)
    head = nn.Linear(width, n_outputs)
    head.load_state_dict(head_state)
    return encoder.cpu().train(was_training), head.eval()
