"""The embedding loop: batching within blocks, and chunk invariance (tsea.nn.inference)."""

import numpy as np

from tsea.nn import inference
from tsea.nn.inference import BATCH_FLOATS, EMBED_BLOCK, MAX_BATCH, batches


def test_batches_group_by_attention_stride_and_bound_memory():
    lengths = np.array([5, 40, 16, 17, 33, 3, 1000, 20000], dtype=np.int64)
    out = list(batches(lengths, 16, hidden=128, heads=8))
    seen = np.sort(np.concatenate(out))
    assert np.array_equal(seen, np.arange(len(lengths)))  # nothing dropped or duplicated
    for b in out:
        strides = {int(np.ceil(L / 16)) for L in lengths[b]}
        assert len(strides) == 1
        w = lengths[b].max()
        floats = len(b) * (w * 128 + 8 * min(w, 16) ** 2)
        assert len(b) == 1 or (floats <= BATCH_FLOATS and len(b) <= MAX_BATCH)
    # equal lengths: full batches up to the budget
    sizes = [len(b) for b in batches(np.full(1000, 128), 64, hidden=128, heads=8)]
    assert sizes[0] == BATCH_FLOATS // (128 * 128 + 8 * 64 * 64) and sum(sizes) == 1000


def test_batches_never_cross_a_block_and_depend_on_their_block_only(monkeypatch):
    monkeypatch.setattr(inference, "EMBED_BLOCK", 10)
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 50, size=35)
    whole = list(batches(lengths, 8))
    for b in whole:
        assert len({int(i) // 10 for i in b}) == 1
    # the batches of a chunk that starts on a block boundary are the whole's, shifted
    part = [b + 20 for b in batches(lengths[20:], 8)]
    tail = [b for b in whole if b[0] >= 20]
    assert [list(b) for b in part] == [list(b) for b in tail]


def test_block_is_a_positive_integer():
    assert isinstance(EMBED_BLOCK, int) and EMBED_BLOCK > 0


def test_in_place_inference_path_gives_the_values_of_the_autograd_path():
    import torch

    from tsea.nn import EADCEncoder

    torch.manual_seed(0)
    x = torch.randn(3, 2, 40).cumsum(-1)
    x[1, :, 30:] = float("nan")  # a shorter series: the masked branch too
    lengths = torch.tensor([40, 30, 40])
    for mode in ("evolving", "residual", "reuse", "vanilla"):
        enc = EADCEncoder(2, repr_dim=8, d_model=16, depth=2, n_heads=2, mode=mode,
                          max_attention_len=8, reuse_heads=1).eval()
        with torch.no_grad():
            want = enc(x, lengths=lengths)
        with torch.inference_mode():
            got = enc(x, lengths=lengths)
        assert torch.equal(got, want), mode
