"""The one internal form of a collection of time series (see docs/INTERNALS.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Collection:
    """A collection of ``n`` series with ``C`` channels, NaN-padded to a common length.

    Attributes
    ----------
    X : float32 ndarray of shape (n, C, L_max)
        NaN marks a missing value or padding.
    lengths : int64 ndarray of shape (n,)
        Series ``i`` occupies ``X[i, :, :lengths[i]]``; ``lengths[i]`` is the index of the
        last step at which any channel is observed, plus one.
    ids : object ndarray of shape (n,) or None
        Series identifiers (for example from a file), or None.
    """

    X: np.ndarray
    lengths: np.ndarray
    ids: np.ndarray | None = None

    def __post_init__(self):
        if not isinstance(self.X, np.ndarray) or self.X.ndim != 3 or self.X.dtype != np.float32:
            raise ValueError("Collection.X must be a float32 ndarray of shape (n, C, L)")
        lengths = np.asarray(self.lengths)
        if lengths.shape != (self.X.shape[0],) or lengths.dtype != np.int64:
            raise ValueError(
                f"Collection.lengths must be an int64 array of shape ({self.X.shape[0]},), "
                f"got {lengths.dtype} array of shape {lengths.shape}"
            )
        if self.ids is not None and len(self.ids) != self.X.shape[0]:
            raise ValueError(
                f"Collection.ids has {len(self.ids)} entries, expected {self.X.shape[0]}"
            )

    @property
    def n_series(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.X.shape[1])

    @property
    def max_length(self) -> int:
        return int(self.X.shape[2])

    def __len__(self) -> int:
        return self.n_series

    def series(self, i: int) -> np.ndarray:
        """Series ``i`` without its padding, shape (C, lengths[i])."""
        return self.X[i, :, : self.lengths[i]]

    def to_list(self) -> list[np.ndarray]:
        """The series without padding, a list of (C, L_i) float32 arrays (aeon's unequal form)."""
        return [self.series(i) for i in range(self.n_series)]

    def subset(self, index) -> Collection:
        """The series selected by ``index`` (integer array, slice or boolean mask), in order."""
        index = np.atleast_1d(np.arange(self.n_series)[index])
        ids = None if self.ids is None else self.ids[index]
        return Collection(self.X[index], self.lengths[index], ids)
