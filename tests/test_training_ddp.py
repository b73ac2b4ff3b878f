import os

import numpy as np
import pytest
import torch

from tsea.nn import EADCEncoder
from tsea.training import pretrain


@pytest.mark.slow
def test_ddp_spawn_two_cpu_processes_returns_trained_weights(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2, 24)).astype(np.float32)
    lengths = np.full(8, 24, dtype=np.int64)
    torch.manual_seed(0)
    enc = EADCEncoder(2, repr_dim=8, d_model=8, depth=1, n_heads=2, reuse_heads=1, max_attention_len=16)
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    out = pretrain(
        enc,
        X,
        lengths,
        objective="hybrid",
        n_iters=2,
        batch_size=2,
        random_state=0,
        device="cpu",
        num_threads=1,
        trainer_kwargs={"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"},
    )
    assert out is enc
    after = enc.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values() if v.is_floating_point())
    assert os.listdir(tmp_path) == []
    out_text, _ = capfd.readouterr()
    assert out_text == ""


@pytest.mark.slow
def test_ddp_spawn_fine_tuning_keeps_the_probe_when_no_epoch_beats_it(tmp_path, monkeypatch):
    """The start's validation score must live in the processes that train: scored by a
    ``Trainer.validate`` before ``fit``, it was lost with the spawned processes and the probe
    was never a candidate."""
    from test_training_finetune import assert_the_probe_is_kept

    monkeypatch.chdir(tmp_path)
    assert_the_probe_is_kept({"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"})


def test_a_distributed_fit_registers_one_release_of_its_process_group(monkeypatch):
    """Lightning destroys only NCCL groups at exit; a gloo group left to the interpreter's
    shutdown made about one ddp_spawn worker in twenty abort. The modules register the release."""
    import torch.distributed as dist

    from tsea.training import runtime

    registered = []
    monkeypatch.setattr(runtime.atexit, "register", registered.append)
    monkeypatch.setattr(runtime, "_RELEASE_AT_EXIT", [])
    runtime._release_process_group_at_exit()
    assert registered == []  # no group, nothing to release
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        runtime.SpawnSafeModule().setup("fit")  # as pretrain's and finetune's modules do
        runtime.SpawnSafeModule().setup("fit")  # a second fit in the same process
        assert registered == [runtime._release_process_group]
        registered[0]()
        assert not dist.is_initialized()
        registered[0]()  # already released: nothing to do
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
