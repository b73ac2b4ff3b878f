"""LightningDataModule over the internal collection form (NaN-padded float32 (n, C, L) + lengths).

Batches are ``(x, lengths)`` (or ``(x, lengths, y)`` when targets are given, or
``(x, lengths, index)`` with ``return_index=True``: the series' positions in ``X``):

* a series longer than ``max_train_length`` is replaced, each time it is drawn for training, by
  a random window of ``max_train_length`` steps inside its valid range (validation batches use
  the centred window, so validation losses are comparable across epochs);
* every batch is trimmed to its own longest valid length (padding costs nothing);
* shuffling and crops are seeded: the same ``seed`` gives the same batches. Under a distributed
  strategy Lightning swaps in a ``DistributedSampler`` and the crop generator is offset by the
  process rank;
* in one process the training loader is resumable: a checkpoint holds (as the data module's
  state) its generators' states at the start of the current epoch and the number of batches
  the trainer had finished; a data module built with that state (``resume``) replays those
  draws, so the batches that follow are the ones an uninterrupted fit would have drawn.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

__all__ = ["SeriesDataModule", "SupervisedDataModule", "window_batch"]


class _Indices(Dataset):
    def __init__(self, indices: np.ndarray):
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> int:
        return int(self.indices[i])


def window_batch(X: torch.Tensor, lengths: torch.Tensor, starts: torch.Tensor, width: int):
    """Gather windows ``X[i, :, starts_i : starts_i + width]`` clipped to each series' length.

    Returns ``(x, new_lengths)`` with ``x`` NaN-padded and trimmed to ``max(new_lengths)``.
    """
    new_lengths = torch.minimum(lengths - starts, torch.full_like(lengths, width))
    out_width = int(new_lengths.max())
    B, C, Lmax = X.shape
    steps = torch.arange(out_width)
    idx = (starts[:, None] + steps[None, :]).clamp_max(Lmax - 1)
    x = X.gather(2, idx[:, None, :].expand(B, C, out_width))
    inside = steps[None, :] < new_lengths[:, None]
    x = x.masked_fill(~inside[:, None, :], float("nan"))
    return x, new_lengths


class _ResumableLoader(DataLoader):
    """A DataLoader that can start in the middle of an epoch exactly where a checkpoint left it.

    :meth:`replay_state` is the random generators' states when the current epoch's iterator was
    made, and the trainer's count of that epoch's batches: trained on, and through their
    end-of-batch hooks. Lightning fetches a batch ahead of the one it trains on, so the
    loader's own count would be one too many. Built with such a state (``resume``), its first
    iteration replays that epoch through the same code (the same draws in the same order),
    drops the batches trained on and goes on from there. Replaying costs one batch assembly per
    dropped batch, no training.

    The state travels in the data module's part of the checkpoint and is read by ``pretrain``
    before the trainer starts, not through Lightning's loader hooks: Lightning may iterate the
    loader before it restores a checkpoint (to estimate the step count of a ``max_epochs``
    budget), and then never hands the loader its saved state. ``state_dict`` and
    ``load_state_dict`` are here only so that Lightning counts the loader as resumable.
    """

    def __init__(self, *args, generators, progress, resume=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._generators = tuple(generators)
        self._progress = progress  # () -> the trainer's batch progress of the current epoch
        self._epoch_start = None
        self._resume = resume or None

    def __iter__(self):
        resume, self._resume = self._resume, None
        if resume is not None:
            for generator, state in zip(self._generators, resume["generators"]):
                generator.set_state(state)
        self._epoch_start = [g.get_state() for g in self._generators]
        batches = super().__iter__()
        if resume is None:
            return batches
        for _ in range(resume["processed"]):
            next(batches)
        if resume["processed"] < len(self):
            return batches
        # the trainer stops an epoch at the loader's length without asking for more, so the
        # next epoch's draws start from here. A checkpoint from the epoch-end hooks makes
        # Lightning iterate the finished epoch once more and drop it: give it nothing to draw
        if resume["completed"] >= len(self):
            return iter(())
        return self.__iter__()

    def replay_state(self) -> dict:
        if self._epoch_start is None:  # no epoch started yet: nothing to replay
            return {}
        progress = self._progress()
        return {"generators": self._epoch_start, "processed": int(progress.processed),
                "completed": int(progress.completed)}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class _Collate:
    """Builds a batch from series indices (runs in the loading process)."""

    def __init__(self, X, lengths, y, max_len: int, generator: torch.Generator | None,
                 return_index: bool = False):
        self.X, self.lengths, self.y = X, lengths, y
        self.return_index = return_index
        self.max_len = max_len
        self.generator = generator  # None = centred windows (validation)

    def __call__(self, indices):
        idx = torch.as_tensor(indices, dtype=torch.long)
        lengths = self.lengths[idx]
        slack = (lengths - self.max_len).clamp_min(0)
        if self.generator is None:
            starts = slack // 2
        else:
            u = torch.rand(len(idx), generator=self.generator, dtype=torch.float64)
            starts = torch.floor(u * (slack + 1).double()).long().clamp_max(slack)
        x, new_lengths = window_batch(self.X[idx], lengths, starts, self.max_len)
        if self.return_index:
            return x, new_lengths, idx
        if self.y is None:
            return x, new_lengths
        return x, new_lengths, self.y[idx]


class SeriesDataModule(L.LightningDataModule):
    """Training (and optional validation) batches over a collection.

    ``X``: float32 (n, C, L) NaN-padded; ``lengths``: int (n,); ``y``: optional targets (n, ...)
    (int64 class codes or float32 values). ``train_idx`` / ``val_idx`` select the series used
    for training / validation (default: all for training, no validation).
    """

    def __init__(
        self,
        X: np.ndarray,
        lengths: np.ndarray,
        y: np.ndarray | None = None,
        *,
        batch_size: int = 8,
        max_train_length: int = 3000,
        seed: int = 0,
        train_idx: np.ndarray | None = None,
        val_idx: np.ndarray | None = None,
        return_index: bool = False,
        resume: dict | None = None,
    ):
        super().__init__()
        if return_index and y is not None:
            raise ValueError("return_index is for unlabelled batches; y must be None")
        self.return_index = bool(return_index)
        self.X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        self.lengths = torch.as_tensor(np.asarray(lengths, dtype=np.int64))
        self.y = None if y is None else torch.as_tensor(np.asarray(y))
        self.batch_size = int(batch_size)
        self.max_train_length = int(max_train_length)
        self.seed = int(seed)
        n = self.X.shape[0]
        self.train_idx = np.arange(n) if train_idx is None else np.asarray(train_idx)
        self.val_idx = None if val_idx is None else np.asarray(val_idx)
        self.resume = resume or None  # the training loader's replay state, from a checkpoint
        self._train_loader = None
        per_epoch = len(self.train_idx) // self._train_batch()  # full batches only
        if self.resume is not None and self.resume["processed"] > per_epoch:
            raise ValueError(
                f"the checkpoint was written after batch {self.resume['processed']} of an "
                f"epoch, but this data and batch_size give {per_epoch} batches an epoch: "
                "resume with the data and parameters of the fit that wrote it")

    def _train_batch(self) -> int:
        return min(self.batch_size, len(self.train_idx))  # so every epoch has a full batch

    def state_dict(self) -> dict:
        """What a checkpoint keeps of the data: the training loader's replay state."""
        loader = self._train_loader
        state = loader.replay_state() if isinstance(loader, _ResumableLoader) else {}
        return {"loader": state} if state else {}

    @classmethod
    def resume_state(cls, checkpoint: dict) -> dict | None:
        """The ``resume`` argument that continues the fit which wrote ``checkpoint`` (a
        Lightning checkpoint, as a dict): what :meth:`state_dict` put there, or None."""
        return checkpoint.get(cls.__qualname__, {}).get("loader")

    def _rank(self) -> int:
        trainer = getattr(self, "trainer", None)
        return 0 if trainer is None else int(trainer.global_rank)

    def train_dataloader(self) -> DataLoader:
        batch = self._train_batch()
        rank = self._rank()
        order = torch.Generator().manual_seed(self.seed)
        crops = torch.Generator().manual_seed(self.seed + 7919 * (rank + 1))
        trainer = getattr(self, "trainer", None)
        resumable = trainer is not None and trainer.world_size == 1
        # under a distributed strategy Lightning rebuilds the loader with its own sampler, which
        # this replay does not know: such a fit resumes at the epoch's start (Lightning warns)
        loader, extra = (_ResumableLoader, dict(
            generators=(order, crops),
            progress=lambda: trainer.fit_loop.epoch_loop.batch_progress.current,
            resume=self.resume,
        )) if resumable else (DataLoader, {})
        self.resume = None  # replayed once, by the first loader
        self._train_loader = loader(
            _Indices(self.train_idx),
            batch_size=batch,
            shuffle=True,
            drop_last=True,  # batch <= n, so every epoch has >= 1 full batch
            generator=order,
            collate_fn=_Collate(self.X, self.lengths, self.y, self.max_train_length, crops,
                                self.return_index),
            num_workers=0,
            **extra,
        )
        return self._train_loader


class SupervisedDataModule(SeriesDataModule):
    """:class:`SeriesDataModule` with a validation loader over ``val_idx`` (centred windows);
    the plain module defines none, so Lightning runs no validation loop for pre-training."""

    def val_dataloader(self) -> DataLoader:
        if self.val_idx is None or len(self.val_idx) == 0:
            return []
        return DataLoader(
            _Indices(self.val_idx),
            batch_size=self.batch_size,
            shuffle=False,
            collate_fn=_Collate(self.X, self.lengths, self.y, self.max_train_length, None),
            num_workers=0,
        )
