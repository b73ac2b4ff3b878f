"""tsea.nn attention: the four attention modes and the 3x3 map convolution."""

import pytest
import torch
import torch.nn.functional as F

from tsea.nn import EvolvingAttention, MapConv

H, DK, DV, C = 4, 8, 8, 16


def _inputs(B=2, L=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, C, L, generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[1, 9:] = False
    prev = torch.randn(B, H, L, L, generator=g)
    pair = (mask.unsqueeze(-1) & mask.unsqueeze(-2)).unsqueeze(1)
    return x, mask, prev.masked_fill(~pair, 0.0), pair


def _attn(mode, **kw):
    kw.setdefault("max_attention_len", 64)
    return EvolvingAttention(C, DK, DV, n_heads=H, mode=mode, **kw).eval()


def test_residual_beta_one_passes_previous_logits_through():
    torch.manual_seed(0)
    x, mask, prev, _ = _inputs()
    out, logits, probs = _attn("residual", beta=1.0)(x, mask, prev)
    torch.testing.assert_close(logits, prev)
    assert out.shape == (2, DV, 12)
    # and beta < 1 does not (the test above can fail)
    _, logits_half, _ = _attn("residual", beta=0.5)(x, mask, prev)
    assert not torch.allclose(logits_half, prev)


def test_evolving_alpha0_beta0_equals_vanilla_module():
    torch.manual_seed(0)
    x, mask, prev, _ = _inputs()
    evo = _attn("evolving", alpha=0.0, beta=0.0)
    van = _attn("vanilla")
    missing = van.load_state_dict(evo.state_dict(), strict=False)
    assert set(missing.unexpected_keys) == {"map_conv.weight", "map_conv.bias"}
    out_e, logits_e, _ = evo(x, mask, prev)
    out_v, logits_v, _ = van(x, mask, prev)
    torch.testing.assert_close(out_e, out_v)
    torch.testing.assert_close(logits_e, logits_v)
    out_e2, _, _ = _attn("evolving", alpha=0.5, beta=0.3)(x, mask, prev)
    evo2 = _attn("evolving", alpha=0.5, beta=0.3)
    evo2.load_state_dict(evo.state_dict())
    assert not torch.allclose(evo2(x, mask, prev)[0], out_v)


def test_evolving_formula():
    torch.manual_seed(1)
    x, mask, prev, pair = _inputs()
    alpha, beta = 0.4, 0.3
    att = _attn("evolving", alpha=alpha, beta=beta)
    van = _attn("vanilla")
    van.load_state_dict(att.state_dict(), strict=False)
    _, s, _ = van(x, mask, None)  # fresh logits S, zeroed at invalid pairs
    m = ((1 - beta) * s + beta * prev).masked_fill(~pair, 0.0)
    conv = F.conv2d(m, att.map_conv.weight, att.map_conv.bias, padding=1)
    expected = (alpha * torch.relu(conv) + (1 - alpha) * m).masked_fill(~pair, 0.0)
    _, logits, probs = att(x, mask, prev)
    torch.testing.assert_close(logits, expected)
    # softmax over valid keys only
    assert torch.all(probs[1, :, :, 9:] == 0)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, H, 12))


def test_first_sublayer_is_vanilla_in_every_mode():
    torch.manual_seed(0)
    x, mask, prev, _ = _inputs()
    van = _attn("vanilla")
    ref = van(x, mask, None)[1]
    for mode in ("residual", "evolving", "reuse"):
        first = _attn(mode, first=True, reuse_heads=2)
        assert first.map_conv is None
        first.load_state_dict(van.state_dict())
        torch.testing.assert_close(first(x, mask, None)[1], ref)
        torch.testing.assert_close(first(x, mask, prev)[1], ref)  # predecessor ignored


def test_reuse_heads_take_previous_logits_and_skip_qk():
    torch.manual_seed(0)
    x, mask, prev, _ = _inputs()
    att = _attn("reuse", reuse_heads=3)
    assert att.qk.out_features == 2 * (H - 3) * (DK // H)
    _, logits, _ = att(x, mask, prev)
    torch.testing.assert_close(logits[:, :3], prev[:, :3])
    assert not torch.allclose(logits[:, 3:], prev[:, 3:])
    with pytest.raises(ValueError, match="prev_logits is required"):
        att(x, mask, None)
    all_reused = _attn("reuse", reuse_heads=H)
    assert all_reused.qk is None
    torch.testing.assert_close(all_reused(x, mask, prev)[1], prev)


def test_fully_masked_series_gives_finite_output():
    x, mask, prev, _ = _inputs()
    mask[0] = False
    mask[1] = True
    for mode in ("vanilla", "residual", "evolving", "reuse"):
        out, logits, probs = _attn(mode, reuse_heads=2)(x, mask, prev.masked_fill(~mask[:, None, :, None], 0))
        assert torch.isfinite(out).all() and torch.isfinite(probs).all()


def test_pooling_bounds_token_count():
    torch.manual_seed(0)
    x = torch.randn(2, C, 1000)
    mask = torch.ones(2, 1000, dtype=torch.bool)
    mask[0, 700:] = False
    out, logits, probs = _attn("vanilla", max_attention_len=50)(x, mask)
    assert logits.shape == (2, H, 50, 50) and out.shape == (2, DV, 1000)
    # output is piecewise constant over the 20-step pooled tokens
    assert torch.equal(out[..., 0:20], out[..., :1].expand(-1, -1, 20))


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        EvolvingAttention(C, DK, DV, n_heads=H, mode="linear")
    with pytest.raises(ValueError, match="multiples of n_heads"):
        EvolvingAttention(C, 6, DV, n_heads=H)
    with pytest.raises(ValueError, match="reuse_heads"):
        EvolvingAttention(C, DK, DV, n_heads=H, mode="reuse", reuse_heads=5)
    x, mask, prev, _ = _inputs()
    with pytest.raises(ValueError, match="prev_logits must have shape"):
        _attn("evolving")(x, mask, prev[:, :, :5, :5])


def _shifted_conv(m, weight, bias):
    """Reference: the 3x3 convolution as a sum over the 9 kernel offsets of an (H x H) matrix
    product with a shifted view of the zero-padded maps."""
    T = m.shape[-1]
    padded = F.pad(m, (1, 1, 1, 1))
    out = sum(
        torch.einsum("oh,bhij->boij", weight[:, :, dy, dx], padded[:, :, dy : dy + T, dx : dx + T])
        for dy in range(3)
        for dx in range(3)
    )
    return out + bias.view(1, -1, 1, 1)


def test_map_conv_is_the_full_3x3_conv_over_heads():
    torch.manual_seed(0)
    conv = MapConv(8)
    m = torch.randn(2, 8, 11, 11, requires_grad=True)
    out = conv(m)
    assert out.is_contiguous() and out.shape == m.shape
    for expected in (F.conv2d(m, conv.weight, conv.bias, padding=1), _shifted_conv(m, conv.weight, conv.bias)):
        torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
        g = torch.randn_like(out)
        gw, gm = torch.autograd.grad((out * g).sum(), (conv.weight, m), retain_graph=True)
        gw_ref, gm_ref = torch.autograd.grad((expected * g).sum(), (conv.weight, m))
        torch.testing.assert_close(gw, gw_ref, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(gm, gm_ref, atol=1e-4, rtol=1e-4)


def test_identity_map_init_starts_evolving_at_alpha_relu_m_plus_rest():
    torch.manual_seed(2)
    x, mask, prev, pair = _inputs()
    alpha, beta = 0.5, 0.3
    att = _attn("evolving", alpha=alpha, beta=beta, map_init="identity")
    m = torch.randn(2, H, 7, 7)
    torch.testing.assert_close(att.map_conv(m), m)  # the convolution starts as the identity
    van = _attn("vanilla")
    van.load_state_dict(att.state_dict(), strict=False)
    _, s, _ = van(x, mask, None)
    mixed = ((1 - beta) * s + beta * prev).masked_fill(~pair, 0.0)
    _, logits, _ = att(x, mask, prev)
    torch.testing.assert_close(logits, alpha * torch.relu(mixed) + (1 - alpha) * mixed)
    # torch's start is not the identity (so the test above can fail)
    torch.manual_seed(2)
    assert not torch.allclose(_attn("evolving", map_init="torch").map_conv(m), m)
    with pytest.raises(ValueError, match="map_init must be one of"):
        MapConv(H, init="zeros")
