"""``run_dir`` and ``fit(..., resume_from=...)``: an interrupted fit keeps checkpoints and
continues from them, through the estimators and ``tsea fit --resume``."""

import importlib
import os
import re

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

import tsea
from tsea.cli import main

pretrain_module = importlib.import_module("tsea.training.pretrain")  # the module, not the function

TINY = dict(repr_dim=8, d_model=8, depth=2, n_heads=2, max_attention_len=8, batch_size=4,
            max_train_length=32, random_state=0, n_jobs=1, device="cpu")


def _series(n=24, length=30, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 1, length)).cumsum(-1).astype(np.float32)


class _Crash(Callback):
    """Fails the fit once ``at`` optimizer steps are done, as a killed job would stop."""

    def __init__(self, at):
        self.at = at

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step >= self.at:
            raise RuntimeError("simulated crash")


def _step(path) -> int:
    return int(torch.load(path, weights_only=False)["global_step"])


@pytest.fixture
def every_three(monkeypatch):
    monkeypatch.setattr(pretrain_module, "CHECKPOINT_EVERY", 3)


def test_an_interrupted_fit_resumes_from_its_last_checkpoint(tmp_path, every_three):
    X = _series()
    run = tmp_path / "run"
    crashing = tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run),
                              trainer_kwargs={"callbacks": [_Crash(at=5)]})
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashing.fit(X)
    last = run / "checkpoints" / "last.ckpt"
    assert _step(last) == 3  # the last multiple of CHECKPOINT_EVERY before the crash

    resumed = tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run)).fit(X, resume_from=str(last))
    assert _step(last) == 9  # it went on to the budget, not 9 more steps
    assert (run / "logs").is_dir()
    # it continued from the checkpoint with the draws an uninterrupted fit makes
    full = tsea.EAEncoder(**TINY, n_iters=9).fit(X).transform(X)
    np.testing.assert_array_equal(resumed.transform(X), full)


# 22 series of 40 steps in batches of 4: 5 batches an epoch, and crops of 32 steps drawn by the
# loader; the checkpoint is written every `every` steps, or only at epochs' ends ("best")
@pytest.mark.parametrize("every, crash, checkpoint, extra", [
    (3, 5, "last", {}),  # inside the first epoch
    (5, 7, "last", {}),  # after the epoch's last batch, before the epoch's end
    (10, 12, "last", {"weight_averaging": False}),
    (3, 5, "last", {"objective": "hybrid"}),  # masks drawn by the objective
    (3, 5, "last", {"soft_scope": "train"}),  # batches that carry their series' indices
    (100, 12, "best", {}),  # written by the epoch-end hooks (the best epoch: 5 or 10 steps)
    (5, 99, "last", {}),  # a fit that ended at its budget: resuming does nothing more
    # a budget in epochs: Lightning reads the data before the checkpoint to count the steps
    # (for the average's start and the warm-up), and never hands the loader its state
    (4, 9, "last", {"max_epochs": 3, "n_iters": None, "averaging_start": 0.5}),
    (4, 9, "last", {"max_epochs": 3, "n_iters": None, "weight_averaging": False,
                    "warmup": 0.2}),
])
def test_a_resumed_fit_equals_the_uninterrupted_one(tmp_path, monkeypatch, every, crash,
                                                    checkpoint, extra):
    monkeypatch.setattr(pretrain_module, "CHECKPOINT_EVERY", every)
    X = _series(n=22, length=40)
    params = {**TINY, "n_iters": 5 if crash == 99 else 12, **extra}
    run = tmp_path / "run"
    try:
        tsea.EAEncoder(**params, run_dir=str(run),
                       trainer_kwargs={"callbacks": [_Crash(at=crash)]}).fit(X)
    except RuntimeError as exc:
        assert "simulated crash" in str(exc)
    saved = run / "checkpoints" / f"{checkpoint}.ckpt"
    assert 0 < _step(saved) <= (params["n_iters"] or 15)
    resumed = tsea.EAEncoder(**params).fit(X, resume_from=str(saved)).transform(X)
    np.testing.assert_array_equal(resumed, tsea.EAEncoder(**params).fit(X).transform(X))


def test_resuming_on_data_of_fewer_batches_says_so(tmp_path, every_three):
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):
        tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run),
                       trainer_kwargs={"callbacks": [_Crash(at=5)]}).fit(_series(n=24))
    last = run / "checkpoints" / "last.ckpt"
    with pytest.raises(ValueError, match="written by a fit of other training data"):
        tsea.EAEncoder(**TINY, n_iters=9).fit(_series(n=8), resume_from=str(last))
    # a checkpoint from before tsea kept a record of its fit: the loader still notices
    checkpoint = torch.load(last, weights_only=False)
    del checkpoint["tsea_fit"]
    torch.save(checkpoint, last)
    with pytest.raises(ValueError, match="after batch 3 of an epoch, but this data and "
                                         "batch_size give 2 batches"):
        tsea.EAEncoder(**TINY, n_iters=9).fit(_series(n=8), resume_from=str(last))


def test_resuming_another_fit_is_refused_naming_the_difference(tmp_path, every_three):
    """Only the data's and the network's shapes were compared: a checkpoint of a fit of other
    values, another seed or other training settings was continued as if it were this fit's."""
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):
        tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run),
                       trainer_kwargs={"callbacks": [_Crash(at=5)]}).fit(_series(seed=0))
    last = str(run / "checkpoints" / "last.ckpt")
    for change, X, why in [
        ({}, _series(seed=1), r"of other training data \(\(24, 2, 30\) float32, [0-9a-f]{32}; "
                              r"this fit's: \(24, 2, 30\) float32, [0-9a-f]{32}\)"),
        ({"random_state": 1}, _series(), r"with seed 0, and this fit's seed is 1 \(random_state: give"),
        ({"lr": 0.01, "crops": "valid"}, _series(),
         r"other settings: crops='canvas' there, 'valid' here, lr=0.001 there, 0.01 here"),
    ]:
        with pytest.raises(ValueError, match=why):
            tsea.EAEncoder(**{**TINY, **change}, n_iters=9).fit(X, resume_from=last)
    tsea.EAEncoder(**TINY, n_iters=9).fit(_series(seed=0), resume_from=last)  # its own fit


def test_a_fit_without_a_seed_resumes_with_the_seed_it_drew(tmp_path, every_three):
    # random_state=None (the default) drew another seed when resuming, which the checkpoint's
    # record then refused: the documented resume failed unless a seed was fixed
    run = tmp_path / "run"
    unseeded = {**TINY, "random_state": None}
    with pytest.raises(RuntimeError, match="simulated crash"):
        tsea.EAEncoder(**unseeded, n_iters=9, run_dir=str(run),
                       trainer_kwargs={"callbacks": [_Crash(at=5)]}).fit(_series())
    last = str(run / "checkpoints" / "last.ckpt")
    drawn = int(torch.load(last, weights_only=False)["tsea_fit"]["seed"])
    resumed = tsea.EAEncoder(**unseeded, n_iters=9).fit(_series(), resume_from=last)
    assert resumed.seed_ == drawn
    full = tsea.EAEncoder(**{**TINY, "random_state": drawn}, n_iters=9).fit(_series())
    np.testing.assert_array_equal(resumed.transform(_series()), full.transform(_series()))
    with pytest.raises(ValueError, match=f"seed {drawn}, and this fit's seed is 1 \\(random_state: "
                                         "give the checkpoint's, or None"):
        tsea.EAEncoder(**{**TINY, "random_state": 1}, n_iters=9).fit(_series(), resume_from=last)


def test_a_second_fit_into_a_run_dir_replaces_its_checkpoints(tmp_path, every_three):
    """Lightning wrote the second fit's checkpoints as last-v1.ckpt, so the documented
    run_dir/checkpoints/last.ckpt resumed the first fit, on the second fit's data."""
    run = tmp_path / "run"
    tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run)).fit(_series(seed=0))
    with pytest.raises(RuntimeError, match="simulated crash"):
        tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run),
                       trainer_kwargs={"callbacks": [_Crash(at=7)]}).fit(_series(seed=1))
    assert sorted(os.listdir(run / "checkpoints")) == ["best.ckpt", "last.ckpt"]
    last = run / "checkpoints" / "last.ckpt"
    assert _step(last) == 6
    resumed = tsea.EAEncoder(**TINY, n_iters=9).fit(_series(seed=1), resume_from=str(last))
    full = tsea.EAEncoder(**TINY, n_iters=9).fit(_series(seed=1))
    np.testing.assert_array_equal(resumed.transform(_series()), full.transform(_series()))


def test_a_checkpoint_that_cannot_be_resumed_is_refused_before_anything_is_written(tmp_path):
    import torch

    run = tmp_path / "run"
    tsea.EAEncoder(**TINY, n_iters=4, run_dir=str(run)).fit(_series())
    last = str(run / "checkpoints" / "last.ckpt")
    empty, text, other, cut = (tmp_path / f"{name}.ckpt" for name in ("e", "t", "o", "c"))
    empty.write_bytes(b"")
    text.write_text("hello")
    torch.save({"a": 1}, other)
    cut.write_bytes(open(last, "rb").read()[:2000])
    for path, why in [(empty, "cannot be read as a checkpoint (EOFError"),
                      (text, "cannot be read as a checkpoint ("),
                      (cut, "cannot be read as a checkpoint ("),
                      (other, "is not a Lightning checkpoint of a pre-training")]:
        with pytest.raises(ValueError, match=re.escape(f"resume_from={str(path)!r} {why}")):
            tsea.EAEncoder(**TINY, n_iters=4, run_dir=str(tmp_path / "new")).fit(
                _series(), resume_from=str(path))
    with pytest.raises(ValueError, match="was written at step 4, past this fit's budget of 3"):
        tsea.EAEncoder(**TINY, n_iters=3).fit(_series(), resume_from=last)
    with pytest.raises(ValueError, match="written by a fit with weight_averaging=True, and this "
                                         "fit has weight_averaging=False"):
        tsea.EAEncoder(**TINY, n_iters=6, weight_averaging=False).fit(_series(), resume_from=last)
    assert not (tmp_path / "new").exists()


def test_each_fit_into_a_run_dir_keeps_its_own_log(tmp_path, every_three):
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):
        tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run),
                       trainer_kwargs={"callbacks": [_Crash(at=5)]}).fit(_series())
    tsea.EAEncoder(**TINY, n_iters=9, run_dir=str(run)).fit(
        _series(), resume_from=str(run / "checkpoints" / "last.ckpt"))
    import pandas as pd

    first, second = (pd.read_csv(run / "logs" / f"version_{k}" / "metrics.csv")["step"]
                     for k in (0, 1))
    assert first.min() == 0 and second.max() == 8  # the interrupted fit's, the resumed one's


def test_without_run_dir_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tsea.EAEncoder(**TINY, n_iters=2).fit(_series())
    assert os.listdir(tmp_path) == []


def test_ensemble_members_get_a_folder_each_and_cannot_resume(tmp_path):
    X = _series()
    run = tmp_path / "run"
    tsea.EAEncoder(**TINY, n_iters=4, n_encoders=2, run_dir=str(run)).fit(X)
    assert sorted(os.listdir(run)) == ["member-0", "member-1"]
    assert (run / "member-1" / "checkpoints" / "last.ckpt").is_file()
    with pytest.raises(ValueError, match="n_encoders=2 writes one checkpoint per encoder"):
        tsea.EAEncoder(**TINY, n_iters=4, n_encoders=2).fit(
            X, resume_from=str(run / "member-0" / "checkpoints" / "last.ckpt"))


def test_resuming_with_other_parameters_says_so(tmp_path):
    X = _series()
    run = tmp_path / "run"
    tsea.EAEncoder(**TINY, n_iters=2, run_dir=str(run)).fit(X)
    with pytest.raises(ValueError, match="holds a network of another shape"):
        tsea.EAEncoder(**{**TINY, "d_model": 16}, n_iters=4).fit(
            X, resume_from=str(run / "checkpoints" / "last.ckpt"))


def test_classifier_resumes_its_pre_training(tmp_path):
    X, y = _series(), np.array(["a", "b"] * 12)
    run = tmp_path / "run"
    tsea.EAClassifier(**TINY, n_iters=2, run_dir=str(run)).fit(X, y)
    clf = tsea.EAClassifier(**TINY, n_iters=4, run_dir=str(run)).fit(
        X, y, resume_from=str(run / "checkpoints" / "last.ckpt"))
    assert _step(run / "checkpoints" / "last.ckpt") == 4 and clf.predict(X).shape == (24,)


def test_run_dir_must_be_text(tmp_path, monkeypatch):
    from pathlib import Path

    with pytest.raises(ValueError, match="run_dir"):
        tsea.EAEncoder(**TINY, n_iters=2, run_dir=Path(tmp_path)).fit(_series())
    monkeypatch.chdir(tmp_path)  # "" wrote the logs here and the checkpoints to /checkpoints
    for empty in ("", "  "):
        with pytest.raises(ValueError, match=f"EAEncoder: run_dir must name a folder, or be None "
                                             f"to write nothing; got '{empty}'"):
            tsea.EAEncoder(**TINY, n_iters=2, run_dir=empty).fit(_series())
    assert os.listdir(tmp_path) == []


def test_cli_fit_resume(tmp_path, capsys):
    data = os.path.join(os.path.dirname(__file__), "..", "examples", "data",
                        "ItalyPowerDemand_TRAIN_wide.csv")
    run = tmp_path / "run"
    args = ["fit", "--data", data, "--config", "tiny", "--set", f"run_dir={run}", "-q"]
    assert main([*args, "--set", "n_iters=2", "-o", str(tmp_path / "a.tsea")]) == 0
    last = run / "checkpoints" / "last.ckpt"
    assert main([*args, "--set", "n_iters=5", "-o", str(tmp_path / "b.tsea"),
                 "--resume", str(last)]) == 0
    assert _step(last) == 5
    assert main([*args, "-o", str(tmp_path / "c.tsea"), "--resume", str(tmp_path / "no.ckpt")]) == 1
    assert "checkpoint not found" in capsys.readouterr().err
    assert not (tmp_path / "c.tsea").exists()
