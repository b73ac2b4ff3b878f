import pytest
import torch

from tsea.training.corruption import geometric_noise_mask, timestamp_keep_mask


def _runs(mask_row):
    """Lengths of the runs of True in a 1-d bool tensor."""
    padded = torch.cat([torch.tensor([False]), mask_row, torch.tensor([False])]).int()
    edges = torch.diff(padded)
    starts = torch.nonzero(edges == 1).flatten()
    ends = torch.nonzero(edges == -1).flatten()
    return (ends - starts).tolist()


@pytest.mark.parametrize("ratio,mean_length", [(0.15, 3.0), (0.3, 5.0), (0.5, 1.5)])
def test_geometric_mask_statistics(ratio, mean_length):
    g = torch.Generator().manual_seed(0)
    m = geometric_noise_mask(40, 5, 1000, ratio=ratio, mean_length=mean_length, generator=g)
    assert m.shape == (40, 5, 1000) and m.dtype == torch.bool
    assert abs(m.float().mean().item() - ratio) < 0.02
    # Runs cut by the row ends keep a geometric law (memoryless chain), so count them all.
    n_runs = m[..., 0].sum() + (m[..., 1:] & ~m[..., :-1]).sum()
    mean_run = m.sum().item() / n_runs.item()
    # Cross-check the run counting on one row against an explicit scan.
    row = m[0, 0]
    assert sum(_runs(row)) == int(row.sum())
    assert len(_runs(row)) == int(row[0]) + int((row[1:] & ~row[:-1]).sum())
    assert abs(mean_run - mean_length) < 0.1 * mean_length


def test_geometric_mask_channels_independent_and_seeded():
    a = geometric_noise_mask(4, 3, 200, generator=torch.Generator().manual_seed(1))
    b = geometric_noise_mask(4, 3, 200, generator=torch.Generator().manual_seed(1))
    c = geometric_noise_mask(4, 3, 200, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a[:, 0], a[:, 1])


def test_geometric_mask_edge_cases():
    assert not geometric_noise_mask(2, 2, 10, ratio=0.0).any()
    assert geometric_noise_mask(2, 2, 0).shape == (2, 2, 0)
    # Runs of mean length 1: no two masked neighbours are forced, fraction still right.
    m = geometric_noise_mask(50, 4, 500, ratio=0.2, mean_length=1.0, generator=torch.Generator().manual_seed(3))
    assert abs(m.float().mean().item() - 0.2) < 0.02


@pytest.mark.parametrize(
    "kwargs,match",
    [({"ratio": 1.0}, "ratio"), ({"ratio": -0.1}, "ratio"), ({"mean_length": 0.5}, "run length")],
)
def test_geometric_mask_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        geometric_noise_mask(2, 2, 10, **kwargs)


def test_timestamp_mask_fraction():
    keep = timestamp_keep_mask(64, 500, p=0.5, generator=torch.Generator().manual_seed(0))
    assert keep.shape == (64, 500) and keep.dtype == torch.bool
    assert abs(keep.float().mean().item() - 0.5) < 0.02
    assert timestamp_keep_mask(3, 7, p=0.0).all()
    with pytest.raises(ValueError, match="probability"):
        timestamp_keep_mask(3, 7, p=1.0)
