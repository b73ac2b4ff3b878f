"""Shared plumbing of pretrain/finetune: the Trainer, its device, spawn-safe modules.

How one code path serves one CPU, GPUs and several nodes: every fit goes through
:func:`build_trainer`, which only picks defaults (``accelerator`` from ``device``, one device,
no logger/checkpoints unless ``run_dir``) and then applies the caller's ``trainer_kwargs``
verbatim. So ``trainer_kwargs={"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"}``
trains in two local processes, ``{"devices": 4, "strategy": "ddp"}`` on four GPUs, and adding
``"num_nodes": N`` runs on N machines when the script is started on every node by a cluster
launcher (``torchrun``, SLURM; Lightning reads the usual ``MASTER_ADDR``/``NODE_RANK``
variables). With spawn-based strategies Lightning ships the trained weights of rank 0 back to
the calling process; with ``ddp`` every process runs the calling script and ends up with the
same synchronised weights.
"""

from __future__ import annotations

import atexit
import contextlib
import tempfile

import lightning as L
import torch

from tsea.utils import resolve_device, silence_lightning

__all__ = [
    "SpawnSafeModule",
    "trainer_device",
    "build_trainer",
    "default_n_iters",
    "named_n_iters",
]


class SpawnSafeModule(L.LightningModule):
    """LightningModule base that re-applies the caller's quietness and thread count in the
    processes a spawn launcher starts (they inherit neither), and lets every process of a
    distributed fit exit cleanly.
    Subclasses set ``self.verbose`` and ``self.num_threads``."""

    verbose: bool = False
    num_threads: int | None = None

    def __setstate__(self, state):
        super().__setstate__(state)
        if not state.get("verbose", True):
            silence_lightning()

    def setup(self, stage: str) -> None:
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        _release_process_group_at_exit()


_RELEASE_AT_EXIT = []  # holds True once this process has registered the release


def _release_process_group_at_exit() -> None:
    """Destroy the process group when the process exits, before the interpreter's shutdown.

    Lightning does so for NCCL only. A gloo group left to the shutdown was torn down with its
    threads still running in about one ``ddp_spawn`` worker in twenty, which then aborted
    ("terminate called without an active exception") and failed the fit
    (``benchmarks/ddp_spawn_exits.py``, BENCHMARKS.md). Registered once per process, so a
    process that fits several times keeps one group between its fits, as Lightning expects."""
    dist = torch.distributed
    if not _RELEASE_AT_EXIT and dist.is_available() and dist.is_initialized():
        atexit.register(_release_process_group)
        _RELEASE_AT_EXIT.append(True)


def _release_process_group() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def trainer_device(device) -> dict:
    """Trainer kwargs (``accelerator``, ``devices``) for a ``device`` parameter, as
    :func:`tsea.utils.resolve_device` reads it: one CPU, one GPU (``cuda:N``: that one) or MPS."""
    resolved = resolve_device(device)
    if resolved.type == "cuda":
        return {"accelerator": "gpu", "devices": 1 if resolved.index is None else [resolved.index]}
    return {"accelerator": resolved.type, "devices": 1}


def default_n_iters(n_series: int, n_channels: int, length: int) -> int:
    """Number of optimizer steps when neither ``n_iters`` nor ``max_epochs`` is given: TS2Vec's
    budget, 200 steps when ``n * C * L <= 100_000`` and 600 above."""
    return 200 if n_series * n_channels * length <= 100_000 else 600


def named_n_iters(n_iters, shape):
    """``n_iters="ts2vec"`` as its step count for data of ``shape`` (n, C, L); any other value
    unchanged (the callers check it)."""
    return default_n_iters(*shape) if n_iters == "ts2vec" else n_iters


def build_trainer(
    *,
    root_dir: str,
    max_steps: int,
    max_epochs: int | None,
    verbose: bool,
    device,
    trainer_kwargs: dict | None,
    callbacks: list | None = None,
    logger=False,
) -> L.Trainer:
    """A Trainer with tsea's defaults; ``trainer_kwargs`` override any of them."""
    kwargs = dict(
        default_root_dir=root_dir,
        max_steps=max_steps,
        max_epochs=-1 if max_epochs is None else max_epochs,
        enable_progress_bar=bool(verbose),
        enable_model_summary=False,
        enable_checkpointing=any(
            isinstance(c, L.pytorch.callbacks.ModelCheckpoint) for c in (callbacks or [])
        ),
        logger=logger,
        callbacks=callbacks or [],
        log_every_n_steps=1,
        num_sanity_val_steps=0,
    )
    kwargs.update(trainer_device(device))
    if trainer_kwargs:
        if not isinstance(trainer_kwargs, dict):
            raise ValueError(f"trainer_kwargs must be a dict, got {type(trainer_kwargs).__name__}")
        extra = dict(trainer_kwargs)
        # The caller's callbacks are added to tsea's (early stopping, checkpoints), not swapped in.
        kwargs["callbacks"] = kwargs["callbacks"] + list(extra.pop("callbacks", None) or [])
        kwargs.update(extra)
    return L.Trainer(**kwargs)


@contextlib.contextmanager
def scratch_dir():
    """A temporary directory used as Lightning's ``default_root_dir`` (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="tsea-train-") as path:
        yield path
