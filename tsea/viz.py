"""Figures: a series over its head-averaged attention map in every layer (``tsea attention``)."""

from __future__ import annotations

import os

import numpy as np


def attention_figure(series: np.ndarray, maps: np.ndarray, *, title: str = ""):
    """Build the figure (a plain matplotlib ``Figure``: no pyplot, no backend switch, nothing
    shown; draw it in a notebook with ``display(fig)`` or save it with ``fig.savefig``).

    series: (C, L) values of one series (NaN = missing / padding, drawn as gaps).
    maps: (n_layers, n_heads, L', L') attention probabilities of that series; each layer's
    heads are averaged and the layers drawn side by side, left to right, under the series.
    """
    from matplotlib.figure import Figure
    from matplotlib.gridspec import GridSpec

    series = np.asarray(series, dtype=np.float64)
    maps = np.asarray(maps, dtype=np.float64)
    if series.ndim != 2:
        raise ValueError(f"series must be (channels, length), got shape {series.shape}")
    if maps.ndim != 4 or maps.shape[0] == 0 or maps.shape[2] != maps.shape[3]:
        raise ValueError(
            f"attention maps must be (n_layers, n_heads, L', L') with n_layers >= 1, "
            f"got shape {maps.shape}"
        )
    averaged = maps.mean(axis=1)  # (n_layers, L', L')
    n_layers, n_tokens = averaged.shape[0], averaged.shape[1]
    # One colour scale for all layers (so they can be compared), stretched to the values shown.
    finite = averaged[np.isfinite(averaged)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1e-6

    width = max(7.0, 2.7 * n_layers + 1.0)
    fig = Figure(figsize=(width, 6.0), dpi=100)
    grid = GridSpec(2, n_layers, figure=fig, height_ratios=[1.0, 1.6], hspace=0.45, wspace=0.3)

    top = fig.add_subplot(grid[0, :])
    steps = np.arange(series.shape[1])
    for c in range(series.shape[0]):
        top.plot(steps, series[c], lw=1.0, label=f"channel {c}")
    if 1 < series.shape[0] <= 8:
        top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    top.set_xlabel("time step")
    top.set_ylabel("value" if series.shape[0] == 1 else f"{series.shape[0]} channels")
    top.set_xlim(0, max(series.shape[1], 1))
    stride = int(np.ceil(series.shape[1] / n_tokens)) if n_tokens else 1
    note = f" (attention on {n_tokens} pooled tokens, stride {stride})" if stride > 1 else ""
    top.set_title((title + note).strip())

    image = None
    for layer in range(n_layers):
        ax = fig.add_subplot(grid[1, layer])
        # extent: tokens drawn over the time steps they cover, aligned with the series plot.
        image = ax.imshow(averaged[layer], cmap="viridis", vmin=vmin, vmax=vmax, aspect="equal",
                          extent=(0, series.shape[1], series.shape[1], 0), interpolation="nearest")
        ax.set_title(f"attention layer {layer + 1}")
        ax.set_xlabel("key (time step)")
        if layer == 0:
            ax.set_ylabel("query (time step)")
    if image is not None:
        fig.colorbar(image, ax=fig.axes[1:], shrink=0.8, label="attention (head mean)")
    return fig


FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def figure_format(path: str) -> str:
    """The format of a figure file named ``path`` (its suffix, one of :data:`FIGURE_SUFFIXES`);
    ValueError for any other."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FIGURE_SUFFIXES:
        raise ValueError(
            f"{path}: unsupported figure format {suffix or '(no suffix)'}; "
            f"use one of {', '.join(FIGURE_SUFFIXES)}"
        )
    return suffix[1:]


def save_attention_figure(
    path: str, series: np.ndarray, maps: np.ndarray, *, title: str = ""
) -> None:
    """Draw :func:`attention_figure` and write it atomically (temp file + os.replace) in the
    format of ``path``'s suffix, one of :data:`FIGURE_SUFFIXES`."""
    from tsea.utils import atomic_write

    fmt = figure_format(path)
    fig = attention_figure(series, maps, title=title)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt))
