"""Shared test configuration.

The ``slow`` marker: a test that starts other processes (the command line end to end, spawned
benchmark workers, DDP) or trains for many steps. ``python -m pytest -m "not slow"`` is the
quick loop; the full suite (the default, and CI) runs them all.
"""

import os
import sys

# Make the repository importable when the package is not installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: The estimator configuration the tests fit: one narrow block, two steps (a second per fit).
#: Test modules import it (``from conftest import TINY``) where a fixture cannot reach, e.g.
#: in the estimator list of ``parametrize_with_checks``.
TINY = dict(depth=1, d_model=16, n_heads=2, repr_dim=8, n_iters=2, max_attention_len=16, n_jobs=1)

#: The EA-DC-Transformer authors' layout (the defaults until 2026-12-02, and what model files
#: from before the layout parameters were built with): tests written for it pass it explicitly.
AUTHORS_LAYOUT = dict(block="transformer", causal=True, attention_norm=False, attention_blocks=None)


def tiny_encoder(in_channels=2, seed=0):
    """The smallest ``EADCEncoder`` the training tests train, initialised from ``seed``. It has
    the authors' layout (LayerNorm'd transformer sub-layers), on which the training tests' step
    counts and tolerances were set; the estimator tests train the default layout."""
    import torch

    from tsea.nn import EADCEncoder

    torch.manual_seed(seed)
    return EADCEncoder(in_channels, repr_dim=8, d_model=8, depth=1, n_heads=2, reuse_heads=1,
                       max_attention_len=16, **AUTHORS_LAYOUT)


def saved_tiny_model(folder, n_series, n_channels, length=12):
    """``(encoder, path)``: a TINY ``EAEncoder`` (channel normalisation) fitted on N(0, 1)
    random series of shape (n_series, n_channels, length), saved to ``folder / "m.tsea"``."""
    import numpy as np

    from tsea.estimators import EAEncoder

    rng = np.random.default_rng(0)
    enc = EAEncoder(random_state=0, **TINY).fit(rng.normal(size=(n_series, n_channels, length)))
    path = folder / "m.tsea"
    enc.save(path)
    return enc, path
