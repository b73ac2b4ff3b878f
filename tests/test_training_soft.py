"""SoftCLT's soft contrastive targets (tsea.training.soft) and their path through pre-training."""

import numpy as np
import pytest
import torch
from aeon.distances import dtw_distance
from conftest import tiny_encoder

from tsea.training import pretrain
from tsea.training.contrastive import _pair_contrast, hierarchical_contrastive_loss
from tsea.training.datamodule import SeriesDataModule
from tsea.training.soft import SOFT_ALPHA, dtw_batch, dtw_matrix, instance_weights, temporal_weights


def _views(B=5, T=12, D=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, D, generator=g), torch.randn(B, T, D, generator=g)


def test_dtw_matrix_is_aeons_dtw_on_each_valid_part():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 2, 30)).astype(np.float32)
    lengths = np.array([30, 21, 30, 9])
    for i, n in enumerate(lengths):
        X[i, :, n:] = np.nan
    X[0, 1, 4] = np.nan  # missing inside a series: read as 0
    d = dtw_matrix(X, lengths)
    assert d.shape == (4, 4) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    a = np.nan_to_num(X[0, :, :30]).astype(np.float64)
    b = X[3, :, :9].astype(np.float64)
    assert d[0, 3] == pytest.approx(dtw_distance(a, b))
    equal = dtw_matrix(X[[0, 2]], np.array([30, 30]))  # equal lengths: one array
    assert equal[0, 1] == pytest.approx(d[0, 2])


@pytest.mark.parametrize("lengths", [[30, 30, 30, 30, 30], [30, 21, 30, 9, 17]])
def test_dtw_batch_is_dtw_matrix(lengths):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 3, 30)).astype(np.float32)
    for i, n in enumerate(lengths):
        X[i, :, n:] = np.nan
    X[2, 0, 3] = np.nan
    np.testing.assert_array_equal(dtw_batch(X, np.array(lengths)), dtw_matrix(X, np.array(lengths)))


@pytest.mark.parametrize("lengths", [[30, 30, 30, 30, 30], [30, 21, 30, 9, 17]])
def test_dtw_matrix_does_not_depend_on_its_threads(lengths):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 2, 30))
    for i, n in enumerate(lengths):
        X[i, :, n:] = np.nan
    np.testing.assert_array_equal(dtw_matrix(X, np.array(lengths), n_jobs=2),
                                  dtw_matrix(X, np.array(lengths)))


def test_instance_weights_follow_softclt():
    d = np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 5.0], [3.0, 5.0, 0.0]])
    tau = 2.0
    w = instance_weights(d, tau)
    assert w.dtype == np.float32 and np.allclose(np.diag(w), 1.0)
    # per column: diagonal set to the smallest off-diagonal distance (1), then min-max scaled
    col0 = (np.array([1.0, 1.0, 3.0]) - 1.0) / 2.0
    want = 2 * SOFT_ALPHA / (1 + np.exp(tau * col0))
    assert np.allclose(w[1:, 0], want[1:])
    assert w[1, 0] == pytest.approx(SOFT_ALPHA)  # the closest pair gets the cap
    assert w[2, 0] < w[1, 0] and w[2, 1] < w[0, 1]  # farther series, smaller weight
    assert np.all((w >= 0) & (w <= 1))
    assert instance_weights(np.zeros((1, 1)), tau).tolist() == [[1.0]]
    assert np.allclose(instance_weights(np.ones((3, 3)) - np.eye(3), tau),
                       np.eye(3) + (1 - np.eye(3)) * SOFT_ALPHA)  # all equally far
    with pytest.raises(ValueError, match="finite square"):
        instance_weights(np.ones((2, 3)), tau)


def test_temporal_weights():
    w = temporal_weights(6, 1.5)
    assert torch.allclose(torch.diagonal(w), torch.ones(6))
    assert w[0, 2] == pytest.approx(2 / (1 + np.exp(3.0)))
    assert torch.equal(w, w.T) and bool((w[0, 1:] < w[0, :-1]).all())
    assert temporal_weights(4, 100.0).equal(torch.eye(4))  # below 1e-6: dropped


def test_identity_weights_give_ts2vecs_loss():
    a, b = _views()
    torch.testing.assert_close(_pair_contrast(a, b, torch.eye(12)), _pair_contrast(a, b))
    z1, z2 = _views(B=4, T=16)
    hard = hierarchical_contrastive_loss(z1, z2)
    soft = hierarchical_contrastive_loss(z1, z2, instance_weights=torch.eye(4), temporal_tau=1e4)
    torch.testing.assert_close(soft, hard)


def test_soft_targets_weight_the_other_items():
    """One group by hand: anchor k scores -sum_j w_kj log p_kj over both views."""
    a, b = _views(B=1, T=3, D=4)
    w = torch.tensor([[1.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.0]])
    z = torch.cat([a, b], dim=1)[0]  # (6, D)
    sim = z @ z.T
    total = 0.0
    for i in range(6):
        logp = torch.log_softmax(torch.cat([sim[i, :i], sim[i, i + 1:]]), 0)
        targets = torch.cat([w[i % 3], w[i % 3]])
        targets = torch.cat([targets[:i], targets[i + 1:]])
        total += -(targets * logp).sum()
    torch.testing.assert_close(_pair_contrast(a, b, w), total / 6)
    assert _pair_contrast(a, b, w) > _pair_contrast(a, b)


def test_instance_weights_must_match_the_batch():
    z1, z2 = _views(B=4)
    with pytest.raises(ValueError, match=r"instance_weights must have shape \(4, 4\)"):
        hierarchical_contrastive_loss(z1, z2, instance_weights=torch.eye(3))


def test_datamodule_returns_the_series_indices():
    X = np.arange(6 * 1 * 5, dtype=np.float32).reshape(6, 1, 5)
    dm = SeriesDataModule(X, np.full(6, 5), batch_size=3, return_index=True)
    seen = []
    for x, lengths, idx in dm.train_dataloader():
        assert torch.equal(x, torch.as_tensor(X)[idx]) and lengths.tolist() == [5, 5, 5]
        seen += idx.tolist()
    assert sorted(seen) == list(range(6))
    with pytest.raises(ValueError, match="y must be None"):
        SeriesDataModule(X, np.full(6, 5), np.zeros(6), return_index=True)


def _data(n=8, L=32):
    rng = np.random.default_rng(0)
    t = np.arange(L)
    X = np.sin(2 * np.pi * rng.choice([1.0, 3.0], (n, 2))[..., None] * t / L).astype(np.float32)
    return X, np.full(n, L)


@pytest.mark.parametrize("objective", ["contrastive", "hybrid"])
def test_pretrain_with_soft_targets(objective):
    X, lengths = _data()
    kw = dict(objective=objective, n_iters=3, batch_size=4, device="cpu", num_threads=1,
              random_state=0)
    hard = pretrain(tiny_encoder(), X, lengths, **kw).state_dict()
    soft = pretrain(tiny_encoder(), X, lengths, soft_instance=3.0, soft_temporal=1.0,
                    **kw).state_dict()
    again = pretrain(tiny_encoder(), X, lengths, soft_instance=3.0, soft_temporal=1.0,
                     **kw).state_dict()
    assert all(torch.equal(soft[k], again[k]) for k in soft)  # seeded
    assert any(not torch.equal(soft[k], hard[k]) for k in soft)  # the targets changed training


@pytest.mark.parametrize("kwargs, match", [
    ({"soft_instance": 0.0}, "soft_instance must be a positive number"),
    ({"soft_temporal": -1.0}, "soft_temporal must be a positive number"),
    ({"soft_temporal": True}, "soft_temporal must be a positive number"),
])
def test_soft_arguments_are_checked(kwargs, match):
    X, lengths = _data()
    with pytest.raises(ValueError, match=match):
        pretrain(tiny_encoder(), X, lengths, **{"objective": "contrastive", **kwargs})


def test_masked_objective_ignores_the_soft_targets():
    # the default carries soft targets; an objective without a contrastive loss must still run
    X, lengths = _data()
    kw = dict(objective="masked", n_iters=3, batch_size=4, device="cpu", num_threads=1,
              random_state=0)
    hard = pretrain(tiny_encoder(), X, lengths, **kw).state_dict()
    soft = pretrain(tiny_encoder(), X, lengths, soft_instance=3.0, soft_temporal=1.0,
                    **kw).state_dict()
    assert all(torch.equal(soft[k], hard[k]) for k in soft)


def test_estimator_takes_soft_targets():
    from tsea import EAEncoder

    X, _ = _data(n=6)
    enc = EAEncoder(attention="none", depth=2, d_model=16, repr_dim=8, n_iters=2,
                    objective="contrastive", soft_instance=5.0, soft_temporal=1.0,
                    random_state=0, n_jobs=1).fit(X)
    assert enc.transform(X).shape == (6, 8)
    with pytest.raises(ValueError, match="soft_instance"):
        EAEncoder(soft_instance=-2.0).fit(X)


def test_batch_scope_equals_train_scope_when_a_batch_is_the_training_set():
    # one batch holding every series: scaling over the batch is scaling over the training set
    X, lengths = _data(n=6)
    kw = dict(objective="contrastive", n_iters=3, batch_size=6, device="cpu", num_threads=1,
              random_state=0, soft_instance=3.0)
    train = pretrain(tiny_encoder(), X, lengths, soft_scope="train", **kw).state_dict()
    batch = pretrain(tiny_encoder(), X, lengths, soft_scope="batch", **kw).state_dict()
    assert all(torch.equal(train[k], batch[k]) for k in train)
    kw["batch_size"] = 3  # halves: each batch scaled on its own, so training differs
    train = pretrain(tiny_encoder(), X, lengths, soft_scope="train", **kw).state_dict()
    batch = pretrain(tiny_encoder(), X, lengths, soft_scope="batch", **kw).state_dict()
    assert any(not torch.equal(train[k], batch[k]) for k in train)


def test_batch_scope_never_builds_the_training_set_matrix(monkeypatch):
    import importlib

    module = importlib.import_module("tsea.training.module")
    pretrain_module = importlib.import_module("tsea.training.pretrain")  # not the function

    def whole_set(*args, **kwargs):
        raise AssertionError("the (n, n) DTW matrix was built")

    sizes, batch_dtw = [], module.dtw_batch

    def spy(X, lengths):
        sizes.append(len(X))
        return batch_dtw(X, lengths)

    monkeypatch.setattr(pretrain_module, "dtw_matrix", whole_set)
    monkeypatch.setattr(module, "dtw_batch", spy)
    X, lengths = _data(n=10)
    lengths[3] = 20  # unequal lengths reach the batch DTW as lists
    X[3, :, 20:] = np.nan
    pretrain(tiny_encoder(), X, lengths, objective="hybrid", n_iters=4, batch_size=4,
             device="cpu", num_threads=1, random_state=0, soft_instance=5.0,
             soft_scope="batch")
    assert len(sizes) == 4 and max(sizes) <= 4


def test_soft_scope_is_checked():
    X, lengths = _data()
    with pytest.raises(ValueError, match="soft_scope must be one of"):
        pretrain(tiny_encoder(), X, lengths, objective="contrastive", soft_instance=1.0,
                 soft_scope="all")
    from tsea import EAEncoder

    with pytest.raises(ValueError, match="soft_scope"):
        EAEncoder(soft_scope="window").fit(X)
