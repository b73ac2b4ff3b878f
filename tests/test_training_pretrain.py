import os
import random

import lightning as L
import numpy as np
import pytest
import torch
from conftest import tiny_encoder

from tsea.training import NonFiniteLossError, pretrain
from tsea.training.pretrain import training_budget
from tsea.training.runtime import default_n_iters


def sines(n=8, C=2, L=32, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(L)
    freqs = rng.choice([1.0, 3.0], size=(n, C))
    X = np.sin(2 * np.pi * freqs[..., None] * t / L + rng.uniform(0, 6, (n, C, 1))).astype(np.float32)
    lengths = np.full(n, L, dtype=np.int64)
    lengths[: n // 2] = L // 2
    X[: n // 2, :, L // 2 :] = np.nan
    return X, lengths


FAST = dict(n_iters=3, batch_size=4, device="cpu", num_threads=1)


def states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("objective", ["masked", "contrastive", "hybrid"])
def test_same_seed_same_weights_and_training_changes_them(objective):
    X, lengths = sines()
    init = tiny_encoder()
    a = pretrain(tiny_encoder(), X, lengths, objective=objective, random_state=3, **FAST)
    b = pretrain(tiny_encoder(), X, lengths, objective=objective, random_state=3, **FAST)
    c = pretrain(tiny_encoder(), X, lengths, objective=objective, random_state=4, **FAST)
    assert states_equal(a, b)
    assert not states_equal(a, init)
    assert not states_equal(a, c)


def test_grad_clip_caps_the_update_and_zero_turns_clipping_off():
    """AdamW normalises the gradient's scale, except below its eps (1e-8): gradients clipped to
    a norm of 1e-12 barely move the weights, unclipped ones move them as usual."""
    X, lengths = sines()
    init = tiny_encoder().state_dict()

    def moved(**kwargs):
        state = pretrain(tiny_encoder(), X, lengths, objective="contrastive", random_state=3,
                         **FAST, **kwargs).state_dict()
        return sum(float((state[k] - init[k]).abs().sum()) for k in init)

    free, capped = moved(grad_clip=0), moved(grad_clip=1e-12)
    assert capped < 1e-2 * free  # what is left is AdamW's weight decay
    assert moved() == moved(grad_clip=5.0)


class _LearningRates(L.Callback):
    def __init__(self):
        self.seen = []

    def on_before_optimizer_step(self, trainer, module, optimizer):
        self.seen.append(optimizer.param_groups[0]["lr"])


@pytest.mark.parametrize("budget", [{"n_iters": 8}, {"n_iters": None, "max_epochs": 4}])
def test_warmup_raises_the_learning_rate_linearly_then_holds_it(budget):
    """8 steps either way (8 series in batches of 4, 4 epochs): a warm-up of 0.5 is 4 steps at
    lr/4, lr/2, 3lr/4, lr, then lr; no warm-up is lr throughout."""
    X, lengths = sines()
    kwargs = {**FAST, **budget, "objective": "contrastive", "lr": 1e-3, "random_state": 0}

    def rates(**extra):
        seen = _LearningRates()
        pretrain(tiny_encoder(), X, lengths, trainer_kwargs={"callbacks": [seen]}, **kwargs, **extra)
        return seen.seen

    assert rates() == pytest.approx([1e-3] * 8)
    assert rates(warmup=0.5) == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3])
    assert rates(warmup=0.01) == pytest.approx([1e-3] * 8)  # rounds to one step at lr


def test_returns_same_object_on_cpu_keeps_mode_and_global_state():
    X, lengths = sines()
    enc = tiny_encoder().eval()
    threads = torch.get_num_threads()
    random.seed(11)
    np.random.seed(11)
    torch.manual_seed(11)
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.seed(11)
    np.random.seed(11)
    torch.manual_seed(11)
    out = pretrain(enc, X, lengths, random_state=0, n_iters=2, batch_size=4, device="cpu", num_threads=1)
    assert out is enc and not enc.training
    assert all(p.device.type == "cpu" for p in enc.parameters())
    assert torch.get_num_threads() == threads
    # The caller's random generators are left where they were.
    assert (random.random(), np.random.rand()) == expected[:2] and torch.equal(torch.rand(1), expected[2])


def test_nothing_written_to_cwd_without_run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, lengths = sines()
    pretrain(tiny_encoder(), X, lengths, random_state=0, **FAST)
    assert os.listdir(tmp_path) == []


def test_silent_unless_verbose(capfd):
    X, lengths = sines()
    pretrain(tiny_encoder(), X, lengths, random_state=0, **FAST)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_run_dir_checkpoints_and_resume(tmp_path):
    X, lengths = sines()
    run = tmp_path / "run"
    full = pretrain(tiny_encoder(), X, lengths, random_state=0, run_dir=str(run), **{**FAST, "n_iters": 4})
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "checkpoints" / "best.ckpt").is_file()
    logs = list(run.rglob("metrics.csv"))
    assert logs and "train_loss" in logs[0].read_text()

    # Two steps, then resume up to four in total: training really continues from the checkpoint.
    part_dir = tmp_path / "part"
    part = pretrain(tiny_encoder(), X, lengths, random_state=0, run_dir=str(part_dir), **{**FAST, "n_iters": 2})
    ckpt = torch.load(part_dir / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["global_step"] == 2
    resumed = pretrain(
        tiny_encoder(seed=99), X, lengths, random_state=0, resume_from=str(part_dir / "checkpoints" / "last.ckpt"),
        **{**FAST, "n_iters": 4},
    )
    assert not states_equal(resumed, part)
    fresh_from_other_init = tiny_encoder(seed=99)
    assert not states_equal(resumed, fresh_from_other_init)
    # Resumed weights descend from the checkpoint, not from the (different) initial encoder:
    # they are much closer to the uninterrupted run than to the seed-99 initialisation.
    def dist(m1, m2):
        return sum((p - q).abs().sum().item() for p, q in zip(m1.parameters(), m2.parameters()))

    assert dist(resumed, full) < dist(resumed, fresh_from_other_init)


class _NaNAfter(torch.nn.Module):
    """Wraps an encoder; its output turns NaN from the 3rd forward call on."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.config = inner.config
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x, lengths=None, mask=None, proj_mask=None):
        self.calls += 1
        H = self.inner(x, lengths=lengths, mask=mask, proj_mask=proj_mask)
        return H * float("nan") if self.calls >= 3 else H


def test_nan_loss_raises_naming_step_and_leaves_encoder_unchanged():
    X, lengths = sines()
    enc = _NaNAfter(tiny_encoder())
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    with pytest.raises(NonFiniteLossError, match="step 2"):
        pretrain(enc, X, lengths, random_state=0, **{**FAST, "n_iters": 5})
    assert all(torch.equal(before[k], v) for k, v in enc.state_dict().items())
    assert issubclass(NonFiniteLossError, FloatingPointError)


@pytest.mark.parametrize(
    "X,lengths,kwargs,match",
    [
        (np.zeros((2, 32), np.float32), [32, 32], {}, "shape"),
        (np.zeros((2, 2, 32), np.int64), [32, 32], {}, "float"),
        (np.full((2, 2, 32), np.inf, np.float32), [32, 32], {}, "infinite"),
        (np.zeros((2, 2, 32), np.float32), [32], {}, "lengths must have shape"),
        (np.zeros((2, 2, 32), np.float32), [32, 40], {}, r"lengths\[1\] = 40"),
        (np.zeros((2, 3, 32), np.float32), [32, 32], {}, "3 channels"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"objective": "bert"}, "objective"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"n_iters": 0}, "n_iters"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"batch_size": 0}, "batch_size"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"lr": -1.0}, "lr"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"grad_clip": -1.0}, "grad_clip"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"grad_clip": True}, "grad_clip"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"warmup": 1.0}, "warmup"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"warmup": -0.1}, "warmup"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"warmup": True}, "warmup"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"device": "tpu"}, "device"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"random_state": "x"}, "random_state"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"num_threads": 0}, "num_threads"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"resume_from": "nope.ckpt"}, "checkpoint file"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"objective": "contrastive", "max_train_length": 1}, ">= 2"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"weight_averaging": "no"}, "weight_averaging"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"averaging_start": 1.0}, "averaging_start"),
        (np.zeros((2, 2, 32), np.float32), [32, 32], {"averaging_start": None}, "averaging_start"),
    ],
)
def test_bad_input(X, lengths, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pretrain(tiny_encoder(), X, np.asarray(lengths), **kwargs)


def test_long_series_are_cropped_and_auto_device_runs_on_cpu():
    X, lengths = sines(L=64)
    kw = dict(objective="hybrid", n_iters=3, batch_size=4, max_train_length=8, num_threads=1, random_state=1)
    a = pretrain(tiny_encoder(), X, lengths, device="auto", **kw)
    b = pretrain(tiny_encoder(), X, lengths, device="cpu", **kw)
    if not torch.cuda.is_available():
        assert states_equal(a, b)


def test_default_budget_heuristic():
    assert default_n_iters(40, 6, 100) == 200  # TS2Vec: n * C * L <= 100,000
    assert default_n_iters(1000, 6, 100) == 600
    assert default_n_iters(1000, 1, 100) == 200 and default_n_iters(1001, 1, 100) == 600
    assert training_budget(None, None, (1001, 1, 100)) == (600, None)
    assert training_budget(None, 3, (1001, 1, 100)) == (-1, 3)  # epochs alone
    assert training_budget("ts2vec", None, (1000, 1, 100)) == (200, None)
    assert training_budget("ts2vec", 3, (1001, 1, 100)) == (600, 3)



class _RecordWeights(L.Callback):
    """Keeps a copy of the encoder's weights after every optimizer step."""

    def __init__(self):
        self.states = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.states.append({k: v.detach().clone() for k, v in pl_module.encoder.state_dict().items()})


def test_weight_averaging_returns_the_mean_of_the_per_step_weights():
    X, lengths = sines()
    rec = _RecordWeights()
    kw = dict(random_state=2, **{**FAST, "n_iters": 4})
    averaged = pretrain(tiny_encoder(), X, lengths, weight_averaging=True, trainer_kwargs={"callbacks": [rec]}, **kw)
    last = pretrain(tiny_encoder(), X, lengths, weight_averaging=False, **kw)
    assert len(rec.states) == 4
    # The averaging run takes the same steps as the plain run; only the returned weights differ.
    assert all(torch.equal(rec.states[-1][k], v) for k, v in last.state_dict().items())
    for k, v in averaged.state_dict().items():
        mean = torch.stack([s[k] for s in rec.states]).mean(0)
        torch.testing.assert_close(v, mean, rtol=1e-5, atol=1e-6)
    assert not states_equal(averaged, last)


@pytest.mark.parametrize("start,kept", [(0.5, slice(2, None)), (0.99, slice(3, None)), (0.1, slice(0, None))])
def test_averaging_start_leaves_the_first_share_of_steps_out_of_the_average(start, kept):
    """4 steps: a start of 0.5 averages steps 3 and 4; 0.99 keeps the last step only; 0.1
    rounds to no step left out."""
    X, lengths = sines()
    rec = _RecordWeights()
    kw = dict(random_state=2, **{**FAST, "n_iters": 4})
    averaged = pretrain(tiny_encoder(), X, lengths, weight_averaging=True, averaging_start=start,
                        trainer_kwargs={"callbacks": [rec]}, **kw)
    assert len(rec.states) == 4
    for k, v in averaged.state_dict().items():
        mean = torch.stack([s[k] for s in rec.states[kept]]).mean(0)
        torch.testing.assert_close(v, mean, rtol=1e-5, atol=1e-6)


def test_weight_averaging_checkpoint_holds_the_average_and_resumes(tmp_path):
    X, lengths = sines()
    run = tmp_path / "run"
    part = pretrain(
        tiny_encoder(), X, lengths, random_state=0, run_dir=str(run), weight_averaging=True,
        **{**FAST, "n_iters": 2},
    )
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    saved = {k[len("encoder."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("encoder.")}
    assert all(torch.equal(saved[k], v) for k, v in part.state_dict().items())  # the average
    assert "current_model_state" in ckpt  # and the last iterate, to go on training from
    resumed = pretrain(
        tiny_encoder(seed=99), X, lengths, random_state=0, weight_averaging=True,
        resume_from=str(run / "checkpoints" / "last.ckpt"), **{**FAST, "n_iters": 4},
    )
    assert not states_equal(resumed, part)
