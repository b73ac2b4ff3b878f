"""Shared plumbing of pretrain/finetune: quiet Lightning, seeding, threads, device, Trainer.

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

import contextlib
import logging
import os
import random
import tempfile
import warnings

import lightning as L
import numpy as np
import torch

__all__ = [
    "SpawnSafeModule",
    "silence_lightning",
    "quiet",
    "seeded",
    "num_threads",
    "resolve_seed",
    "resolve_accelerator",
    "build_trainer",
    "default_n_iters",
]

_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric")


def silence_lightning() -> None:
    """Raise Lightning's loggers to WARNING and ignore its advisory warnings (process-wide)."""
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for module in ("lightning", "pytorch_lightning", "lightning_fabric", "torch.utils.data"):
        warnings.filterwarnings("ignore", module=module)


class SpawnSafeModule(L.LightningModule):
    """LightningModule base that re-applies the caller's quietness and thread count in the
    processes a spawn launcher starts (they inherit neither). Subclasses set ``self.verbose``
    and ``self.num_threads``."""

    verbose: bool = False
    num_threads: int | None = None

    def __setstate__(self, state):
        super().__setstate__(state)
        if not state.get("verbose", True):
            silence_lightning()

    def setup(self, stage: str) -> None:
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)


@contextlib.contextmanager
def quiet(verbose: bool):
    """Silence Lightning's info lines and warnings for the duration, unless ``verbose``."""
    if verbose:
        yield
        return
    levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    with warnings.catch_warnings():
        silence_lightning()
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def seeded(seed: int):
    """Seed python, numpy and torch (as ``lightning.seed_everything``) and restore the callers'
    generator states (and ``PL_GLOBAL_SEED``) afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    env = {k: os.environ.get(k) for k in ("PL_GLOBAL_SEED", "PL_SEED_WORKERS")}
    try:
        L.seed_everything(seed, workers=False, verbose=False)
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def num_threads(n: int | None):
    """Use ``n`` intra-op torch threads for the duration (``None``: leave as is)."""
    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"num_threads must be a positive integer or None, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_seed(random_state) -> int:
    """An int seed from ``random_state`` (None -> fresh entropy; int; numpy RandomState/Generator)."""
    if random_state is None:
        return random.SystemRandom().randrange(2**31 - 1)
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if not 0 <= int(random_state) < 2**32:
            raise ValueError(f"random_state must be in [0, 2**32), got {random_state!r}")
        return int(random_state) % (2**31 - 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy generator, got {random_state!r}")


def resolve_accelerator(device) -> dict:
    """Trainer kwargs for ``device``: "auto" (CUDA when available, else CPU), "cpu", "cuda",
    "cuda:N" / "gpu:N" (that one GPU), or "mps"."""
    if not isinstance(device, str):
        raise ValueError(f"device must be a string like 'auto', 'cpu', 'cuda', 'cuda:1', got {device!r}")
    name, _, index = device.partition(":")
    if name == "auto" and not index:
        return {"accelerator": "gpu" if torch.cuda.is_available() else "cpu", "devices": 1}
    if name == "cpu" and not index:
        return {"accelerator": "cpu", "devices": 1}
    if name == "mps" and not index:
        return {"accelerator": "mps", "devices": 1}
    if name in ("cuda", "gpu"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available")
        if not index:
            return {"accelerator": "gpu", "devices": 1}
        if index.isdigit():
            return {"accelerator": "gpu", "devices": [int(index)]}
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")


def default_n_iters(n_series: int, n_channels: int, length: int) -> int:
    """Default number of optimizer steps when neither ``n_iters`` nor ``max_epochs`` is given.

    TS2Vec uses 200 steps when ``n * C * L <= 100_000`` and 600 above. The EA-DC encoder costs
    more per step than TS2Vec's plain CNN, so tsea takes half of that budget: 100 steps for
    ``n * C * L <= 100_000``, 300 above.
    """
    return 100 if n_series * n_channels * length <= 100_000 else 300


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
    kwargs.update(resolve_accelerator(device))
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
