"""Hostile model files (issue #18 items 4, 5, 6, 9): size limits checked before inflating,
malformed headers and corrupt contents refused with a ValueError naming the problem."""

import io
import json
import re
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib

import numpy as np
import pytest
from conftest import TINY, saved_tiny_model

from tsea.estimators import EAEncoder
from tsea.modelfile import MAX_ARRAY_BYTES, read_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(header, arrays) of a valid encoder file with channel normalisation."""
    enc, path = saved_tiny_model(tmp_path_factory.mktemp("model"), 4, 2)
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("tsea.json"))
        with np.load(io.BytesIO(zf.read("arrays.npz"))) as npz:
            arrays = {k: npz[k] for k in npz.files}
    return header, arrays


def build(path, header, arrays=None, *, raw_arrays=None, header_text=None):
    buf = io.BytesIO()
    if raw_arrays is None:
        np.savez(buf, **arrays)
        raw_arrays = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tsea.json", header_text if header_text is not None else json.dumps(header))
        zf.writestr("arrays.npz", raw_arrays)
    return path


def edited(saved, header_edit=None, array_edit=None):
    header, arrays = json.loads(json.dumps(saved[0])), dict(saved[1])
    if header_edit:
        header_edit(header)
    if array_edit:
        array_edit(arrays)
        header["arrays"] = sorted(arrays)
    return header, arrays


def test_the_unedited_file_loads(tmp_path, saved):
    EAEncoder.load(build(tmp_path / "m.tsea", *edited(saved)))


# -- item 5: malformed headers give ValueError ----------------------------------------------------
def _set(path, value):
    def edit(h):
        target = h
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


MALFORMED = [
    ("params as a list", _set(["params"], [1, 2]), "'params' is a list, not an object"),
    ("meta as a string", _set(["meta"], "x"), "'meta' is a str, not an object"),
    ("arrays: 5", _set(["arrays"], 5), "'arrays' is int, not a list of names"),
    ("kind as a number", _set(["kind"], 7), "'kind' is 7, not a string"),
    ("seed Infinity", _set(["meta", "seed"], float("inf")), r"meta 'seed' is inf; expected an integer"),
    ("n_channels 1e300", _set(["meta", "n_channels"], 1e300), "meta 'n_channels' is 1e"),
    ("depth Infinity", _set(["meta", "encoder_config", "depth"], float("inf")), r"encoder_config\['depth'\] is inf"),
    ("depth true", _set(["meta", "encoder_config", "depth"], True), r"encoder_config\['depth'\] is True"),
    ("alpha NaN", _set(["meta", "encoder_config", "alpha"], float("nan")), r"encoder_config\['alpha'\] is nan"),
    ("config as a list", _set(["meta", "encoder_config"], [1]), "'encoder_config' is list"),
    ("unknown config key", _set(["meta", "encoder_config", "evil"], 1), "not a valid architecture"),
    ("unknown param", _set(["params", "evil"], 1), "not a valid EAEncoder model file"),
    ("normalize unknown", _set(["params", "normalize"], "Channel"),
     r"params: normalize must be a str among .*Got 'Channel' instead"),
    ("n_jobs huge", _set(["params", "n_jobs"], 10**9), r"params\['n_jobs'\] is 1000000000"),
    ("repr_dim Infinity", _set(["params", "repr_dim"], float("inf")),
     r"params: repr_dim must be an int in the range \[1, inf\). Got inf instead"),
    ("d_model disagrees", _set(["params", "d_model"], 4096), r"params\['d_model'\] = 4096 but the encoder has d_model = 16"),
    ("attention disagrees", _set(["params", "attention"], "none"), r"params\['attention'\] = 'none'"),
    ("differences not a bool", _set(["params", "differences"], 1),
     r"params: differences must be an instance of 'bool'.*Got 1 instead"),
    ("pooling unknown", _set(["params", "pooling"], "median"), r"params: pooling must be a str among"),
    ("differences disagrees", _set(["params", "differences"], False),
     "n_channels. is 2, so 2 input channels, but the encoder takes 4"),
]


@pytest.mark.parametrize("name,edit,match", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_headers_are_value_errors(tmp_path, saved, name, edit, match):
    path = build(tmp_path / "m.tsea", *edited(saved, edit))
    with pytest.raises(ValueError, match=match):
        EAEncoder.load(path)


def test_deeply_nested_header_is_a_value_error(tmp_path, saved):
    header, arrays = edited(saved)
    for depth in (100, 200_000):  # under and over the interpreter's recursion limit
        text = json.dumps(header)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
        path = build(tmp_path / f"deep{depth}.tsea", header, arrays, header_text=text)
        with pytest.raises(ValueError, match="nested"):
            EAEncoder.load(path)


def test_raw_bytes_and_non_array_members_are_refused(tmp_path, saved):
    header, arrays = edited(saved)
    buf = io.BytesIO()
    np.savez(buf, **{k: v for k, v in arrays.items() if k != "channel_mean"})
    with zipfile.ZipFile(buf, "a") as npz:  # np.load would hand this member out as bytes
        npz.writestr("channel_mean", b"raw bytes, not an array")
    path = build(tmp_path / "m.tsea", header, raw_arrays=buf.getvalue())
    with pytest.raises(ValueError, match="member 'channel_mean' is not a .npy array"):
        EAEncoder.load(path)


def test_array_header_disagreeing_with_its_member_is_refused(tmp_path, saved):
    header, arrays = edited(saved)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    raw = buf.getvalue()
    shape = repr(tuple(arrays["channel_std"].shape))
    # the same bytes, a header that declares a far larger array (same header length)
    lie = raw.replace(f"'shape': {shape}".encode(), b"'shape': (99999,)".ljust(len(f"'shape': {shape}"), b" "), 1)
    assert lie != raw
    path = build(tmp_path / "m.tsea", header, raw_arrays=lie)
    with pytest.raises(ValueError, match=r"declares shape \(99999,\)|corrupted"):
        EAEncoder.load(path)


# -- item 6: well-formed but corrupt contents ---------------------------------------------------
def _weight(arrays):
    return next(k for k in arrays if k.startswith("weights/") and arrays[k].dtype.kind == "f")


def _poison(value):
    def edit(arrays):
        name = _weight(arrays)
        w = arrays[name].copy()
        w.flat[0] = value
        arrays[name] = w

    return edit


def _complex(arrays):
    name = _weight(arrays)
    arrays[name] = arrays[name].astype(np.complex64)


CORRUPT = [
    ("NaN weight", None, _poison(np.nan), "holds NaN or infinite values"),
    ("inf weight", None, _poison(np.inf), "holds NaN or infinite values"),
    ("complex weights", None, _complex, "dtype complex64; model files hold real numbers"),
    ("channel_std 0", None, lambda a: a.update(channel_std=np.zeros(4, np.float32)),
     "channel_std of channel 0 is 0.0; it must be > 0"),
    ("channel_std -1", None, lambda a: a.update(channel_std=-np.ones(4, np.float32)),
     "channel_std of channel 0 is -1.0"),
    ("channel_mean NaN", None, lambda a: a.update(channel_mean=np.full(4, np.nan, np.float32)),
     "array 'channel_mean' holds NaN"),
    ("channel_mean over float32", None, lambda a: a.update(channel_mean=np.full(4, 1e300)),
     "channel_mean is not finite in float32"),
    ("stats of the wrong shape", None, lambda a: a.update(channel_std=np.ones(3, np.float32)),
     r"channel_std has shape \(3,\)"),
    ("channel without stats", None, lambda a: a.pop("channel_std"), "channel_mean/channel_std are missing"),
    ("series with stats", _set(["params", "normalize"], "series"), None,
     "normalize is 'series' but the file holds channel_mean and channel_std"),
    ("None with stats", _set(["params", "normalize"], None), None, "normalize is None but"),
    ("weight of another shape", None,
     lambda a: a.update({_weight(a): np.zeros((1, 1), np.float32)}), "has shape \\(1, 1\\), the architecture"),
    ("missing weight", None, lambda a: a.pop(_weight(a)), "weights missing"),
    ("object array", None, lambda a: a.update(channel_std=np.array([1, "x"], dtype=object)), None),
]


@pytest.mark.parametrize("name,header_edit,array_edit,match", CORRUPT, ids=[c[0] for c in CORRUPT])
def test_corrupt_contents_are_refused(tmp_path, saved, name, header_edit, array_edit, match):
    if name == "object array":  # np.savez would pickle it; the reader must refuse, not unpickle
        header, arrays = edited(saved, header_edit)
        buf = io.BytesIO()
        np.savez(buf, **{**arrays, "channel_std": np.array([1, "x"], dtype=object)})
        path = build(tmp_path / "m.tsea", header, raw_arrays=buf.getvalue())
        match = "dtype object"
    else:
        path = build(tmp_path / "m.tsea", *edited(saved, header_edit, array_edit))
    with pytest.raises(ValueError, match=match):
        EAEncoder.load(path)


# -- item 9: the format version message says the type ------------------------------------------
@pytest.mark.parametrize("version,shown", [("1", "'1' (of type str)"), (True, "True (of type bool)"),
                                           (1.0, r"1.0 \(of type float\)"), (99, "99 (of type int)")])
def test_format_version_message_names_the_type(tmp_path, saved, version, shown):
    path = build(tmp_path / "m.tsea", *edited(saved, _set(["format_version"], version)))
    with pytest.raises(ValueError, match=rf"format version {shown}; this tsea reads version 1 \(an int\)"
                       if "(" not in shown or "\\" in shown else None) as info:
        read_model(path)
    assert shown.replace("\\", "") in str(info.value)


# -- item 4: resource exhaustion from small files ----------------------------------------------
def deflated_member(size: int, fill: bytes, prefix: bytes = b"", suffix: bytes = b"") -> tuple:
    """(compressed bytes, crc) of prefix + fill * n + suffix, ``size`` bytes in all."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc, parts = 0, []
    block = fill * (2**20 // len(fill))
    left = size - len(prefix) - len(suffix)
    for chunk in [prefix] + [block] * (left // len(block)) + [block[: left % len(block)], suffix]:
        crc = zlib.crc32(chunk, crc)
        parts.append(comp.compress(chunk))
    parts.append(comp.flush())
    return b"".join(parts), crc


def raw_zip(members) -> bytes:
    """A zip archive from ``(name, payload, method, crc, size)`` tuples: ``payload`` is written
    as is (method 8: a raw deflate stream), so a member can be a real deflate bomb."""
    out, central = io.BytesIO(), []
    for name, payload, method, crc, size in members:
        offset, fb = out.tell(), name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc,
                              len(payload), size, len(fb), 0) + fb + payload)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0,
                                   crc, len(payload), size, len(fb), 0, 0, 0, 0, 0, offset) + fb)
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    return out.getvalue()


def stored(name, content: bytes):
    return (name, content, 0, zlib.crc32(content), len(content))


def bomb(name, size, fill, prefix=b"", suffix=b""):
    data, crc = deflated_member(size, fill, prefix, suffix)
    return (name, data, 8, crc, size)


def npz_bomb(size: int) -> bytes:
    """An npz whose one .npy member declares ``size`` bytes of float32 and deflates to little."""
    header = io.BytesIO()
    n = size // 4
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (n,)})
    head = header.getvalue()
    return raw_zip([bomb("weights/w.npy", len(head) + 4 * n, b"\0", head)])


MEASURE = textwrap.dedent("""
    import resource, sys, time
    from tsea.modelfile import read_model
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()  # CPU time: a loaded machine must not fail the check
    try:
        read_model(sys.argv[1])
        print("loaded")
    except ValueError as e:
        print("refused:", e)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) // 1024, "MiB", round(time.process_time() - start, 3), "s")
""")


def _measure(path):
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    message, numbers = out.stdout.strip().splitlines()
    mib, seconds = float(numbers.split()[0]), float(numbers.split()[2])
    return message, mib, seconds


def test_small_file_inflating_to_512_mib_of_json_is_refused_without_inflating(tmp_path, saved):
    header, arrays = edited(saved)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    text = json.dumps(header).encode()
    path = tmp_path / "bomb.tsea"
    path.write_bytes(raw_zip([
        bomb("tsea.json", 512 * 2**20, b" ", prefix=text[:-1], suffix=b"}"),
        stored("arrays.npz", buf.getvalue()),
    ]))
    assert path.stat().st_size < 2 * 2**20  # ~0.5 MiB on disk
    message, mib, seconds = _measure(path)
    assert "header 'tsea.json' declares 536870912 bytes, more than the limit" in message
    assert mib < 64 and seconds < 5  # nothing near 512 MiB was inflated


def test_small_file_with_a_512_mib_array_is_refused_without_inflating(tmp_path, saved):
    header, _ = edited(saved)
    header["arrays"] = ["weights/w"]
    path = build(tmp_path / "bomb.tsea", header, raw_arrays=npz_bomb(512 * 2**20))
    assert path.stat().st_size < 2 * 2**20
    message, mib, seconds = _measure(path)
    assert re.search(r"array 'weights/w.npy' would inflate from \d+ to 5368\d{5} bytes", message)
    assert mib < 64 and seconds < 5


def test_array_member_over_the_size_limit_is_refused_by_its_declared_size(tmp_path, saved, monkeypatch):
    import tsea.modelfile as mf

    header, arrays = edited(saved)
    monkeypatch.setattr(mf, "MAX_ARRAY_BYTES", 1000)  # the same check as at 2 GiB, on small data
    with pytest.raises(ValueError, match="declare more than 1000 bytes|declares .* more than the limit"):
        read_model(build(tmp_path / "m.tsea", header, arrays))
    assert MAX_ARRAY_BYTES == 2 * 2**30


@pytest.mark.parametrize("key,value,match", [
    ("d_model", 16_384, "the architecture has .* weights, more than the limit of 536870912"),
    ("d_model", 10**9, r"encoder_config\['d_model'\] is 1000000000; expected an integer in \[1, 16384\]"),
    ("depth", 10**6, r"encoder_config\['depth'\] is 1000000"),
    ("repr_dim", 10**7, r"encoder_config\['repr_dim'\]"),
    ("in_channels", 10**8, r"encoder_config\['in_channels'\]"),
    ("n_heads", 2**20, r"encoder_config\['n_heads'\]"),
])
def test_oversized_architecture_is_refused_before_building(tmp_path, saved, key, value, match):
    header, arrays = edited(saved, _set(["meta", "encoder_config", key], value))
    if key == "d_model" and value == 16_384:
        header["meta"]["encoder_config"]["depth"] = 64
        header["params"]["depth"] = 64
    if key in header["params"]:  # params that agree with the architecture: the limits decide
        header["params"][key] = value
    path = build(tmp_path / "m.tsea", header, arrays)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        EAEncoder.load(path)
    assert time.perf_counter() - start < 10


# -- the same refusals through the command line: exit 1, one line, no output written -----------
def _bomb_file(path, saved):
    header, arrays = edited(saved)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    text = json.dumps(header).encode()
    path.write_bytes(raw_zip([
        bomb("tsea.json", 512 * 2**20, b" ", prefix=text[:-1], suffix=b"}"),
        stored("arrays.npz", buf.getvalue()),
    ]))
    return path


@pytest.mark.parametrize("case,match", [
    ("bomb", "header 'tsea.json' declares 536870912 bytes, more than the limit of 4194304"),
    ("std0", "channel_std of channel 1 is 0.0; it must be > 0"),
    ("version", "format version '1' (of type str)"),
])
def test_cli_refuses_hostile_model_files(tmp_path, saved, capsys, case, match):
    from tsea.cli import main

    model = tmp_path / "m.tsea"
    if case == "bomb":
        _bomb_file(model, saved)
    elif case == "std0":
        build(model, *edited(saved, array_edit=lambda a: a.update(
            channel_std=np.array([1.0, 0.0, 1.0, 1.0], np.float32))))
    else:
        build(model, *edited(saved, _set(["format_version"], "1")))
    data = tmp_path / "x.csv"
    data.write_text("id,time,a,b\ns,0,1,2\ns,1,3,4\n")
    out = tmp_path / "e.csv"
    code = main(["embed", "--model", str(model), str(data), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert err.startswith("tsea: error: ") and match in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("classes", [["a", "b", "c"]])
def test_classes_that_do_not_match_the_head_are_refused(tmp_path, classes):
    """A hand-edited list of classes would otherwise load, and predict a wrong label (or fail
    at predict time with an index error)."""
    from tsea.estimators import EAClassifier

    X = np.random.default_rng(0).normal(size=(8, 1, 12)).astype(np.float32)
    clf = EAClassifier(**TINY).fit(X, np.array(["a", "b"] * 4))
    clf.save(tmp_path / "c.tsea")
    with zipfile.ZipFile(tmp_path / "c.tsea") as zf:
        header = json.loads(zf.read("tsea.json"))
        with np.load(io.BytesIO(zf.read("arrays.npz"))) as npz:
            arrays = {k: npz[k] for k in npz.files}
    EAClassifier.load(build(tmp_path / "same.tsea", header, arrays))
    header["meta"]["classes"] = classes
    with pytest.raises(ValueError, match=f"its {len(classes)} classes do not match the head's "
                                         r"training labels, indices \[0, 1\]"):
        EAClassifier.load(build(tmp_path / "m.tsea", header, arrays))


def _parts(path):
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("tsea.json"))
        with np.load(io.BytesIO(zf.read("arrays.npz"))) as npz:
            arrays = {k: npz[k] for k in npz.files}
    return header, arrays


@pytest.mark.parametrize("edit, match", [
    # a header-made dtype allocated 320 MB and made predict return (2, 20000, 1000)
    (lambda h, a: h["meta"].update(classes_dtype="(20000,1000)f8"), "is not the dtype of plain labels"),
    (lambda h, a: h["meta"].update(classes_dtype="(100000000000,)f8"), "is not a numpy dtype"),
    (lambda h, a: h["meta"].update(classes_dtype="nonsense"), "'classes_dtype' is not a numpy dtype"),
    # predicted 't' while tsea info listed 'two'
    (lambda h, a: h["meta"].update(classes=["one", "two"], classes_dtype="<U1"), "do not hold as '<U1'"),
    (lambda h, a: h["meta"].update(classes=["a", "a"]), "names a label twice"),
    (lambda h, a: h["meta"].update(classes=[["a"], {"b": 1}], classes_dtype="|O"), "not a label"),
    (lambda h, a: h["meta"].update(classes=["a"]), "not a list of 2 or more labels"),
    (lambda h, a: a.update({"head_train/Z": a["head_train/Z"][:, :-1]}), r"head_train/Z has shape \(8, 7\)"),
    (lambda h, a: a.update({"head_train/y": a["head_train/y"][:-1]}), r"head_train/y has shape \(7,\)"),
    (lambda h, a: a.update({"head_train/Z": np.full_like(a["head_train/Z"], np.nan)}),
     "array 'head_train/Z' holds NaN or infinite values"),
    (lambda h, a: a.pop("head_train/Z"), "the arrays do not match the header"),
])
def test_a_damaged_classifier_head_is_refused_before_it_is_rebuilt(tmp_path, edit, match):
    from tsea.estimators import EAClassifier

    X = np.random.default_rng(0).normal(size=(8, 1, 12)).astype(np.float32)
    EAClassifier(**TINY).fit(X, np.array(["a", "b"] * 4)).save(tmp_path / "c.tsea")
    header, arrays = _parts(tmp_path / "c.tsea")
    edit(header, arrays)
    with pytest.raises(ValueError, match=r"m.tsea' is not a valid (EAClassifier|tsea) model "
                                         r"file: .*" + match):
        EAClassifier.load(build(tmp_path / "m.tsea", header, arrays))


def test_a_damaged_fine_tuned_regressor_is_refused(tmp_path):
    # y_mean NaN gave NaN predictions and tsea predict exited 0
    from tsea.estimators import EARegressor

    X = np.random.default_rng(0).normal(size=(10, 1, 12)).astype(np.float32)
    EARegressor(**{**TINY, "head": "finetune"}).fit(X, np.linspace(0, 1, 10)).save(tmp_path / "r.tsea")
    header, arrays = _parts(tmp_path / "r.tsea")
    EARegressor.load(build(tmp_path / "same.tsea", header, arrays))
    for name, value, match in [("y_mean", float("nan"), "'y_mean' is nan"),
                               ("y_scale", float("inf"), "'y_scale' is inf"),
                               ("y_mean", "abc", "'y_mean' is 'abc'"),
                               ("y_scale", 0.0, "'y_scale' is 0.0; it must be > 0")]:
        edited = json.loads(json.dumps(header))
        edited["meta"][name] = value
        with pytest.raises(ValueError, match="is not a valid EARegressor model file: meta " + match):
            EARegressor.load(build(tmp_path / "m.tsea", edited, arrays))
