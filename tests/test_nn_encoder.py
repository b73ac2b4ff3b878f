"""tsea.nn.EADCEncoder: the DESIGN.md invariants and the INTERNALS.md call contract."""

import json

import pytest
import torch
from conftest import AUTHORS_LAYOUT

from tsea.nn import (
    EADCEncoder,
    EvolvingAttention,
    covering_depth,
    pool,
    receptive_field,
    valid_mask,
)
from tsea.nn.attention import LAYER_MODES as ATT_MODES
from tsea.nn.blocks import AttentionDilatedConv
from tsea.params import ATTENTION_MODES

NAN = float("nan")


def _enc(mode="evolving", in_channels=2, seed=0, **kw):
    # the authors' layout unless a test asks for another (the network's defaults are TS2Vec's)
    torch.manual_seed(seed)
    kw = {"repr_dim": 12, "d_model": 16, "depth": 3, "n_heads": 4, "reuse_heads": 2,
          **AUTHORS_LAYOUT, **kw}
    return EADCEncoder(in_channels, mode=mode, **kw)


def _series(L, C=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(C, L, generator=g)
    s[0, 5] = NAN  # partially missing step
    s[:, 9] = NAN  # fully missing step inside the series
    return s


# (block, causal, output_block)
LAYOUTS = [("transformer", True, False), ("transformer", False, False), ("preact", True, False),
           ("preact", False, False), ("preact", False, True), ("transformer", True, True)]


@pytest.mark.parametrize("block, causal, output_block", LAYOUTS)
@pytest.mark.parametrize("mode", ATTENTION_MODES)
@pytest.mark.parametrize("max_len, own, other, width", [(128, 40, 70, 90), (16, 50, 60, 80)])
def test_padding_never_leaks(mode, max_len, own, other, width, block, causal, output_block):
    """Alone vs padded in a longer batch (same attention stride): same valid steps and pooling."""
    enc = _enc(mode, max_attention_len=max_len, block=block, causal=causal,
               output_block=output_block).eval()
    s = _series(own)
    alone = s.unsqueeze(0)
    batch = torch.full((3, 2, width), NAN)
    batch[0, :, :other] = _series(other, seed=2)
    batch[1, :, :own] = s
    batch[2, :, :30] = _series(30, seed=3)
    with torch.no_grad():
        h_alone = enc(alone)
        h_batch = enc(batch)
    torch.testing.assert_close(h_batch[1, :own], h_alone[0], atol=1e-5, rtol=0)
    m_alone, m_batch = valid_mask(alone), valid_mask(batch)
    for how in ("max", "mean", "last"):
        torch.testing.assert_close(
            pool(h_batch, m_batch, how)[1], pool(h_alone, m_alone, how)[0], atol=1e-5, rtol=0
        )


def test_padding_with_explicit_lengths_and_garbage_padding():
    """Padding given by `lengths` (finite garbage values after the length) does not leak."""
    enc = _enc("evolving", max_attention_len=128).eval()
    s = _series(40)
    batch = torch.randn(2, 2, 64) * 50
    batch[0, :, :40] = s
    batch[1] = _series(64, seed=5)
    with torch.no_grad():
        h_batch = enc(batch, lengths=torch.tensor([40, 64]))
        h_alone = enc(s.unsqueeze(0))
    torch.testing.assert_close(h_batch[0, :40], h_alone[0], atol=1e-5, rtol=0)


def test_conv_path_is_causal_in_mode_none():
    enc = _enc("none").eval()
    x = torch.randn(2, 2, 60)
    t = 33
    y = x.clone()
    y[..., t + 1 :] = torch.randn(2, 2, 60 - t - 1) * 10
    with torch.no_grad():
        hx, hy = enc(x), enc(y)
    torch.testing.assert_close(hx[:, : t + 1], hy[:, : t + 1], atol=1e-6, rtol=0)
    assert not torch.allclose(hx[:, t + 1 :], hy[:, t + 1 :])


@pytest.mark.parametrize("block", ["transformer", "preact"])
@pytest.mark.parametrize("mode", ATT_MODES)
def test_conv_submodules_are_causal_in_attention_modes(mode, block):
    enc = _enc(mode, block=block).eval()
    for blk in enc.blocks:
        for layer in blk.layers:
            x = torch.randn(1, 16, 50)
            y = x.clone()
            y[..., 21:] += 5.0
            with torch.no_grad():
                cx, cy = layer.dilated_conv(x), layer.dilated_conv(y)
            assert cx.shape[-1] == 50
            torch.testing.assert_close(cx[..., :21], cy[..., :21])
            assert not torch.allclose(cx[..., 21:], cy[..., 21:])


def test_preact_encoder_is_causal_and_same_padding_is_not():
    x = torch.randn(2, 2, 60)
    t = 33
    y = x.clone()
    y[..., t + 1 :] = torch.randn(2, 2, 60 - t - 1) * 10
    for causal, output_block in [(True, False), (False, False), (True, True), (False, True)]:
        enc = _enc("none", block="preact", causal=causal, output_block=output_block).eval()
        with torch.no_grad():
            hx, hy = enc(x), enc(y)
        same_past = torch.allclose(hx[:, : t + 1], hy[:, : t + 1], atol=1e-6, rtol=0)
        assert same_past == causal
        # same padding: step t sees (kernel_size - 1) * dilation / 2 future steps per conv,
        # 2 * (1 + 2 + 4) = 14 in all (the output block, dilation 8, adds 2 * 8); steps further
        # back do not change
        ahead = 14 + 16 * output_block
        if not causal:
            torch.testing.assert_close(hx[:, : t + 1 - ahead], hy[:, : t + 1 - ahead],
                                       atol=1e-6, rtol=0)
            assert not torch.allclose(hx[:, t + 1 - ahead], hy[:, t + 1 - ahead],
                                      atol=1e-6, rtol=0)


def test_same_padding_is_centred():
    """A same-padded sub-layer is the unpadded conv of the series with (k-1)d/2 zeros each side."""
    enc = _enc("none", block="preact", causal=False, kernel_size=3).eval()
    layer = enc.blocks[2].layers[0]  # dilation 4: 4 zeros each side
    x = torch.randn(1, 16, 30)
    with torch.no_grad():
        got = layer.dilated_conv(x, torch.ones(1, 30, dtype=torch.bool))
        want = torch.nn.functional.conv1d(
            torch.nn.functional.pad(x, (4, 4)), layer.conv.weight, layer.conv.bias, dilation=4
        )
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("kernel_size", [2, 3, 4])
@pytest.mark.parametrize("dilation", [1, 3, 16, 64])
def test_dilated_conv_is_the_zero_padded_conv_whatever_the_dilation(causal, kernel_size, dilation):
    """Taps that reach only padding are skipped (a short series under a large dilation): the
    output and every gradient stay those of the conv over the fully zero-padded input."""
    from tsea.nn.blocks import AttentionDilatedConv

    torch.manual_seed(dilation)
    layer = AttentionDilatedConv(4, 5, kernel_size, dilation, causal=causal,
                                 transformer=False).double()
    for length in (1, 7, 40, 200):
        x = torch.randn(2, 4, length, dtype=torch.float64, requires_grad=True)
        mask = torch.rand(2, length) > 0.3
        got = layer.dilated_conv(x, mask)
        seen = x if causal else x * mask.unsqueeze(1)
        want = torch.nn.functional.conv1d(torch.nn.functional.pad(seen, layer.pad),
                                          layer.conv.weight, layer.conv.bias, dilation=dilation)
        assert got.shape == want.shape == (2, 5, length)
        torch.testing.assert_close(got, want)
        g = torch.randn_like(got)
        grads_got = torch.autograd.grad((got * g).sum(), [x, layer.conv.weight, layer.conv.bias])
        grads_want = torch.autograd.grad((want * g).sum(), [x, layer.conv.weight, layer.conv.bias])
        for a, b in zip(grads_got, grads_want):
            torch.testing.assert_close(a, b)


def test_preact_block_is_the_ts2vec_residual_block():
    """mode none, block preact: every block computes x + conv2(gelu(conv1(gelu(x)))) and holds
    nothing else (no FFN, no norm)."""
    enc = _enc("none", block="preact", causal=False).eval()
    gelu = torch.nn.functional.gelu
    x = torch.randn(2, 16, 40)
    valid = torch.ones(2, 40, dtype=torch.bool)
    for i, blk in enumerate(enc.blocks):
        first, second = blk.layers
        assert {n for n, _ in blk.named_parameters()} == {
            "layers.0.conv.weight", "layers.0.conv.bias", "layers.1.conv.weight", "layers.1.conv.bias"
        }
        d = 2**i

        def conv(h, c, d=d):
            return torch.nn.functional.conv1d(
                torch.nn.functional.pad(h, (d, d)), c.weight, c.bias, dilation=d
            )

        with torch.no_grad():
            got, _, _ = blk(x, valid)
            want = x + conv(gelu(conv(gelu(x), first.conv)), second.conv)
        torch.testing.assert_close(got, want)


def test_preact_none_matches_ts2vec_convblock():
    """The same computation as the reference package's ConvBlock (PyPI ts2vec, installed by
    .ci/run), with the weights copied over."""
    from ts2vec.models.dilated_conv import ConvBlock

    enc = _enc("none", block="preact", causal=False).eval()
    x = torch.randn(2, 16, 37)
    valid = torch.ones(2, 37, dtype=torch.bool)
    for i, blk in enumerate(enc.blocks):
        ref = ConvBlock(16, 16, kernel_size=3, dilation=2**i).eval()
        ref.conv1.conv.load_state_dict(blk.layers[0].conv.state_dict())
        ref.conv2.conv.load_state_dict(blk.layers[1].conv.state_dict())
        with torch.no_grad():
            torch.testing.assert_close(blk(x, valid)[0], ref(x), atol=1e-6, rtol=1e-6)


def test_output_block_matches_the_ts2vec_encoder():
    """block preact, same padding, no attention, output_block: the reference package's whole
    TSEncoder (input projection, depth blocks, the output block d_model -> repr_dim), with the
    weights copied over."""
    from ts2vec.models.encoder import TSEncoder

    enc = _enc("none", block="preact", causal=False, output_block=True).eval()
    ref = TSEncoder(2, 12, hidden_dims=16, depth=3).eval()
    ref.input_fc.load_state_dict(enc.input_projection.state_dict())
    ours = [*enc.blocks, enc.output_block]
    assert len(ref.feature_extractor.net) == len(ours) == 4
    for theirs, blk in zip(ref.feature_extractor.net, ours):
        theirs.conv1.conv.load_state_dict(blk.layers[0].conv.state_dict())
        theirs.conv2.conv.load_state_dict(blk.layers[1].conv.state_dict())
        if blk.projector is not None:
            theirs.projector.load_state_dict(blk.projector.state_dict())
    assert theirs.projector is not None and not hasattr(enc, "output_projection")
    x = torch.randn(3, 2, 45)
    with torch.no_grad():
        torch.testing.assert_close(enc(x), ref(x.transpose(1, 2).clone()), atol=1e-5, rtol=1e-5)


def test_preact_drops_out_the_output_only_while_training():
    enc = _enc("none", block="preact", dropout=0.5)
    x = torch.randn(2, 2, 30)
    with torch.no_grad():
        a, b = enc.train()(x), enc(x)
        assert not torch.allclose(a, b)
        assert ((a == 0).float().mean() > 0.3)  # whole representation entries are dropped
        torch.testing.assert_close(enc.eval()(x), enc(x))
    assert not isinstance(_enc("none").output_dropout, torch.nn.Dropout)


def test_layout_is_checked_and_saved_in_the_config():
    enc = _enc("evolving", block="preact", causal=False)
    assert enc.config["block"] == "preact" and enc.config["causal"] is False
    rebuilt = EADCEncoder.from_config(json.loads(json.dumps(enc.config)))
    assert set(rebuilt.state_dict()) == set(enc.state_dict())
    old = {k: v for k, v in _enc("evolving").config.items() if k not in ("block", "causal")}
    assert EADCEncoder.from_config(old).config["block"] == "transformer"  # older model files
    with pytest.raises(ValueError, match="block must be one of"):
        _enc("none", block="ffn")
    with pytest.raises(ValueError, match="causal must be True or False"):
        _enc("none", causal=1)
    with pytest.raises(ValueError, match="output_block must be True or False"):
        _enc("none", output_block="yes")
    enc = _enc("evolving", output_block=True)
    assert enc.config["output_block"] is True
    assert set(EADCEncoder.from_config(json.loads(json.dumps(enc.config))).state_dict()) == set(
        enc.state_dict())
    assert EADCEncoder.from_config(old).config["output_block"] is False


def test_evolving_alpha0_beta0_equals_vanilla():
    evo = _enc("evolving", alpha=0.0, beta=0.0, max_attention_len=16).eval()
    van = _enc("vanilla", seed=7, max_attention_len=16).eval()
    res = van.load_state_dict(evo.state_dict(), strict=False)
    assert res.missing_keys == [] and all("map_conv" in k for k in res.unexpected_keys)
    assert res.unexpected_keys  # evolving really has map convolutions
    x = torch.randn(3, 2, 70)
    x[1, :, 50:] = NAN
    with torch.no_grad():
        torch.testing.assert_close(evo(x), van(x), atol=1e-5, rtol=1e-5)


def test_residual_beta1_passes_logits_through_the_network():
    enc = _enc("residual", beta=1.0).eval()
    x = torch.randn(2, 2, 30)
    with torch.no_grad():
        _, maps = enc(x, return_attention=True)
    assert len(maps) == 2 * 3
    for m in maps[1:]:
        torch.testing.assert_close(m, maps[0])


def test_length_100_then_5000():
    enc = _enc("evolving", max_attention_len=64).eval()
    with torch.no_grad():
        a = enc(torch.randn(2, 2, 100))
        b = enc(torch.randn(1, 2, 5000))
    assert a.shape == (2, 100, 12) and b.shape == (1, 5000, 12)
    assert torch.isfinite(b).all()


@pytest.mark.parametrize("mode", ATT_MODES)
def test_attention_bounded_at_5000(mode):
    enc = _enc(mode, depth=2, max_attention_len=256).eval()
    logit_shapes = []
    for module in enc.modules():
        if isinstance(module, EvolvingAttention):
            module.register_forward_hook(lambda mod, inp, out: logit_shapes.append(out[1].shape))
    with torch.no_grad():
        h, maps = enc(torch.randn(1, 2, 5000), return_attention=True)
    assert h.shape == (1, 5000, 12)
    assert len(logit_shapes) == 4
    for shape in logit_shapes:  # stride ceil(5000/256) = 20 -> 250 tokens
        assert shape == (1, 4, 250, 250)
    assert len(maps) == 4
    for m in maps:
        assert m.shape[0] == 1 and m.shape[1] == 4
        assert m.shape[-1] <= 256 and m.shape[-2] <= 256


@pytest.mark.parametrize("mode", ATTENTION_MODES)
def test_forward_backward_all_params_get_finite_grads_with_partial_nan(mode):
    enc = _enc(mode, max_attention_len=16).train()
    x = torch.randn(3, 2, 45)
    x[0, 0, ::3] = NAN  # partially missing channels
    x[1, :, 30:] = NAN  # padding
    x[2, :, 10:14] = NAN  # missing block
    h = enc(x)
    assert h.shape == (3, 45, 12) and torch.isfinite(h).all()
    h.pow(2).mean().backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name


def test_gradient_reaches_map_conv_in_evolving_mode():
    enc = _enc("evolving").train()
    convs = [m for m in enc.modules() if type(m).__name__ == "MapConv"]
    assert len(convs) == 2 * 3 - 1  # every attention sub-layer but the first
    enc(torch.randn(2, 2, 40)).sum().backward()
    for c in convs:
        assert c.weight.grad is not None and c.weight.grad.abs().sum() > 0


def test_proj_mask_zeroes_projected_steps():
    enc = _enc("none").eval()
    x = torch.randn(1, 2, 20)
    keep = torch.ones(1, 20, dtype=torch.bool)
    keep[0, 7] = False
    y = x.clone()
    y[0, :, 7] = 0.0
    with torch.no_grad():
        h_masked = enc(x, proj_mask=keep)
        h_plain = enc(x)
    torch.testing.assert_close(h_masked[:, :7], h_plain[:, :7])
    assert not torch.allclose(h_masked[:, 7:], h_plain[:, 7:])
    # zeroing the projection differs from zeroing the input (the projection has a bias)
    with torch.no_grad():
        assert not torch.allclose(h_masked, enc(y))


def test_mask_argument_marks_invalid_steps():
    enc = _enc("evolving").eval()
    x = torch.randn(1, 2, 30)
    mask = torch.ones(1, 30, dtype=torch.bool)
    mask[0, 20:] = False
    with torch.no_grad():
        h1 = enc(x, mask=mask)
        h2 = enc(x[..., :20])
    torch.testing.assert_close(h1[:, :20], h2, atol=1e-5, rtol=0)


def test_config_round_trip():
    enc = _enc("reuse", alpha=0.2)
    cfg = json.loads(json.dumps(enc.config))
    twin = EADCEncoder(**cfg)
    twin.load_state_dict(enc.state_dict())
    x = torch.randn(1, 2, 25)
    with torch.no_grad():
        torch.testing.assert_close(twin.eval()(x), enc.eval()(x))


def test_from_config_rebuilds_the_architecture_also_from_configs_with_map_conv():
    enc = _enc("evolving")
    assert "map_conv" not in enc.config
    for config in (enc.config, {**enc.config, "map_conv": "shifted"}):
        twin = EADCEncoder.from_config(config)
        assert twin.config == enc.config
        twin.load_state_dict(enc.state_dict())


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"mode": "transformer"}, "mode must be"),
        ({"depth": 0}, "depth"),
        ({"alpha": 1.5}, "alpha"),
        ({"d_model": 8, "n_heads": 8}, "too small"),
    ],
)
def test_bad_constructor_arguments(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        _enc(**kwargs)


def test_bad_forward_inputs():
    enc = _enc("vanilla")
    with pytest.raises(ValueError, match="3 channels, expected 2"):
        enc(torch.randn(1, 3, 10))
    with pytest.raises(ValueError, match="batch, channels, length"):
        enc(torch.randn(2, 10))
    with pytest.raises(ValueError, match="mask has shape"):
        enc(torch.randn(1, 2, 10), mask=torch.ones(1, 9, dtype=torch.bool))
    with pytest.raises(ValueError, match="floating-point"):
        enc(torch.ones(1, 2, 10, dtype=torch.long))
    with pytest.raises(ValueError, match="lengths must have shape"):
        enc(torch.randn(2, 2, 10), lengths=torch.tensor([3]))


@pytest.mark.parametrize("depth, kernel_size", [(1, 3), (2, 3), (3, 3), (2, 5)])
def test_receptive_field_is_what_the_conv_path_sees(depth, kernel_size):
    """Mode none: a change at step 0 reaches exactly the first receptive_field(...) outputs."""
    rf = receptive_field(depth, kernel_size)
    enc = _enc("none", depth=depth, kernel_size=kernel_size).eval()
    x = torch.randn(1, 2, rf + 8)
    y = x.clone()
    y[0, :, 0] += 5.0
    with torch.no_grad():
        changed = (enc(x) - enc(y)).abs().amax(dim=-1)[0] > 0  # untouched steps: exactly 0
    assert changed[:rf].all() and not changed[rf:].any()


def test_covering_depth():
    assert receptive_field(7) == 509 and receptive_field(5) == 125 and receptive_field(0) == 1
    assert [covering_depth(n) for n in (1, 5, 6, 24, 125, 126, 131, 253, 254, 509)] == [
        1, 1, 2, 3, 5, 6, 6, 6, 7, 7]
    assert covering_depth(5000) == 7  # capped
    assert covering_depth(5000, max_depth=10) == 10
    assert covering_depth(24, kernel_size=5) == 2  # 1 + 8 * 3 = 25 steps
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="length must be a positive integer"):
            covering_depth(bad)
    with pytest.raises(ValueError, match="depth must be a non-negative integer"):
        receptive_field(-1)


def _attended(enc):
    return [[layer.attention is not None for layer in b.layers] for b in enc.blocks]


def _maps_and_no_leak(enc):
    """The number of attention maps of an eval-mode encoder, after checking that a padded
    series' representation equals that of the series alone."""
    x = torch.randn(2, 2, 40)
    x[1, :, 25:] = NAN
    with torch.no_grad():
        h, maps = enc(x, return_attention=True)
        alone = enc(x[1:, :, :25])
    torch.testing.assert_close(h[1, :25], alone[0], atol=1e-5, rtol=0)  # padding never leaks
    return len(maps)


def test_attention_blocks_puts_attention_in_the_top_blocks_only():
    enc = _enc("evolving", attention_blocks=1, block="preact", causal=False).eval()
    assert _attended(enc) == [[False, False], [False, False], [True, True]]
    first, second = enc.blocks[2].layers
    assert first.attention.first and first.attention.map_conv is None  # no predecessor: vanilla
    assert not second.attention.first and second.attention.map_conv is not None
    assert _maps_and_no_leak(enc) == 2
    every = _enc("evolving", attention_blocks=3)
    assert set(every.state_dict()) == set(_enc("evolving").state_dict())
    assert _enc("evolving", attention_blocks=9).config["attention_blocks"] == 9  # all 3 blocks
    with pytest.raises(ValueError, match="attention_blocks must be"):
        _enc("evolving", attention_blocks=0)


@pytest.mark.parametrize("mode", ["evolving", "residual"])
def test_attention_place_bottom_puts_attention_in_the_first_blocks(mode):
    enc = _enc(mode, attention_blocks=2, attention_place="bottom", block="preact",
               causal=False).eval()
    assert _attended(enc) == [[True, True], [True, True], [False, False]]
    firsts = [layer.attention.first for b in enc.blocks[:2] for layer in b.layers]
    assert firsts == [True, False, False, False]  # one chain of maps, from the first sub-layer
    top = _enc(mode, attention_blocks=2, block="preact", causal=False)
    assert _attended(top) == [[False, False], [True, True], [True, True]]
    assert _maps_and_no_leak(enc) == 4
    # the place is saved; a config without it (an older model file) reads as the top
    assert EADCEncoder.from_config(enc.config).config == enc.config
    old = {k: v for k, v in enc.config.items() if k != "attention_place"}
    assert EADCEncoder.from_config(old).config["attention_place"] == "top"
    # every block attended: the place changes nothing
    every = _enc(mode, attention_blocks=None, attention_place="bottom")
    assert set(every.state_dict()) == set(_enc(mode, attention_blocks=None).state_dict())
    with pytest.raises(ValueError, match="attention_place must be one of"):
        _enc(mode, attention_place="middle")


def _open_gates(enc, seed=0):
    """Random gate weights, as after training, so that attention reaches the output."""
    g = torch.Generator().manual_seed(seed)
    gates = [m.gate for m in enc.modules() if isinstance(m, AttentionDilatedConv) and hasattr(m, "gate")]
    with torch.no_grad():
        for gate in gates:
            gate.weight.copy_(torch.randn(gate.weight.shape, generator=g) * 0.5)
    return gates


@pytest.mark.parametrize("block, causal, output_block", LAYOUTS)
def test_gated_merge_starts_as_the_backbone(block, causal, output_block):
    layout = {"block": block, "causal": causal, "output_block": output_block}
    gated = _enc("evolving", attention_merge="gated", attention_blocks=2, **layout).eval()
    backbone = _enc("none", seed=1, **layout).eval()
    weights = gated.state_dict()
    extra = set(weights) - set(backbone.state_dict())
    assert extra and all(".attention." in k or k.endswith(".gate.weight") for k in extra)
    backbone.load_state_dict({k: v for k, v in weights.items() if k not in extra})
    for layer in (layer for b in gated.blocks for layer in b.layers):
        assert layer.conv.out_channels == 16  # the conv keeps every channel of d_model 16
    x = torch.randn(3, 2, 50)
    x[1, :, 35:] = NAN
    with torch.no_grad():
        torch.testing.assert_close(gated(x), backbone(x), atol=0, rtol=0, equal_nan=True)
        _open_gates(gated)
        assert not torch.allclose(gated(x)[0], backbone(x)[0])


def test_gated_merge_opens_under_training():
    enc = _enc("evolving", attention_merge="gated", dropout=0.0).train()
    query = next(p for n, p in enc.named_parameters() if ".attention." in n and "weight" in n)
    gates = [m.gate.weight for m in enc.modules() if hasattr(m, "gate")]
    assert len(gates) == 6 and all((g == 0).all() for g in gates)  # 3 blocks x 2 sub-layers
    opt = torch.optim.SGD(enc.parameters(), lr=0.1)
    x = torch.randn(4, 2, 40)
    for step in range(2):
        opt.zero_grad()
        enc(x).pow(2).mean().backward()
        if step == 0:  # a closed gate passes no gradient to the attention behind it
            assert query.grad.abs().max() == 0
            assert all(g.grad.abs().max() > 0 for g in gates)
        opt.step()
    assert query.grad.abs().max() > 0
    assert all((g != 0).any() for g in gates)


@pytest.mark.parametrize("block, causal, output_block", LAYOUTS)
@pytest.mark.parametrize("mode", ATT_MODES)
def test_gated_merge_padding_never_leaks(mode, block, causal, output_block):
    enc = _enc(mode, attention_merge="gated", max_attention_len=16, block=block, causal=causal,
               output_block=output_block).eval()
    _open_gates(enc)
    s = _series(50)
    batch = torch.full((2, 2, 80), NAN)
    batch[0, :, :50] = s
    batch[1, :, :60] = _series(60, seed=2)  # the same attention stride as 50 steps alone
    with torch.no_grad():
        torch.testing.assert_close(enc(batch)[0, :50], enc(s.unsqueeze(0))[0], atol=1e-5, rtol=0)


def test_attention_merge_is_checked_and_only_concat_limits_the_attention_width():
    with pytest.raises(ValueError, match="attention_merge must be one of"):
        _enc("evolving", attention_merge="add")
    with pytest.raises(ValueError, match="too small for"):  # 16 attention channels of 16
        _enc("evolving", v_ratio=1.0)
    enc = _enc("evolving", v_ratio=1.0, attention_merge="gated")
    assert enc.blocks[0].layers[0].gate.weight.shape == (16, 16, 1)
    assert enc.config["attention_merge"] == "gated"
    assert EADCEncoder.from_config(enc.config).config == enc.config


def _logit_std(enc, x):
    """Standard deviation of the fresh logits of the first attention sub-layer for input x."""
    att = enc.blocks[0].layers[0].attention
    seen = []
    handle = att.register_forward_hook(lambda _m, _i, out: seen.append(out[1]))
    with torch.no_grad():
        enc(x)
    handle.remove()
    return float(seen[0].std())


def test_attention_norm_starts_the_logits_near_unit_variance():
    x = torch.randn(16, 2, 64, generator=torch.Generator().manual_seed(0))
    for scale in (1.0, 10.0):  # the default start: 0.2 and 15
        plain = _enc("vanilla", d_model=64, n_heads=8, dropout=0.0).eval()
        normed = _enc("vanilla", d_model=64, n_heads=8, dropout=0.0, attention_norm=True).eval()
        assert 0.6 < _logit_std(normed, scale * x) < 1.6
        # the default start: logits far from unit variance (narrow heads, raw tokens)
        assert not 0.6 < _logit_std(plain, scale * x) < 1.6
    att = normed.blocks[0].layers[0].attention
    assert isinstance(att.qk_norm, torch.nn.LayerNorm)
    assert abs(float(att.qk.weight.detach().std()) * 64**0.5 - 1.0) < 0.1


def test_attention_norm_is_checked_saved_in_the_config_and_on_by_default():
    with pytest.raises(ValueError, match="attention_norm must be True or False"):
        _enc("evolving", attention_norm=1)
    assert EADCEncoder(2).config["attention_norm"] is True
    plain = _enc("evolving")
    assert plain.config["attention_norm"] is False
    assert not any("qk_norm" in key for key in plain.state_dict())  # older files' keys
    normed = _enc("evolving", attention_norm=True)
    assert sum("qk_norm" in key for key in normed.state_dict()) == 2 * 2 * 3  # weight, bias
    # heads that all reuse their predecessor's logits project nothing, so no unused norm
    reused = _enc("reuse", n_heads=4, reuse_heads=4, attention_norm=True)
    assert sum("qk_norm" in key for key in reused.state_dict()) == 2  # the first sub-layer only
    assert EADCEncoder.from_config(normed.config).config == normed.config
    old = {k: v for k, v in plain.config.items() if k != "attention_norm"}
    assert EADCEncoder.from_config(old).config == plain.config


@pytest.mark.parametrize("block, causal, output_block", LAYOUTS)
@pytest.mark.parametrize("mode", ATT_MODES)
def test_attention_norm_padding_never_leaks(mode, block, causal, output_block):
    enc = _enc(mode, attention_norm=True, max_attention_len=16, block=block, causal=causal,
               output_block=output_block).eval()
    s = _series(50)
    batch = torch.full((2, 2, 80), NAN)
    batch[0, :, :50] = s
    batch[1, :, :60] = _series(60, seed=2)
    with torch.no_grad():
        torch.testing.assert_close(enc(batch)[0, :50], enc(s.unsqueeze(0))[0], atol=1e-5, rtol=0)


def test_map_init_is_checked_saved_in_the_config_and_torch_for_old_configs():
    with pytest.raises(ValueError, match="map_init must be one of"):
        _enc("evolving", map_init="eye")
    assert EADCEncoder(2).config["map_init"] == "torch"
    enc = _enc("evolving", map_init="identity")
    convs = [m for m in enc.modules() if type(m).__name__ == "MapConv"]
    assert convs and all(c.init == "identity" for c in convs)
    assert EADCEncoder.from_config(enc.config).config == enc.config
    old = {k: v for k, v in _enc("evolving").config.items() if k != "map_init"}
    assert EADCEncoder.from_config(old).config["map_init"] == "torch"
    # the start differs, the parameters' names do not (model files keep their keys)
    assert enc.state_dict().keys() == _enc("evolving").state_dict().keys()


def _paired_starts(paired, seed=0, **kw):
    """State dicts of the four attention modes built at one seed (TS2Vec's layout, attention in
    the top 2 of 4 blocks)."""
    return {m: _enc(m, seed=seed, depth=4, block="preact", causal=False, attention_blocks=2,
                    paired_init=paired, **kw).state_dict()
            for m in ("none", "vanilla", "residual", "evolving")}


def _shared_equal(a, b):
    """Each parameter of ``a`` that ``b`` also has equals it; a narrower one equals its first
    rows (an attended convolution against the attention-free one)."""
    out = {}
    for k, v in a.items():
        if k in b:
            w = b[k]
            out[k] = torch.equal(v, w[: v.shape[0]]) if v.shape[0] <= w.shape[0] else False
    return out


@pytest.mark.parametrize("merge", ["concat", "gated"])
def test_paired_init_starts_every_shared_weight_alike_in_all_modes(merge):
    sd = _paired_starts(True, attention_merge=merge)
    for mode in ("vanilla", "residual", "evolving"):
        shared = _shared_equal(sd[mode], sd["none"])
        assert len(shared) == len(sd["none"]) and all(shared.values()), mode
    # vanilla, residual and evolving also share every attention weight but the map convolution
    for mode in ("residual", "evolving"):
        assert all(_shared_equal(sd["vanilla"], sd[mode]).values())
    assert any("map_conv" in k for k in sd["evolving"])
    # one stream in build order (the old start): the weights after the first attended layer differ
    old = _paired_starts(False, attention_merge=merge)
    assert not all(_shared_equal(old["evolving"], old["none"]).values())
    assert not torch.equal(old["evolving"]["output_projection.weight"],
                           old["none"]["output_projection.weight"])


def test_paired_init_changes_nothing_without_attention_and_draws_fresh_streams():
    for a, b in zip(_paired_starts(False)["none"].values(), _paired_starts(True)["none"].values()):
        assert torch.equal(a, b)
    sd, again, other = _paired_starts(True), _paired_starts(True), _paired_starts(True, seed=1)
    for k, v in sd["evolving"].items():
        assert torch.equal(v, again["evolving"][k])
    qk = [v for k, v in sd["evolving"].items() if k.endswith("attention.qk.weight")]
    assert len(qk) == 4 and not any(torch.equal(qk[0], w) for w in qk[1:])  # a stream per layer
    assert not torch.equal(qk[0], [v for k, v in other["evolving"].items()
                                   if k.endswith("attention.qk.weight")][0])
    # the building leaves torch's generator where the attention-free build leaves it
    torch.manual_seed(3)
    EADCEncoder(2, mode="none")
    after_none = torch.rand(4)
    torch.manual_seed(3)
    EADCEncoder(2, mode="evolving", paired_init=True)
    assert torch.equal(torch.rand(4), after_none)


def test_paired_init_is_checked_saved_in_the_config_and_false_for_old_configs():
    with pytest.raises(ValueError, match="paired_init must be True or False"):
        _enc("evolving", paired_init=1)
    enc = _enc("evolving", paired_init=True)
    assert enc.config["paired_init"] is True and EADCEncoder(2).config["paired_init"] is False
    assert EADCEncoder.from_config(enc.config).config == enc.config
    old = {k: v for k, v in enc.config.items() if k != "paired_init"}
    assert EADCEncoder.from_config(old).config["paired_init"] is False
    assert enc.state_dict().keys() == _enc("evolving").state_dict().keys()


@pytest.mark.parametrize("mode", ["none", "vanilla", "residual", "evolving"])
def test_fewer_heads_than_the_default_reuse_heads_outside_reuse_mode(mode):
    # reuse_heads (default 4) was checked against n_heads in every mode, so EADCEncoder(...,
    # n_heads=2) failed although only the reuse mode reads it
    enc = EADCEncoder(2, d_model=8, repr_dim=8, depth=2, n_heads=2, mode=mode)
    assert enc(torch.randn(3, 2, 10)).shape == (3, 10, 8)
    with pytest.raises(ValueError, match=r"reuse_heads must be in \[0, n_heads=2\], got 4"):
        EADCEncoder(2, d_model=8, repr_dim=8, depth=2, n_heads=2, mode="reuse")
