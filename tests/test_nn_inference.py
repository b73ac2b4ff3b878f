"""The embedding loop: batching within blocks, and chunk invariance (tsea.nn.inference)."""

import numpy as np

from tsea.nn import inference
from tsea.nn.inference import EMBED_BLOCK, MAX_BATCH, STEPS_PER_BATCH, batches


def test_batches_group_by_attention_stride_and_bound_memory():
    lengths = np.array([5, 40, 16, 17, 33, 3, 1000, 20000], dtype=np.int64)
    out = list(batches(lengths, 16))
    seen = np.sort(np.concatenate(out))
    assert np.array_equal(seen, np.arange(len(lengths)))  # nothing dropped or duplicated
    for b in out:
        strides = {int(np.ceil(L / 16)) for L in lengths[b]}
        assert len(strides) == 1
        assert len(b) == 1 or (len(b) * lengths[b].max() <= STEPS_PER_BATCH and len(b) <= MAX_BATCH)


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
