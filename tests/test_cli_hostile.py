"""Hostile input through the command line and the estimators (issue #18 items 1, 2, 3, 7, 9):
exit 1 for bad data or models, 2 for usage errors, never a silent wrong result or a lost file."""

import os

import numpy as np
import pytest
from conftest import TINY, saved_tiny_model

from tsea.cli import main
from tsea.data.scale import MAX_NETWORK_INPUT
from tsea.estimators import EAEncoder


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny channel-normalised encoder fitted on N(0, 1) data, saved."""
    enc, path = saved_tiny_model(tmp_path_factory.mktemp("model"), 6, 1)
    return enc, str(path)


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def wide_csv(path, rows, trailing=""):
    lines = ["id,label," + ",".join(f"t{t}" for t in range(len(rows[0][2])))]
    lines += [f"{i},{y}," + ",".join(repr(float(v)) for v in vals) + trailing for i, y, vals in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# -- item 1: a trailing comma keeps classification a classification ------------------------------
def test_evaluate_with_trailing_commas_is_classification(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = [(f"s{i}", "up" if i % 2 else "down", rng.normal(size=8) + (i % 2)) for i in range(8)]
    train = wide_csv(tmp_path / "train.csv", rows, trailing=",")
    test = wide_csv(tmp_path / "test.csv", rows[:4], trailing=",")
    code, out, err = run(["evaluate", "--data", train, "--test", test, "--config", "tiny",
                          "--set", "n_iters=1", "--quiet"], capsys)
    assert code == 0, err
    assert out.startswith("accuracy: ")  # not rmse/mae of the first time step


def test_evaluate_notes_test_labels_that_training_lacks(tmp_path, capsys):
    rng = np.random.default_rng(2)
    rows = [(f"s{i}", "up" if i % 2 else "down", rng.normal(size=8)) for i in range(8)]
    train = wide_csv(tmp_path / "train.csv", rows)
    test = wide_csv(tmp_path / "test.csv", rows[:4] + [("n1", "flat", rng.normal(size=8))])
    code, out, err = run(["evaluate", "--data", train, "--test", test, "--config", "tiny",
                          "--set", "n_iters=1", "--quiet"], capsys)
    assert code == 0, err
    assert err.strip() == ("tsea evaluate: note: 1 of 5 test series have a label that no training "
                           "series has ('flat'); they count as errors")
    assert float(out.split()[-1]) <= 0.8
    code, _, err = run(["evaluate", "--data", train, "--test", train, "--config", "tiny",
                        "--set", "n_iters=1", "--quiet"], capsys)
    assert code == 0 and err == ""
    # targets that are no class labels fail first, not after a note that they are unseen
    code, _, err = run(["evaluate", "--data", "Covid3Month", "--task", "classification",
                        "--config", "tiny", "--quiet"], capsys)
    assert code == 1 and err.strip() == ("tsea: error: Unknown label type: 'continuous'; "
                                         "EAClassifier needs class labels")


def test_embed_with_trailing_commas_keeps_the_ids(tmp_path, model, capsys):
    rows = [(f"s{i}", "x", np.arange(6.0) + i) for i in range(3)]
    data = wide_csv(tmp_path / "x.csv", rows, trailing=",")
    code, _, err = run(["embed", "--model", model[1], data, "-o", str(tmp_path / "e.csv"), "-q"],
                       capsys)
    assert code == 0, err
    assert [line.split(",")[0] for line in (tmp_path / "e.csv").read_text().splitlines()[1:]] == [
        "s0", "s1", "s2"]


# -- item 7: NA-like ids and labels are text, also for embed -------------------------------------
def test_embed_reads_na_labels_and_ids_as_text(tmp_path, model, capsys):
    path = tmp_path / "x.csv"
    path.write_text("id,label,t0,t1,t2\nNA,NA,1,2,3\nnull,None,2,3,4\nn/a,n/a,0,1,2\n")
    code, _, err = run(["embed", "--model", model[1], str(path), "-o", str(tmp_path / "e.csv"),
                        "-q"], capsys)
    assert code == 0, err
    ids = [line.split(",")[0] for line in (tmp_path / "e.csv").read_text().splitlines()[1:]]
    assert ids == ["NA", "null", "n/a"]


# -- item 2: values that overflow float32 inside the network -------------------------------------
def test_transform_refuses_huge_values_naming_series_and_step(model):
    enc, _ = model
    X = np.random.default_rng(2).normal(size=(3, 1, 12))
    X[1, 0, 7] = 1e25
    with pytest.raises(ValueError, match=r"X: series 1, channel 0, step 7 has value 1e\+25, .* after "
                       r"normalisation; tsea accepts at most 1e\+15"):
        enc.transform(X)
    with pytest.raises(ValueError, match="series 1, channel 0, step 7"):
        enc.attention_maps(X)


def test_fit_refuses_huge_values_without_normalisation():
    X = np.random.default_rng(3).normal(size=(4, 1, 12))
    X[2, 0, 3] = -2 * MAX_NETWORK_INPUT
    with pytest.raises(ValueError, match="series 2, channel 0, step 3 has value -2e\\+15"):
        EAEncoder(normalize=None, random_state=0, **TINY).fit(X)


def test_values_up_to_the_limit_give_finite_embeddings(model):
    # values only: the differences of +-MAX_NETWORK_INPUT would exceed the limit themselves
    # (that error is tested in test_differences.py)
    enc = EAEncoder(normalize=None, differences=False, random_state=0, **TINY).fit(
        np.ones((2, 1, 12)))
    X = np.ones((2, 1, 12))
    X[0, 0, 4] = MAX_NETWORK_INPUT
    X[1] = -MAX_NETWORK_INPUT
    assert np.isfinite(enc.transform(X, pooling="max+mean")).all()


def test_series_normalisation_of_huge_values_is_exact():
    from tsea.data.scale import channel_stats, series_normalize

    X = np.zeros((1, 1, 4), dtype=np.float32)
    X[0, 0] = [1e20, -1e20, 1e20, -1e20]  # squares overflow float32, not float64
    np.testing.assert_allclose(series_normalize(X)[0, 0], [1, -1, 1, -1], rtol=1e-6)
    mean, std = channel_stats(X)
    assert mean[0] == 0 and np.isclose(std[0], 1e20, rtol=1e-6)


@pytest.mark.parametrize("unit", [1e-9, 1e-30, 1e9])
def test_normalisation_does_not_depend_on_the_unit_of_the_data(unit):
    """A std under 1e-8 counted as a constant channel: data in small units (1e-9) was left
    unscaled and every series got nearly the same embedding."""
    from tsea.data.scale import channel_stats, series_normalize

    X = np.random.default_rng(0).normal(size=(5, 3, 20))
    X[:, 2] = 0.1  # constant: std 1, as before
    X[3, 1] = 0.7  # constant within one series
    small = X * unit
    np.testing.assert_allclose(series_normalize(small), series_normalize(X), rtol=1e-4, atol=1e-5)
    (mean, std), (mean_small, std_small) = channel_stats(X), channel_stats(small)
    np.testing.assert_allclose(std_small[:2], std[:2] * unit, rtol=1e-5)
    np.testing.assert_allclose(mean_small[:2], mean[:2] * unit, rtol=1e-5)
    assert std[2] == std_small[2] == 1
    flat = np.concatenate([series_normalize(small)[3, 1], series_normalize(small)[:, 2].ravel()])
    assert np.abs(flat).max() < 1e-6  # constant: centred, not magnified


def test_non_finite_embeddings_are_an_error_naming_the_series(model, monkeypatch):
    import torch

    enc, _ = model
    forward = enc.encoder_.forward

    def broken(x, *args, **kwargs):
        H = forward(x, *args, **kwargs)
        return torch.where(x[:, :1, :1].transpose(1, 2) > 100, torch.nan, H)

    monkeypatch.setattr(enc.encoder_, "forward", broken)
    X = np.zeros((3, 1, 12))
    X[2, 0, 0] = 1000.0  # finite and in range, but this encoder turns it into NaN
    with pytest.raises(ValueError, match=r"X: the embedding of series 2 is not finite"):
        enc.transform(X)
    with pytest.raises(ValueError, match="series 2 is not finite"):
        enc.transform(X, pooling=None)
    assert np.isfinite(enc.transform(X[:2])).all()


def test_cli_embed_of_huge_values_exits_1_and_writes_nothing(tmp_path, model, capsys):
    data = tmp_path / "x.csv"
    data.write_text("id,t0,t1,t2\na,1,2,3\nb,4,1e25,6\n")
    out = tmp_path / "e.csv"
    code, _, err = run(["embed", "--model", model[1], str(data), "-o", str(out), "-q"], capsys)
    assert code == 1 and not out.exists()
    assert err.startswith(f"tsea: error: {data}: series 1 (id 'b'), channel 0, step 1 has value 1e+25")
    assert len(err.strip().splitlines()) == 1


def test_cli_attention_of_a_huge_value_names_the_chosen_series(tmp_path, model, capsys):
    data = tmp_path / "x.csv"
    data.write_text("id,label,t0,t1,t2\na,,1,2,3\nb,,4,5,6\nc,,7,1e25,9\n")  # labels empty
    out = tmp_path / "a.png"
    argv = ["attention", "--model", model[1], "--data", str(data), "-o", str(out), "-q"]
    code, _, err = run([*argv, "--index", "2"], capsys)
    assert code == 1 and not out.exists()
    assert err.startswith(f"tsea: error: {data}: series 2 (id 'c'), channel 0, step 1 has value")
    code, _, err = run([*argv, "--index", "1"], capsys)
    assert code == 0 and out.exists(), err


# -- item 3: an output never overwrites an input of the same run ---------------------------------
@pytest.fixture
def data_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,t0,t1\na,1,2\nb,3,4\n")
    return path


def _refused(argv, capsys, *names):
    code, _, err = run(argv, capsys)
    assert code == 2, err
    assert "is the same file as" in err and len(err.strip().splitlines()) == 1
    for name in names:
        assert name in err
    return err


def test_fit_out_equal_to_data_is_a_usage_error(tmp_path, data_csv, capsys, monkeypatch):
    before = data_csv.read_bytes()
    _refused(["fit", "--data", str(data_csv), "--out", str(data_csv)], capsys, "--out", "--data")
    monkeypatch.chdir(tmp_path)  # restored after the test
    _refused(["fit", "--data", "x.csv", "--out", str(data_csv)], capsys)  # relative vs absolute
    assert data_csv.read_bytes() == before


def test_fit_out_a_directory_is_refused_before_the_fit(tmp_path, data_csv, capsys, monkeypatch):
    from tsea.cli import commands

    monkeypatch.setattr(commands, "estimators", lambda args: pytest.fail("the fit started"))
    code, _, err = run(["fit", "--data", str(data_csv), "--out", str(tmp_path)], capsys)
    assert code == 2
    assert f"--out {tmp_path} is a directory; give the model file to write, e.g. " in err


@pytest.mark.parametrize("command, name", [("fit", "model.csv"), ("fit", "emb.NPY"),
                                           ("evaluate", "model.parquet"), ("fit", "m.tsv")])
def test_a_model_file_named_as_a_table_is_refused_before_the_fit(tmp_path, data_csv, capsys,
                                                                 monkeypatch, command, name):
    from tsea.cli import commands

    monkeypatch.setattr(commands, "estimators", lambda args: pytest.fail("the fit started"))
    data = ["--data", str(data_csv)] + (["--test", str(data_csv)] if command == "evaluate" else [])
    code, _, err = run([command, *data, "--out", str(tmp_path / name)], capsys)
    assert code == 2
    assert f"--out names the model file to write (e.g. model.tsea), but {name[name.index('.'):].lower()} " \
           "is a table's suffix; the embeddings come from `tsea embed" in err
    assert not (tmp_path / name).exists()


def test_fit_out_equal_to_config_is_a_usage_error(tmp_path, data_csv, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("depth: 1\n")
    _refused(["fit", "--data", str(data_csv), "--config", str(config), "--out", str(config)],
             capsys, "--config")
    assert config.read_text() == "depth: 1\n"


def test_embed_output_equal_to_input_or_model_is_a_usage_error(tmp_path, data_csv, model, capsys):
    before = data_csv.read_bytes()
    _refused(["embed", "--model", model[1], str(data_csv), "-o", str(data_csv)], capsys,
             "--output", "INPUT")
    _refused(["embed", "--model", model[1], str(data_csv), "-o", model[1]], capsys, "--model")
    ids = tmp_path / "e.ids.txt"
    ids.write_text("a\n")
    _refused(["embed", "--model", model[1], str(ids), "-o", str(tmp_path / "e.npy")], capsys,
             "the ids file of --output")
    assert data_csv.read_bytes() == before


def test_embed_to_an_unknown_format_is_refused_before_reading(tmp_path, data_csv, model, capsys,
                                                              monkeypatch):
    from tsea.cli import embed_io

    monkeypatch.setattr(embed_io, "embed_file", lambda *a, **k: pytest.fail("input was read"))
    code, _, err = run(["embed", "--model", model[1], str(data_csv), "-o",
                        str(tmp_path / "e.txt")], capsys)
    assert code == 2 and "e.txt: unsupported format; use one of .csv, .npy, .parquet" in err
    assert not (tmp_path / "e.txt").exists()


def test_attention_to_an_unknown_format_is_refused_before_loading(tmp_path, data_csv, model,
                                                                   capsys, monkeypatch):
    from tsea.cli import commands

    monkeypatch.setattr(commands, "_load_model", lambda *a, **k: pytest.fail("model was loaded"))
    for name, suffix in (("a.txt", ".txt"), ("a", "(no suffix)")):
        code, _, err = run(["attention", "--model", model[1], "--data", str(data_csv), "-o",
                            str(tmp_path / name)], capsys)
        assert code == 2
        assert f"--output {tmp_path / name}: unsupported figure format {suffix}; use one of .png, " \
               ".pdf, .svg" in err
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize("suffix,magic", [(".pdf", b"%PDF"), (".SVG", b"<?xml")])
def test_attention_figure_format_follows_the_suffix(tmp_path, data_csv, model, capsys, suffix,
                                                    magic):
    out = tmp_path / f"a{suffix}"
    code, _, err = run(["attention", "--model", model[1], "--data", str(data_csv), "-o", str(out),
                        "-q"], capsys)
    assert code == 0, err
    assert out.read_bytes().startswith(magic)


def test_links_to_an_input_are_the_same_file(tmp_path, data_csv, model, capsys):
    link = tmp_path / "link.csv"
    link.symlink_to(data_csv)
    _refused(["embed", "--model", model[1], str(data_csv), "-o", str(link)], capsys)
    hard = tmp_path / "hard.csv"
    os.link(data_csv, hard)
    _refused(["embed", "--model", model[1], str(data_csv), "-o", str(hard)], capsys)
    dir_link = tmp_path / "d"
    dir_link.symlink_to(tmp_path)
    _refused(["fit", "--data", str(data_csv), "--out", str(dir_link / "x.csv")], capsys)


def test_attention_output_equal_to_data_or_model_is_a_usage_error(data_csv, model, capsys):
    _refused(["attention", "--model", model[1], "--data", str(data_csv), "-o", str(data_csv)],
             capsys, "--data")
    _refused(["attention", "--model", model[1], "--data", str(data_csv), "-o", model[1]], capsys,
             "--model")


def test_a_different_output_is_fine(tmp_path, data_csv, model, capsys):
    code, _, err = run(["embed", "--model", model[1], str(data_csv), "-o",
                        str(tmp_path / "other.csv"), "-q"], capsys)
    assert code == 0, err


# -- item 9: configuration errors raised while a command runs are usage errors ------------------
def test_config_error_during_a_command_exits_2(data_csv, tmp_path, monkeypatch, capsys):
    from tsea.cli import commands
    from tsea.config import ConfigError

    def bad_params(args):
        raise ConfigError("--set depth: expected a positive integer or 'auto', got 'abc'")

    monkeypatch.setattr(commands, "encoder_params", bad_params)
    code, _, err = run(["fit", "--data", str(data_csv), "--out", str(tmp_path / "m.tsea")], capsys)
    assert code == 2
    assert err.strip() == ("tsea fit: error: --set depth: expected a positive integer or 'auto', "
                           "got 'abc'")


def test_bad_model_file_exits_1(tmp_path, data_csv, capsys):
    bad = tmp_path / "bad.tsea"
    bad.write_text("not a model")
    code, _, err = run(["embed", "--model", str(bad), str(data_csv), "-o",
                        str(tmp_path / "e.csv")], capsys)
    assert code == 1 and "is not a valid tsea model file" in err


def test_fit_needs_no_labels_so_an_empty_label_cell_is_fine(tmp_path, capsys):
    data = tmp_path / "x.csv"
    data.write_text("id,label,t0,t1,t2,t3\na,,1,2,3,4\nb,yes,4,5,6,7\nc,,7,8,9,1\n")
    out = tmp_path / "m.tsea"
    code, _, err = run(["fit", "--data", str(data), "--config", "tiny", "--out", str(out), "-q"],
                       capsys)
    assert code == 0 and out.exists(), err
    code, _, err = run(["evaluate", "--data", str(data), "--test", str(data), "--config", "tiny",
                        "-q"], capsys)
    assert code == 1 and "label" in err and "missing" in err  # evaluate does need them


@pytest.mark.parametrize("args, message", [
    (["--set", "n_jobs=0"], "n_jobs must be an int in the range (-inf, -1], an int in the range "
                            "[1, inf) or None. Got 0"),
    (["--set", "head=svm"], "'head' is a parameter of the head, not of the encoder that configs "
                            "and --set describe; give it with --head"),
    (["--set", "class_weight=balanced"], "give it with --class-weight"),
])
def test_bad_set_values_are_usage_errors_before_the_fit(tmp_path, data_csv, capsys, monkeypatch,
                                                        args, message):
    from tsea.cli import commands

    monkeypatch.setattr(commands, "estimators", lambda args: pytest.fail("the fit started"))
    code = main(["fit", "--data", str(data_csv), "--config", "tiny", "-o", str(tmp_path / "m.tsea"),
                 "-q", *args])
    assert code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "x"])
def test_n_jobs_option_zero_is_a_usage_error(tmp_path, model, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        main(["embed", "--model", model[1], "x.csv", "-o", str(tmp_path / "e.csv"),
              "--n-jobs", value])
    assert exit_.value.code == 2
    assert ("--n-jobs: expected a number of threads (>= 1; -1 for every core, -2 for all but "
            "one, ...)") in capsys.readouterr().err
