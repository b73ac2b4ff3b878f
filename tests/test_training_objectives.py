import numpy as np
import pytest
import torch

from tsea.nn import EADCEncoder
from tsea.training.contrastive import (
    centre,
    contrastive_loss,
    draw_canvas_crops,
    draw_crops,
    draw_views,
    hierarchical_contrastive_loss,
    ts2vec_input,
)
from tsea.training.datamodule import SeriesDataModule
from tsea.training.hybrid import hybrid_loss
from tsea.training.masked import masked_reconstruction_loss, observed_mask
from tsea.training.module import PretrainModule, resolve_objective_weights
from tsea.training.runtime import build_trainer
from tsea.utils import quiet_lightning, seeded, thread_limit


def tiny_encoder(C=2, seed=0):
    torch.manual_seed(seed)
    return EADCEncoder(
        C, repr_dim=16, d_model=16, depth=2, n_heads=2, reuse_heads=1, max_attention_len=32, dropout=0.0
    )


def sines(n=16, C=2, L=48, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(L)
    freqs = rng.choice([1.0, 2.0, 4.0], size=(n, C))
    phase = rng.uniform(0, 2 * np.pi, size=(n, C))
    X = np.sin(2 * np.pi * freqs[..., None] * t / L + phase[..., None]).astype(np.float32)
    return X, np.full(n, L, dtype=np.int64)


def test_masked_loss_ignores_padding_values():
    X, lengths = sines(n=4, L=40)
    lengths[:] = [40, 25, 31, 12]
    x = torch.tensor(X)
    enc, head = tiny_encoder().eval(), torch.nn.Linear(16, 2)
    x_nan = x.clone()
    x_junk = x.clone()
    for i, n in enumerate(lengths):
        x_nan[i, :, n:] = float("nan")
        x_junk[i, :, n:] = torch.randn(2, 40 - n) * 100
    lens = torch.tensor(lengths)
    losses = [
        masked_reconstruction_loss(enc, head, xx, lens, generator=torch.Generator().manual_seed(5))
        for xx in (x_nan, x_junk)
    ]
    assert torch.isfinite(losses[0])
    assert torch.allclose(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    # ... while the loss does depend on the valid values.
    x_other = x_nan.clone()
    x_other[0, :, :10] += 1.0
    other = masked_reconstruction_loss(enc, head, x_other, lens, generator=torch.Generator().manual_seed(5))
    assert not torch.allclose(losses[0], other)


def test_masked_loss_counts_only_masked_observed_values():
    # A head that reconstructs 0 everywhere: the loss is the mean of x^2 over the target set.
    X, lengths = sines(n=3, L=30)
    x = torch.tensor(X)
    x[1, 0, 5:20] = float("nan")  # missing values of one channel
    head = torch.nn.Linear(16, 2)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    lens = torch.tensor(lengths)
    loss = masked_reconstruction_loss(tiny_encoder().eval(), head, x, lens, generator=torch.Generator().manual_seed(9))
    from tsea.training.corruption import geometric_noise_mask

    m = geometric_noise_mask(3, 2, 30, generator=torch.Generator().manual_seed(9))
    target = m & ~torch.isnan(x)
    assert torch.allclose(loss, (x[target] ** 2).mean())


def test_crops_stay_inside_each_series():
    lengths = torch.tensor([5, 17, 40, 2])
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        crop, a, s, b = draw_crops(lengths, g)
        assert 2 <= crop <= 2
        assert torch.all((0 <= a) & (a <= s) & (s + crop <= b) & (b <= lengths))
    crops = {draw_crops(torch.tensor([30, 20]), g)[0] for _ in range(300)}
    assert min(crops) == 2 and max(crops) == 20


def test_canvas_crops_are_ts2vecs():
    g = torch.Generator().manual_seed(0)
    crops = []
    for _ in range(300):
        crop, a, s, b = draw_canvas_crops(5, 30, g)
        crops.append(crop)
        assert torch.all((0 <= a) & (a <= s) & (s + crop <= b) & (b <= 30))
        # one pair of view lengths for the batch; only the offsets differ per series
        assert len(set((s + crop - a).tolist())) == 1 and len(set((b - s).tolist())) == 1
        assert len(set((s - a).tolist())) == 1
    assert min(crops) == 2 and max(crops) == 30  # not bounded by any series' length


def test_centre_moves_each_series_to_the_middle():
    x = torch.arange(16, dtype=torch.float32).reshape(2, 1, 8)
    out = centre(x, torch.tensor([3, 8]))
    nan = float("nan")
    torch.testing.assert_close(out[0, 0], torch.tensor([nan, nan, 0.0, 1, 2, nan, nan, nan]),
                               equal_nan=True)
    torch.testing.assert_close(out[1], x[1])


def test_canvas_views_align_on_their_overlap():
    """Step j of the overlap is the same input step in both views, for every series."""
    lengths = torch.tensor([40, 9, 23])
    x = torch.full((3, 1, 40), float("nan"))
    for i, n in enumerate(lengths):
        x[i, 0, :n] = torch.arange(n) + 100 * i
    g = torch.Generator().manual_seed(2)
    for _ in range(50):
        views, offset, crop = draw_views(x, lengths, g, crops="canvas")
        (v1, n1, _), (v2, n2, _) = views
        assert v1.shape[2] == int(n1.max()) and bool((n1 == n1[0]).all())
        o1 = torch.stack([v1[i, 0, offset[i] : offset[i] + crop] for i in range(3)])
        torch.testing.assert_close(o1, v2[:, 0, :crop], equal_nan=True)
    with pytest.raises(ValueError, match="crops must be"):
        draw_views(x, lengths, g, crops="full")


def test_ts2vec_input_opens_all_nan_steps_only():
    x = torch.randn(2, 2, 6)
    x[0, :, 4:] = float("nan")  # padding
    x[1, 0, 2] = float("nan")  # one channel missing: the step stays as it is
    keep = torch.ones(2, 6, dtype=torch.bool)
    keep[1, 5] = False
    assert ts2vec_input(x, keep, "canvas")[0] is x and ts2vec_input(x, keep, "canvas")[1] is keep
    fed, fed_keep = ts2vec_input(x, keep, "ts2vec")
    assert not torch.isnan(fed).any() and (fed[0, :, 4:] == 0).all()
    expected = keep.clone()
    expected[0, 4:] = False
    assert torch.equal(fed_keep, expected)
    torch.testing.assert_close(fed[:, :, :4][~torch.isnan(x[:, :, :4])], x[:, :, :4][~torch.isnan(x[:, :, :4])])


def test_ts2vec_crops_read_the_padding_through_the_convolutions():
    """Same draws as canvas crops: the same loss without padding, another one with it."""
    X, lengths = sines(n=4, L=40)
    x, lens = torch.tensor(X), torch.tensor(lengths)
    enc = tiny_encoder().eval()

    def loss(x, lens, crops):
        return contrastive_loss(enc, x, lens, generator=torch.Generator().manual_seed(3), crops=crops)

    assert torch.equal(loss(x, lens, "ts2vec"), loss(x, lens, "canvas"))
    lens = torch.tensor([40, 25, 31, 12])
    for i, n in enumerate(lens):
        x[i, :, n:] = float("nan")
    padded = loss(x, lens, "ts2vec")
    assert torch.isfinite(padded) and not torch.allclose(padded, loss(x, lens, "canvas"))


def test_hierarchical_loss_prefers_aligned_views():
    torch.manual_seed(0)
    z = torch.randn(6, 16, 8) * 3
    aligned = hierarchical_contrastive_loss(z, z + 0.01 * torch.randn_like(z))
    shuffled = hierarchical_contrastive_loss(z, z[torch.randperm(6)][:, torch.randperm(16)])
    assert aligned < shuffled
    # One series of one step: nothing to contrast.
    assert hierarchical_contrastive_loss(z[:1, :1], z[:1, :1]).item() == 0.0
    with pytest.raises(ValueError, match="same"):
        hierarchical_contrastive_loss(z, z[:, :4])


@pytest.mark.parametrize("crops", ["valid", "canvas", "ts2vec"])
def test_contrastive_loss_ignores_padding_values(crops):
    X, lengths = sines(n=4, L=40)
    lengths[:] = [40, 25, 31, 12]
    x_nan, x_junk = torch.tensor(X), torch.tensor(X)
    for i, n in enumerate(lengths):
        x_nan[i, :, n:] = float("nan")
        x_junk[i, :, n:] = 1e3
    enc = tiny_encoder().eval()
    lens = torch.tensor(lengths)
    a = contrastive_loss(enc, x_nan, lens, generator=torch.Generator().manual_seed(1), crops=crops)
    b = contrastive_loss(enc, x_junk, lens, generator=torch.Generator().manual_seed(1), crops=crops)
    assert torch.isfinite(a) and torch.allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("crops", ["valid", "ts2vec"])
@pytest.mark.parametrize("masks", ["values", "timestamps"])
def test_hybrid_is_the_weighted_sum_and_ignores_padding(masks, crops):
    X, lengths = sines(n=4, L=40)
    lengths[:] = [40, 25, 31, 12]
    x_nan, x_junk = torch.tensor(X), torch.tensor(X)
    for i, n in enumerate(lengths):
        x_nan[i, :, n:] = float("nan")
        x_junk[i, :, n:] = -7.0
    enc, head, lens = tiny_encoder().eval(), torch.nn.Linear(16, 2), torch.tensor(lengths)

    def loss(x, wm, wc):
        g = torch.Generator().manual_seed(2)
        return hybrid_loss(enc, head, x, lens, weights={"masked": wm, "contrastive": wc}, generator=g,
                           masks=masks, crops=crops)

    mse, contrast = loss(x_nan, 1.0, 0.0), loss(x_nan, 0.0, 1.0)
    assert mse > 0 and contrast > 0
    assert torch.allclose(loss(x_nan, 2.0, 3.0), 2 * mse + 3 * contrast, rtol=1e-5)
    assert torch.allclose(loss(x_junk, 2.0, 3.0), loss(x_nan, 2.0, 3.0), rtol=1e-5, atol=1e-6)


class _Recorder(torch.nn.Module):
    """Wraps an encoder and records what each call receives."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder, self.calls = encoder, []

    def forward(self, x, lengths=None, proj_mask=None):
        self.calls.append((x.clone(), lengths.clone(), proj_mask.clone()))
        return self.encoder(x, lengths=lengths, proj_mask=proj_mask)


def _padded_batch():
    X, lengths = sines(n=4, L=40)
    lengths[:] = [40, 25, 31, 12]
    x = torch.tensor(X)
    for i, n in enumerate(lengths):
        x[i, :, n:] = float("nan")
    x[0, 1, 5:9] = float("nan")  # missing values inside a series
    return x, torch.tensor(lengths)


def test_hybrid_timestamps_reconstructs_the_hidden_steps_of_the_plain_views():
    x, lens = _padded_batch()
    enc, head = tiny_encoder().eval(), torch.nn.Linear(16, 2)
    rec = _Recorder(enc)
    w = {"masked": 1.0, "contrastive": 0.0}
    mse = hybrid_loss(rec, head, x, lens, weights=w, generator=torch.Generator().manual_seed(3), masks="timestamps")
    views, _, _ = draw_views(x, lens, torch.Generator().manual_seed(3))
    assert len(rec.calls) == 2
    total, count = 0.0, 0
    for (v, n, keep), (x_in, n_in, keep_in) in zip(views, rec.calls):
        # the encoder sees the TS2Vec views unchanged: no value is set to 0
        assert torch.equal(x_in.nan_to_num(99.0), v.nan_to_num(99.0))
        assert torch.equal(n_in, n) and torch.equal(keep_in, keep)
        target = observed_mask(v, n) & ~keep[:, None, :]
        assert target.any() and (observed_mask(v, n) & keep[:, None, :]).any()
        r = head(enc(v, lengths=n, proj_mask=keep)).transpose(1, 2)
        total, count = total + ((r - v)[target] ** 2).sum(), count + int(target.sum())
    assert torch.allclose(mse, total / count, rtol=1e-5)


def test_hybrid_values_masks_the_encoder_input():
    x, lens = _padded_batch()
    rec = _Recorder(tiny_encoder().eval())
    w = {"masked": 1.0, "contrastive": 1.0}
    hybrid_loss(rec, torch.nn.Linear(16, 2), x, lens, weights=w, generator=torch.Generator().manual_seed(3))
    views, _, _ = draw_views(x, lens, torch.Generator().manual_seed(3))
    zeroed = sum(int(((x_in == 0) & (v != 0) & ~v.isnan()).sum()) for (v, _, _), (x_in, _, _) in zip(views, rec.calls))
    assert zeroed > 0


def test_hybrid_masks_must_be_known():
    x, lens = _padded_batch()
    with pytest.raises(ValueError, match="masks must be one of"):
        hybrid_loss(tiny_encoder(), torch.nn.Linear(16, 2), x, lens, weights={"masked": 1, "contrastive": 1}, masks="steps")
    with pytest.raises(ValueError, match="hybrid_masks must be one of"):
        PretrainModule(tiny_encoder(), 2, 16, weights={"masked": 1, "contrastive": 1}, hybrid_masks="steps")


def test_objective_weights():
    assert resolve_objective_weights("masked", None) == {"masked": 1.0, "contrastive": 0.0}
    assert resolve_objective_weights("hybrid", (2, 1)) == {"masked": 2.0, "contrastive": 1.0}
    assert resolve_objective_weights("hybrid", {"contrastive": 3}) == {"masked": 0.0, "contrastive": 3.0}
    for bad, match in [((1, 2, 3), "pair"), ({"mask": 1}, "unknown"), ((-1, 1), ">= 0"), ((0, 0), "not all 0")]:
        with pytest.raises(ValueError, match=match):
            resolve_objective_weights("hybrid", bad)
    with pytest.raises(ValueError, match="objective must be one of"):
        resolve_objective_weights("simclr", None)
    with pytest.raises(ValueError, match="only applies"):
        resolve_objective_weights("masked", (1, 1))


@pytest.fixture(autouse=True)
def one_thread():
    # Two intra-op threads on a loaded 2-core machine are many times slower than one.
    with thread_limit(1):
        yield


def _fixed_eval_loss(module, x, lengths, draws=4):
    """Mean loss over fixed random draws (same draws before and after training)."""
    module.eval()
    with torch.no_grad():
        values = []
        for k in range(draws):
            module._generator = torch.Generator().manual_seed(1000 + k)
            values.append(float(module.compute_loss(x, lengths)))
    module.train()
    return sum(values) / len(values)


@pytest.mark.slow  # 120 optimizer steps per objective (~2-5 s each)
@pytest.mark.parametrize("objective", ["masked", "contrastive", "hybrid"])
def test_each_objective_lowers_its_loss(objective, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, lengths = sines(n=16, L=48)
    weights = resolve_objective_weights(objective, None)
    with seeded(0):
        module = PretrainModule(tiny_encoder(), 2, 16, weights=weights, lr=3e-3, seed=0)
    x, lens = torch.tensor(X), torch.tensor(lengths)
    before = _fixed_eval_loss(module, x, lens)
    with quiet_lightning(False), seeded(0):
        trainer = build_trainer(
            root_dir=str(tmp_path), max_steps=120, max_epochs=None, verbose=False, device="cpu", trainer_kwargs=None
        )
        trainer.fit(module, datamodule=SeriesDataModule(X, lengths, batch_size=8, seed=0))
    after = _fixed_eval_loss(module, x, lens)
    # Measured (seed 0): masked 0.53 -> 0.19, contrastive 2.66 -> 1.49, hybrid 1.67 -> 1.19.
    assert after < {"masked": 0.6, "contrastive": 0.75, "hybrid": 0.85}[objective] * before, (before, after)
