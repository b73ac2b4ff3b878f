"""results.md, published numbers and plots of the archive benchmark."""

import importlib.util
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from tsea.benchmark import report
from tsea.benchmark.results import append_row
from tsea.benchmark.scores import score

ACC = {  # dataset -> method -> accuracy (seed 0); seed 1 shifts ea-dc by +0.02
    "D1": {"ea-dc": 0.90, "minirocket": 0.80, "ts2vec": 0.70},
    "D2": {"ea-dc": 0.60, "minirocket": 0.95, "ts2vec": 0.50},
    "D3": {"ea-dc": 0.85, "minirocket": 0.75, "ts2vec": 0.80},
    "D4": {"ea-dc": 0.70, "minirocket": 0.60, "ts2vec": 0.65},
    "D5": {"ea-dc": 0.55, "minirocket": 0.50, "ts2vec": 0.40},
    "GunPoint": {"ea-dc": 0.97, "minirocket": None, "ts2vec": 0.99},
}


def _write(out):
    path = str(out / "results.csv")
    for d, scores in ACC.items():
        for m, s in scores.items():
            for seed in (0, 1):
                row = {"dataset": d, "task": "classification", "method": m, "seed": seed,
                       "metric": "accuracy", "fit_seconds": 2.0 if m == "ea-dc" else 1.0,
                       "transform_seconds": 0.1, "peak_memory_mb": 300.0}
                if s is None:
                    row.update(status="failed", error="RuntimeError: boom")
                else:
                    bump = 0.02 if (m == "ea-dc" and seed == 1) else 0.0
                    row.update(status="ok", score=s + bump)
                append_row(path, row)
    for m, rmse in (("ea-dc", 2.0), ("minirocket", 1.5)):
        append_row(path, {"dataset": "R1", "task": "regression", "method": m, "seed": 0,
                          "metric": "rmse", "score": rmse, "status": "ok",
                          "fit_seconds": 1.0, "transform_seconds": 0.1})


def _table(md, title):
    block = md.split(title)[1].split("\n## ")[0]
    lines = [ln for ln in block.splitlines() if ln.startswith("| ")]
    return {ln.split(" | ")[0][2:]: [c.strip() for c in ln.strip(" |").split(" | ")[1:]]
            for ln in lines[1:]}


@pytest.mark.parametrize("truth, predicted, expected", [
    (np.array([1, 2, 2, 1]), np.array([1.0, 2.0, 1.0, 1.0]), 0.75),  # numbers: 1 and 1.0 alike
    (np.array(["1", "2", "2", "1"]), np.array([1, 2, 1, 1]), 0.75),  # text against numbers
    (np.array(["1", "2", "2", "1"]), np.array(["1.0", "2", "1", "1"]), 0.5),  # two texts
])
def test_accuracy_compares_labels_as_tsea_evaluate_does(truth, predicted, expected):
    assert score("classification", truth, predicted) == ("accuracy", expected)


def test_report_bold_best_mean_and_rank(tmp_path):
    _write(tmp_path)
    md = open(report.write_report(str(tmp_path))).read()
    cls = _table(md, "Classification accuracy")
    assert cls["D1"][:3] == ["**0.9100**", "0.8000", "0.7000"]  # mean over seeds, best bold
    assert cls["D2"][:3] == ["0.6100", "**0.9500**", "0.5000"]
    assert cls["GunPoint"][:3] == ["0.9800", "–", "**0.9900**"]
    # means and ranks over the 5 complete datasets (GunPoint lacks minirocket)
    mean = cls["mean accuracy (5 complete datasets)"]
    assert mean[:3] == ["0.7300", "0.7200", "0.6100"]
    assert cls["mean rank (5 complete datasets)"][:3] == ["1.20", "2.20", "2.60"]
    reg = _table(md, "Regression RMSE")
    assert reg["R1"][:2] == ["2.0000", "**1.5000**"]  # lower is better
    assert "RuntimeError: boom" in md and "ea-dc / ts2vec fit time" in md
    assert "(2 seeds)" in md


def test_published_numbers_shown_and_sourced(tmp_path, monkeypatch):
    pub = tmp_path / "pub.csv"
    pub.write_text("dataset,archive,method,metric,score,source\n"
                   "GunPoint,UCR,TS2Vec,accuracy,0.98,Yue et al. AAAI 2022 Table X\n")
    monkeypatch.setattr(report, "PUBLISHED_CSV", str(pub))
    _write(tmp_path)
    md = open(report.write_report(str(tmp_path), plots=False)).read()
    cls = _table(md, "Classification accuracy")
    assert "TS2Vec (published)" in md
    assert cls["GunPoint"][-1] == "0.9800" and cls["D1"][-1] == "–"
    pub.write_text("dataset,archive,method,metric,score,source\nGunPoint,UCR,TS2Vec,accuracy,0.98,\n")
    with pytest.raises(ValueError, match="needs a source"):
        report.load_published(str(pub))


def test_shipped_published_csv_has_a_source_for_every_number():
    df = report.load_published()
    assert list(df.columns) == report.PUBLISHED_COLUMNS
    assert df["source"].str.len().min() > 10 if len(df) else True
    assert df["score"].between(0, 1).all()
    assert not df.duplicated(["dataset", "method"]).any()
    assert set(df["method"]) <= {"TS2Vec", "T-Loss", "MiniRocket"}


def test_plots_are_written_and_not_blank(tmp_path):
    _write(tmp_path)
    md = open(report.write_report(str(tmp_path))).read()
    for name in ("critical_difference.png", "scatter_classification_ea-dc_vs_minirocket.png",
                 "scatter_classification_ea-dc_vs_ts2vec.png",
                 "scatter_regression_ea-dc_vs_minirocket.png"):
        assert f"plots/{name}" in md
        img = mpimg.imread(str(tmp_path / "plots" / name))
        assert np.ptp(img[..., :3]) > 0.1


def test_a_plot_cut_short_leaves_the_plot_before_it(tmp_path, monkeypatch):
    # savefig wrote straight to the plot's name: a full disk left a truncated image there
    import matplotlib.figure

    _write(tmp_path)
    report.write_report(str(tmp_path))
    plots = tmp_path / "plots"
    before = {p.name: p.read_bytes() for p in plots.iterdir()}

    def cut_short(fig, fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError(27, "File too large")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", cut_short)
    with pytest.raises(OSError, match="File too large"):
        report.write_report(str(tmp_path))
    assert {p.name: p.read_bytes() for p in plots.iterdir()} == before  # and no temp files


def test_plots_of_methods_no_longer_in_the_results_are_removed(tmp_path):
    _write(tmp_path)
    report.write_report(str(tmp_path))
    mine = tmp_path / "plots" / "my_notes.png"
    mine.write_bytes(b"not ours")
    results = tmp_path / "results.csv"
    frame = pd.read_csv(results)
    frame[frame["method"] != "ts2vec"].to_csv(results, index=False)
    md = open(report.write_report(str(tmp_path))).read()
    assert not (tmp_path / "plots" / "scatter_classification_ea-dc_vs_ts2vec.png").exists()
    assert (tmp_path / "plots" / "scatter_classification_ea-dc_vs_minirocket.png").exists()
    assert mine.read_bytes() == b"not ours" and "vs_ts2vec" not in md
    # one method left: nothing to draw, and no plots of before
    frame[frame["method"] == "ea-dc"].to_csv(results, index=False)
    report.write_report(str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["my_notes.png"]
    mine.unlink()
    report.write_report(str(tmp_path))
    assert not (tmp_path / "plots").exists()  # no empty folder left


def test_a_bar_in_a_name_stays_inside_its_cell(tmp_path):
    append_row(str(tmp_path / "results.csv"), {
        "dataset": "D|1", "task": "classification", "method": "my|cfg", "seed": 0,
        "metric": "accuracy", "score": 0.5, "status": "ok", "fit_seconds": 1.0,
        "transform_seconds": 0.1})
    md = open(report.write_report(str(tmp_path), plots=False)).read()
    rows = [ln for ln in md.splitlines() if ln.startswith("| D")]
    assert rows and all(ln.replace("\\|", "").count("|") == 3 for ln in rows)
    assert "| D\\|1 | **0.5000** |" in md and "my\\|cfg (1 seed)" in md


def test_no_cd_diagram_with_too_few_datasets(tmp_path):
    table = pd.DataFrame({"a": [0.1, 0.2], "b": [0.3, 0.1], "c": [0.5, 0.5]})
    from tsea.benchmark.plots import critical_difference

    assert critical_difference(table, str(tmp_path / "cd.png")) is None


def _goals_script():
    script = Path(__file__).parents[1] / "benchmarks" / "goals.py"
    spec = importlib.util.spec_from_file_location("goals", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_goals_script(tmp_path, capsys):
    _write(tmp_path)
    abl = {"D1": (0.5, 0.95, 0.905), "D2": (0.4, 0.3, 0.2)}  # none, vanilla, residual
    for d, scores in abl.items():
        for m, s in zip(("ablation-none", "ablation-vanilla", "ablation-residual"), scores):
            append_row(str(tmp_path / "results.csv"), {
                "dataset": d, "task": "classification", "method": m, "seed": 0,
                "metric": "accuracy", "score": s, "status": "ok", "fit_seconds": 1.0})
    md = open(report.write_report(str(tmp_path), plots=False)).read()
    assert "## Goals" not in md  # the project's targets are not library output
    goals_script = _goals_script()
    goals_script.main([str(tmp_path)])
    goals = capsys.readouterr().out.split("## Goals")[1]
    # ea-dc (0.91+0.61+0.86+0.71+0.56+0.98)/6 vs ts2vec (0.7+0.5+0.8+0.65+0.4+0.99)/6
    assert "ea-dc 0.7717 vs ts2vec 0.6733 (+0.0983) on 6 datasets, seeds ea-dc 2, ts2vec 2: met" in goals
    assert "median 2.00x (max 2.00x): NOT met" in goals  # ea-dc fits take 2x
    assert "ts2vec-like vs ts2vec: not measured" in goals
    # ranked at seed 0, the one seed all four have. D1: ea-dc 3rd (0.90 < 0.905 < 0.95; its
    # 2-seed mean, 0.91, would have been 2nd), D2: ea-dc 1st -> ea-dc 2.00, none 3.00,
    # vanilla 2.00, residual 3.00: ea-dc ties vanilla, so it is not first
    assert ("ea-dc 2.00, ablation-none 3.00, ablation-vanilla 2.00, ablation-residual 3.00; "
            "seeds 0 (those all four have; seeds ea-dc 2, ablation-none 1, ablation-vanilla 1, "
            "ablation-residual 1): NOT met") in goals
    # a margin of 10 points is not met by +9.83
    goals_script.main([str(tmp_path), "--margin", "10"])
    assert "(+0.0983) on 6 datasets, seeds ea-dc 2, ts2vec 2: NOT met" in capsys.readouterr().out


def test_goals_script_reads_head_study_rows(tmp_path, capsys):
    rows = []
    for d, (ea, ref, like, fit) in {"D1": (0.80, 0.78, 0.785, 3.0), "D2": (0.60, 0.60, 0.59, 1.0),
                                    "D3": (0.70, 0.69, 0.69, 1.2)}.items():
        for m, s, f in (("ea-dc", ea, fit), ("ts2vec", ref, 1.0), ("ts2vec-like", like, 1.0)):
            for head, bump in (("logistic", 0.0), ("svm", -0.5)):
                rows.append({"dataset": d, "method": m, "seed": 0, "head": head,
                             "score": s + bump, "embed_fit_seconds": f, "head_fit_seconds": 0.1})
    path = tmp_path / "heads.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    goals_script = _goals_script()
    with pytest.raises(SystemExit, match="pick one with --head"):
        goals_script.main([str(path)])
    goals_script.main([str(path), "--head", "logistic", "--margin", "0"])
    goals = capsys.readouterr().out
    assert "ea-dc 0.7000 vs ts2vec 0.6900 (+0.0100) on 3 datasets, seeds ea-dc 1, ts2vec 1: met" in goals
    assert "median 1.20x (max 3.00x): met" in goals  # the median, not the maximum, is bounded
    assert "ts2vec-like 0.6883 vs ts2vec 0.6900 (-0.0017) on 3 datasets" in goals
    assert "(goal: within 0.0050)" in goals and "-0.0017) on 3 datasets, seeds ts2vec-like 1, ts2vec 1: met" in goals
    assert "no rows of ablation-none, ablation-vanilla, ablation-residual" in goals


def test_goals_script_joins_sources_by_named_methods(tmp_path, capsys):
    def study(name, rows):
        path = tmp_path / name
        pd.DataFrame([{"dataset": d, "method": m, "seed": 0, "head": "logistic", "score": s,
                       "embed_fit_seconds": 1.0, "head_fit_seconds": 0.1}
                      for d, m, s in rows]).to_csv(path, index=False)
        return str(path)

    cand = study("cand.csv", [("D1", "cand", 0.9), ("D2", "cand", 0.7),
                              ("D1", "ea-dc", 0.1), ("D2", "ea-dc", 0.1)])
    ref = study("ref.csv", [("D1", "ts2vec", 0.8), ("D2", "ts2vec", 0.6),
                            ("D1", "ea-dc", 0.5), ("D2", "ea-dc", 0.5)])
    goals_script = _goals_script()
    # the candidate's rows count as ea-dc, and ref.csv's own ea-dc rows are left out
    goals_script.main([f"{cand}:cand=ea-dc", f"{ref}:ts2vec", "--head", "logistic", "--margin", "0"])
    assert "ea-dc 0.8000 vs ts2vec 0.7000 (+0.1000) on 2 datasets" in capsys.readouterr().out
    # without the names, D1 ea-dc seed 0 is in both files: an error, not a choice
    with pytest.raises(SystemExit, match=r"D1 ea-dc seed 0 is in .*cand.csv.* and .*ref.csv"):
        goals_script.main([cand, ref, "--head", "logistic"])
    with pytest.raises(SystemExit, match="has no rows of nope"):
        goals_script.main([f"{ref}:nope", "--head", "logistic"])
    with pytest.raises(SystemExit, match="named twice"):
        goals_script.main([f"{ref}:ts2vec,ts2vec=x", "--head", "logistic"])


def test_header_says_when_datasets_have_different_seed_counts(tmp_path):
    path = str(tmp_path / "results.csv")
    for d, seeds in (("D1", (0, 1, 2)), ("D2", (0,))):
        for m in ("ea-dc", "ts2vec"):
            for seed in seeds if m == "ea-dc" else (0, 1):
                append_row(path, {"dataset": d, "task": "classification", "method": m,
                                  "seed": seed, "metric": "accuracy", "score": 0.5,
                                  "status": "ok", "fit_seconds": 1.0})
    md = open(report.write_report(str(tmp_path))).read()
    header = next(ln for ln in md.splitlines() if ln.startswith("| dataset"))
    assert "ea-dc (1-3 seeds)" in header and "ts2vec (2 seeds)" in header


def test_goals_rank_uses_the_seeds_all_four_have_on_each_set(tmp_path, capsys):
    # D1 has seeds 0 and 1 of all four methods; D2 has seed 0 of all four and seed 1 of ea-dc
    # alone (a run stopped part way)
    scores = {  # (dataset, seed): ea-dc, none, vanilla, residual
        ("D1", 0): (0.5, 0.6, 0.7, 0.8), ("D1", 1): (0.9, 0.6, 0.7, 0.8),
        ("D2", 0): (0.35, 0.1, 0.2, 0.3), ("D2", 1): (0.0, None, None, None)}
    path = str(tmp_path / "results.csv")
    for (d, seed), values in scores.items():
        for m, s in zip(("ea-dc", "ablation-none", "ablation-vanilla", "ablation-residual"), values):
            if s is not None:
                append_row(path, {"dataset": d, "task": "classification", "method": m,
                                  "seed": seed, "metric": "accuracy", "score": s,
                                  "status": "ok", "fit_seconds": 1.0})
    goals_script = _goals_script()
    goals_script.main([str(tmp_path)])
    # D1 on seeds 0 and 1: ea-dc 0.70 ties vanilla (2.5), residual 1st, none 4th. D2 on seed 0
    # only: ea-dc 1st (with its seed 1 in, its mean 0.175 would have been 3rd), residual 2nd,
    # vanilla 3rd, none 4th -> ea-dc 1.75, none 4.00, vanilla 2.75, residual 1.50
    assert ("ea-dc 1.75, ablation-none 4.00, ablation-vanilla 2.75, ablation-residual 1.50; seeds "
            "0,1 (those all four have on each set: 2 on 1 sets, 1 on 1 sets;") in capsys.readouterr().out
    # read at seed 0 only: D1 ea-dc 4th, D2 1st -> 2.50, 3.50, 2.50, 1.50
    goals_script.main([str(tmp_path), "--rank-seeds", "0"])
    assert ("ea-dc 2.50, ablation-none 3.50, ablation-vanilla 2.50, ablation-residual 1.50; seeds 0 "
            "(those all four have;") in capsys.readouterr().out
