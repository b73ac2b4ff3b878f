"""tsea.nn.pooling: validity masks, pooling over valid steps, attention token pooling."""

import math

import pytest
import torch

from tsea.nn import pool, pooled_dim, valid_mask
from tsea.nn.pooling import attention_stride, pool_tokens, upsample_tokens
from tsea.params import POOLINGS

NAN = float("nan")


def test_valid_mask_all_nan_steps_and_lengths():
    x = torch.randn(2, 3, 6)
    x[0, :, 2] = NAN  # all channels missing: invalid
    x[0, 1, 3] = NAN  # one channel missing: still valid
    x[1, :, 4:] = NAN
    m = valid_mask(x)
    assert m.tolist() == [
        [True, True, False, True, True, True],
        [True, True, True, True, False, False],
    ]
    m = valid_mask(x, torch.tensor([5, 3]))
    assert m.tolist() == [
        [True, True, False, True, True, False],
        [True, True, True, False, False, False],
    ]


@pytest.mark.parametrize(
    "lengths, msg",
    [(torch.tensor([1, 2, 3]), "shape"), (torch.tensor([1.0, 2.0]), "integer"), (torch.tensor([1, -1]), "non-negative")],
)
def test_valid_mask_bad_lengths(lengths, msg):
    with pytest.raises(ValueError, match=msg):
        valid_mask(torch.zeros(2, 1, 4), lengths)


def test_valid_mask_rejects_2d():
    with pytest.raises(ValueError, match="batch, channels, length"):
        valid_mask(torch.zeros(2, 4))


@pytest.mark.parametrize("how", ["max", "mean", "last"])
def test_pool_ignores_masked_steps(how):
    torch.manual_seed(0)
    H = torch.randn(3, 7, 4)
    mask = torch.tensor(
        [[1, 1, 0, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 0, 1, 0, 0]], dtype=torch.bool
    )
    poisoned = H.clone()
    poisoned[~mask] = 1e6  # would dominate max/mean/last if masked steps were used
    out = pool(poisoned, mask, how)
    for b in range(3):
        steps = H[b, mask[b]]
        expected = {"max": steps.max(0).values, "mean": steps.mean(0), "last": steps[-1]}[how]
        torch.testing.assert_close(out[b], expected)


def test_pool_max_plus_mean_concatenates_the_masked_max_and_mean():
    torch.manual_seed(1)
    H = torch.randn(2, 6, 3)
    mask = torch.tensor([[1, 0, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1]], dtype=torch.bool)
    poisoned = H.clone()
    poisoned[~mask] = 1e6
    out = pool(poisoned, mask, "max+mean")
    assert out.shape == (2, 6)
    for b in range(2):
        steps = H[b, mask[b]]
        torch.testing.assert_close(out[b, :3], steps.max(0).values)
        torch.testing.assert_close(out[b, 3:], steps.mean(0))


def test_pooled_dim():
    assert [pooled_dim(5, how) for how in POOLINGS] == [
        10 if how == "max+mean" else 5 for how in POOLINGS
    ]
    assert set(POOLINGS) == {"max", "mean", "last", "max+mean"}
    with pytest.raises(ValueError, match="how must be"):
        pooled_dim(5, "sum")


def test_pool_errors():
    H = torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match="how must be"):
        pool(H, torch.ones(2, 5, dtype=torch.bool), "median")
    with pytest.raises(ValueError, match="does not match"):
        pool(H, torch.ones(2, 4, dtype=torch.bool))
    mask = torch.ones(2, 5, dtype=torch.bool)
    mask[1] = False
    with pytest.raises(ValueError, match="series 1 has no valid step"):
        pool(H, mask)


def test_attention_stride_uses_largest_valid_length():
    mask = torch.zeros(2, 5000, dtype=torch.bool)
    mask[0, :100] = True
    mask[1, :4321] = True
    stride, n_tok = attention_stride(mask, 256)
    assert stride == math.ceil(4321 / 256) == 17
    assert n_tok == math.ceil(4321 / 17) <= 256
    assert attention_stride(mask[:1], 256) == (1, 100)  # array width does not matter


def test_pool_tokens_mask_aware_average_and_upsample():
    x = torch.tensor([[[1.0, 3.0, 100.0, 5.0, 7.0, 9.0, 100.0]]])
    mask = torch.tensor([[True, True, False, True, True, True, False]])
    tokens, tmask = pool_tokens(x, mask, stride=3, n_tokens=2)
    torch.testing.assert_close(tokens, torch.tensor([[[2.0, 7.0]]]))
    assert tmask.tolist() == [[True, True]]
    # a token whose steps are all invalid is invalid and zero
    mask2 = torch.tensor([[True, False, False, False, False, False, False]])
    tokens2, tmask2 = pool_tokens(x, mask2, stride=3, n_tokens=1)
    assert tokens2.tolist() == [[[1.0]]] and tmask2.tolist() == [[True]]
    tokens3, tmask3 = pool_tokens(x, mask2, stride=2, n_tokens=2)
    assert tmask3.tolist() == [[True, False]] and tokens3[0, 0, 1].item() == 0.0
    up = upsample_tokens(torch.tensor([[[1.0, 2.0, 3.0]]]), stride=3, length=7)
    assert up.tolist() == [[[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0]]]
    up = upsample_tokens(torch.tensor([[[1.0, 2.0]]]), stride=2, length=6)
    assert up.tolist() == [[[1.0, 1.0, 2.0, 2.0, 0.0, 0.0]]]
