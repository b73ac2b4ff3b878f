"""``run_dir`` and ``fit(..., resume_from=...)``: an interrupted fit keeps checkpoints and
continues from them, through the estimators and ``tsea fit --resume``."""

import importlib
import os

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
    # it continued from the checkpoint: far closer to an uninterrupted fit than a fresh start
    # from another seed is
    full = tsea.EAEncoder(**TINY, n_iters=9).fit(X).transform(X)
    other = tsea.EAEncoder(**{**TINY, "random_state": 1}, n_iters=9).fit(X).transform(X)
    Z = resumed.transform(X)
    assert np.abs(Z - full).mean() < 0.5 * np.abs(other - full).mean()


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


def test_run_dir_must_be_text(tmp_path):
    from pathlib import Path

    with pytest.raises(ValueError, match="run_dir"):
        tsea.EAEncoder(**TINY, n_iters=2, run_dir=Path(tmp_path)).fit(_series())


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
