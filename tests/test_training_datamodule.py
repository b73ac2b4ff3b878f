import numpy as np
import torch
from lightning.pytorch.utilities.model_helpers import is_overridden

from tsea.training.datamodule import SeriesDataModule, SupervisedDataModule


def ramp_collection():
    """Series i holds values 1000*i + t on its valid steps (so windows can be traced back)."""
    lengths = np.array([50, 12, 30, 7, 50, 3], dtype=np.int64)
    X = np.full((6, 2, 50), np.nan, dtype=np.float32)
    for i, n in enumerate(lengths):
        X[i, :, :n] = 1000 * i + np.arange(n)
    return X, lengths


def _batches(dm):
    return list(dm.train_dataloader())


def test_batches_are_trimmed_cropped_windows_of_valid_data():
    X, lengths = ramp_collection()
    dm = SeriesDataModule(X, lengths, batch_size=3, max_train_length=20, seed=0)
    seen = []
    for _ in range(5):
        for x, lens in _batches(dm):
            assert x.dtype == torch.float32 and lens.dtype == torch.long
            assert x.shape[2] == int(lens.max()) <= 20  # trimmed to the batch's own longest
            for row, n in zip(x, lens):
                vals = row[0, :n]
                assert not torch.isnan(vals).any() and torch.isnan(row[:, n:]).all()
                i = int(vals[0]) // 1000
                start = int(vals[0]) % 1000
                assert int(n) == min(int(lengths[i]), 20)
                # a contiguous window inside series i's valid range
                assert torch.equal(vals, torch.arange(n, dtype=torch.float32) + 1000 * i + start)
                assert start + n <= lengths[i]
                seen.append((i, start))
    starts_of_long = {s for i, s in seen if lengths[i] > 20}
    assert len(starts_of_long) > 1  # crops of long series move around


def test_every_series_each_epoch_and_seeded_order():
    X, lengths = ramp_collection()
    a = SeriesDataModule(X, lengths, batch_size=2, max_train_length=10, seed=3)
    b = SeriesDataModule(X, lengths, batch_size=2, max_train_length=10, seed=3)
    c = SeriesDataModule(X, lengths, batch_size=2, max_train_length=10, seed=4)
    ba, bb, bc = _batches(a), _batches(b), _batches(c)
    ids = sorted(int(v) // 1000 for x, _ in ba for v in x[:, 0, 0])
    assert ids == list(range(6))
    assert all(torch.equal(p[0].nan_to_num(-1), q[0].nan_to_num(-1)) for p, q in zip(ba, bb))
    assert any(not torch.equal(p[0].nan_to_num(-1), q[0].nan_to_num(-1)) for p, q in zip(ba, bc))


def test_targets_follow_series_and_validation_is_fixed():
    X, lengths = ramp_collection()
    y = np.arange(6) * 10
    dm = SupervisedDataModule(X, lengths, y, batch_size=4, max_train_length=20, seed=0,
                          train_idx=np.array([0, 1, 2, 3]), val_idx=np.array([4, 5]))
    for x, _lens, yy in _batches(dm):
        assert torch.equal(yy, (x[:, 0, 0] // 1000).long() * 10)
    (v1,), (v2,) = list(dm.val_dataloader()), list(dm.val_dataloader())
    assert torch.equal(v1[0].nan_to_num(-1), v2[0].nan_to_num(-1))
    assert torch.equal(v1[2], torch.tensor([40, 50]))
    assert int(v1[0][0, 0, 0]) == 4000 + 15  # centred window of the 50-step series
    assert list(SupervisedDataModule(X, lengths).val_dataloader()) == []
    # pre-training defines no validation loader, so Lightning runs no validation loop
    assert not is_overridden("val_dataloader", SeriesDataModule(X, lengths))


def test_batch_larger_than_data_uses_all_series():
    X, lengths = ramp_collection()
    (only,) = _batches(SeriesDataModule(X, lengths, batch_size=64, max_train_length=100, seed=0))
    assert only[0].shape == (6, 2, 50)
