import os

import numpy as np
import pytest
import torch
from conftest import tiny_encoder
from lightning.pytorch.callbacks import Callback

from tsea.nn import pool, valid_mask
from tsea.training import finetune
from tsea.training.finetune import split_validation

FAST = dict(device="cpu", num_threads=1, batch_size=8)


def two_frequencies(n=24, L=32, seed=0):
    """Class 0: slow sine; class 1: fast sine (random phases)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = np.arange(L)
    phase = rng.uniform(0, 2 * np.pi, n)
    X = np.sin(2 * np.pi * np.where(y == 1, 6, 1)[:, None] * t / L + phase[:, None])
    return X[:, None, :].astype(np.float32), np.full(n, L, dtype=np.int64), y.astype(np.int64)


def predict(enc, head, X):
    x = torch.tensor(X)
    enc.eval()
    with torch.no_grad():
        return head(pool(enc(x), valid_mask(x), "max"))


def test_classification_learns_separable_classes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, lengths, y = two_frequencies()
    enc = tiny_encoder(1)
    out, head = finetune(enc, X, lengths, y, n_outputs=2, lr=3e-3, max_epochs=40, patience=40, random_state=0, **FAST)
    assert out is enc and isinstance(head, torch.nn.Linear) and head.out_features == 2
    Xt, _, yt = two_frequencies(seed=1)
    acc = (predict(enc, head, Xt).argmax(1).numpy() == yt).mean()
    assert acc >= 0.9
    assert os.listdir(tmp_path) == []


def test_regression_fits_targets_and_is_deterministic():
    X, lengths, y = two_frequencies()
    target = np.where(y == 1, 1.0, -1.0).astype(np.float32)
    runs = [
        finetune(tiny_encoder(1), X, lengths, target, task="regression", n_outputs=1, lr=3e-3,
                 n_iters=40, val_fraction=0.0, random_state=5, **FAST)
        for _ in range(2)
    ]
    for a, b in zip(runs[0][0].state_dict().values(), runs[1][0].state_dict().values()):
        assert torch.equal(a, b)
    pred = predict(*runs[0], X)[:, 0].numpy()
    assert np.mean((pred - target) ** 2) < 0.5


class _RecordValLoss(Callback):
    def __init__(self):
        self.losses = []

    def on_validation_epoch_end(self, trainer, module):
        self.losses.append(float(trainer.callback_metrics["val_loss"]))


def test_early_stopping_restores_best_validation_weights():
    # Pure-noise labels: the validation loss soon stops improving, so early stopping must end
    # training before max_epochs, and the returned weights are those of the best epoch.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 1, 16)).astype(np.float32)
    y = rng.integers(0, 2, 30)
    record = _RecordValLoss()
    enc, head = finetune(tiny_encoder(1), X, np.full(30, 16), y, n_outputs=2, lr=1e-2, max_epochs=200,
                         patience=2, random_state=0, trainer_kwargs={"callbacks": [record]}, **FAST)
    assert 3 <= len(record.losses) < 200
    best = int(np.argmin(record.losses))
    assert best < len(record.losses) - 1  # the last epoch was not the best one
    _, val = split_validation(y, "classification", 0.2, seed=0)
    logits = predict(enc, head, X[val])
    val_loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y[val])).item()
    assert val_loss == pytest.approx(record.losses[best], rel=1e-4, abs=1e-5)


def test_split_validation_is_stratified_and_disjoint():
    y = np.array([0] * 10 + [1] * 5 + [2] * 2)
    train, val = split_validation(y, "classification", 0.2, seed=0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(y)
    assert sorted(np.bincount(y[val], minlength=3).tolist()) == [0, 1, 2]  # 2, 1 and 0 (of 2)
    assert set(y[train]) == {0, 1, 2}
    train, val = split_validation(np.linspace(0, 1, 10), "regression", 0.3, seed=0)
    assert len(val) == 3 and len(train) == 7
    with pytest.raises(ValueError, match="no validation series"):
        split_validation(np.array([0, 1]), "classification", 0.2, seed=0)
    with pytest.raises(ValueError, match="val_fraction"):
        split_validation(y, "classification", 1.0, seed=0)


@pytest.mark.parametrize(
    "y,kwargs,match",
    [
        (np.arange(24) % 3, {"n_outputs": 2}, "class codes"),
        (np.zeros(24) + 0.5, {"n_outputs": 2}, "integer class codes"),
        (np.zeros(23, dtype=int), {"n_outputs": 2}, "24 entries"),
        (np.full(24, np.nan), {"n_outputs": 1, "task": "regression"}, "NaN"),
        (np.zeros((24, 2)), {"n_outputs": 1, "task": "regression"}, "shape"),
        (np.zeros(24, dtype=int), {"n_outputs": 2, "task": "ranking"}, "task"),
        (np.zeros(24, dtype=int), {"n_outputs": 2, "pooling": "median"}, "pooling"),
        (np.zeros(24, dtype=int), {"n_outputs": 0}, "n_outputs"),
    ],
)
def test_bad_targets(y, kwargs, match):
    X, lengths, _ = two_frequencies()
    with pytest.raises(ValueError, match=match):
        finetune(tiny_encoder(1), X, lengths, y, **kwargs)


def test_the_head_starts_from_the_probe_fitted_on_the_training_part(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, lengths, y = two_frequencies(n=30)
    seen = []

    def probe(idx):
        seen.append(idx)
        layer = torch.nn.Linear(8, 2)  # tiny_encoder's repr_dim
        with torch.no_grad():
            layer.weight.fill_(0.25)
            layer.bias.copy_(torch.tensor([1.0, -1.0]))
        return layer

    _, val = split_validation(y, "classification", 0.2, 0)
    enc, head = finetune(tiny_encoder(1), X, lengths, y, n_outputs=2, lr=1e-9, n_iters=1,
                         random_state=0, probe=probe, **FAST)
    # called once, with the series fine-tuning trains on: the validation part held out
    assert len(seen) == 1 and np.array_equal(seen[0], np.setdiff1d(np.arange(30), val))
    assert torch.allclose(head.weight, torch.full((2, 8), 0.25), atol=1e-6)
    assert torch.allclose(head.bias, torch.tensor([1.0, -1.0]), atol=1e-6)


@pytest.mark.parametrize("bad,match", [
    (lambda idx: torch.nn.Linear(7, 2), r"nn.Linear\(8, 2\).*got nn.Linear\(7, 2\)"),
    (lambda idx: None, "got NoneType"),
    (lambda idx: torch.nn.Linear(8, 2).requires_grad_(False).apply(
        lambda m: m.weight.fill_(float("nan"))), "NaN or infinite"),
])
def test_a_bad_probe_is_refused(bad, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, lengths, y = two_frequencies()
    with pytest.raises(ValueError, match=match):
        finetune(tiny_encoder(1), X, lengths, y, n_outputs=2, n_iters=1, probe=bad, **FAST)


def _fitted_probe(encoder, X, lengths, y):
    """A probe as the estimators build one: a logistic regression on the frozen embeddings."""
    from sklearn.linear_model import LogisticRegression

    encoder.eval()
    with torch.no_grad():
        x, lens = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(lengths)
        Z = pool(encoder(x, lengths=lens), valid_mask(x, lens), "max").numpy()

    def probe(idx):
        model = LogisticRegression(C=100.0, max_iter=2000).fit(Z[idx], y[idx])
        layer = torch.nn.Linear(Z.shape[1], 2)
        with torch.no_grad():
            s = torch.as_tensor(model.coef_[0], dtype=torch.float32)
            layer.weight.copy_(torch.stack([-s / 2, s / 2]))
            layer.bias.copy_(torch.tensor([-model.intercept_[0] / 2, model.intercept_[0] / 2]))
        return layer

    return probe


def test_from_a_probe_the_encoder_trains_without_dropout_and_keeps_it_after(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, lengths, y = two_frequencies(n=30)
    encoder = tiny_encoder(1)
    p_before = [m.p for m in encoder.modules() if isinstance(m, torch.nn.Dropout)]
    assert p_before and max(p_before) > 0  # so the checks below can fail
    seen = {}

    class Spy(Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            seen.setdefault("p", [m.p for m in module.encoder.modules() if isinstance(m, torch.nn.Dropout)])

    for probe, expected in ((None, p_before), (_fitted_probe(tiny_encoder(1), X, lengths, y), [0.0] * len(p_before))):
        seen.clear()
        enc, _ = finetune(encoder, X, lengths, y, n_outputs=2, n_iters=1, random_state=0, probe=probe,
                          trainer_kwargs={"callbacks": [Spy()]}, **FAST)
        assert seen["p"] == expected
        assert [m.p for m in enc.modules() if isinstance(m, torch.nn.Dropout)] == p_before


def assert_the_probe_is_kept(trainer_kwargs=None):
    """Fine-tuning at a learning rate far too large, so that every epoch ends worse than the
    probe on validation: the probe's layer and the encoder come back unchanged."""
    X, lengths, y = two_frequencies(n=40)
    encoder = tiny_encoder(1)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    probe = _fitted_probe(tiny_encoder(1), X, lengths, y)
    start = probe(split_validation(y, "classification", 0.2, 0)[0])
    enc, head = finetune(encoder, X, lengths, y, n_outputs=2, lr=1.0, max_epochs=3, patience=5,
                         random_state=0, probe=probe, trainer_kwargs=trainer_kwargs, **FAST)
    torch.testing.assert_close(head.weight, start.weight)
    torch.testing.assert_close(head.bias, start.bias)
    for k, v in enc.state_dict().items():
        torch.testing.assert_close(v, before[k])
    return X, lengths, y, before


def test_the_probe_is_kept_when_no_epoch_improves_on_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, lengths, y, before = assert_the_probe_is_kept()
    # without the probe the same training moves the weights (the checks above can fail)
    enc2, _ = finetune(tiny_encoder(1), X, lengths, y, n_outputs=2, lr=1.0, max_epochs=3,
                       random_state=0, **FAST)
    assert any(not torch.equal(v, before[k]) for k, v in enc2.state_dict().items())
