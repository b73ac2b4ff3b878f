"""YAML configuration presets: every run reproducible from one file.

A config file is a YAML mapping whose keys are encoder parameters (:data:`tsea.params.
ENCODER_PARAMS`; a subset is fine: missing keys keep the estimator defaults). Keys and values
are checked against that table. One more key, ``base``, names another config (a preset name, or
a path relative to the file's folder) whose keys this file starts from and may override, so a
preset that builds on another one holds only what it changes. Presets live in the top-level
``configs/`` folder of the repository, the only copy; the build backend ships it inside the
wheel as ``tsea/configs/`` so that preset names also work for an installed tsea. A config is
named either by path (``configs/tiny.yaml``, ``my.yml``) or by preset name (``tiny``).

Public functions::

    load_config(path_or_name=None, overrides=(), *, valid_keys=None) -> dict
    resolve_config_path(path_or_name) -> pathlib.Path
    list_presets() -> list[str]
    parse_override("key=value") -> (key, value)
    validate_params(params, valid_keys=None, *, source="config") -> dict
    encoder_param_names() -> list[str]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from tsea.params import ENCODER_PARAMS, HEAD_ONLY_NAMES, validate
from tsea.utils import did_you_mean

__all__ = [
    "ConfigError",
    "PRESET_DIRS",
    "encoder_param_names",
    "list_presets",
    "load_config",
    "parse_override",
    "resolve_config_path",
    "validate_params",
]

_PACKAGE_DIR = Path(__file__).resolve().parent
# Search order for preset names: the repository's configs/ (source checkout only: the folder next
# to pyproject.toml, never a stray site-packages/configs), then the copy inside an installed wheel.
_REPO_CONFIGS = _PACKAGE_DIR.parent / "configs"
PRESET_DIRS = (
    ((_REPO_CONFIGS,) if (_PACKAGE_DIR.parent / "pyproject.toml").is_file() else ())
    + (_PACKAGE_DIR / "configs",)
)
_SUFFIXES = (".yaml", ".yml")


class _Loader(yaml.SafeLoader):
    """YAML safe loader that also reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _yaml_load(text: str):
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: plain data only


class ConfigError(ValueError):
    """A config file or ``--set`` override is malformed or names an unknown parameter."""


def encoder_param_names() -> list[str]:
    """The valid config keys: the encoder parameters of :mod:`tsea.params`."""
    return sorted(ENCODER_PARAMS)


def list_presets() -> list[str]:
    """Names of the preset configs found in :data:`PRESET_DIRS` (sorted, no duplicates)."""
    names: set[str] = set()
    for directory in PRESET_DIRS:
        if directory.is_dir():
            names.update(p.stem for p in directory.iterdir() if p.suffix in _SUFFIXES)
    return sorted(names)


def _looks_like_path(text: str) -> bool:
    return text.endswith(_SUFFIXES) or "/" in text or "\\" in text


def resolve_config_path(path_or_name: str | Path) -> Path:
    """Return the file for a config path or preset name.

    A value ending in .yaml/.yml or containing a path separator is a path and must exist
    (``FileNotFoundError`` naming it otherwise); anything else is a preset name looked up in
    :data:`PRESET_DIRS` (``ConfigError`` listing the presets when unknown).
    """
    text = str(path_or_name)
    if not text.strip():
        raise ConfigError("config name is empty")
    if isinstance(path_or_name, Path) or _looks_like_path(text):
        path = Path(text)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {text}")
        return path
    for directory in PRESET_DIRS:
        for suffix in _SUFFIXES:
            candidate = directory / f"{text}{suffix}"
            if candidate.is_file():
                return candidate
    if Path(text).is_file():  # an existing file without a YAML suffix
        return Path(text)
    raise ConfigError(
        f"unknown config preset {text!r}; presets: {', '.join(list_presets()) or '(none found)'}"
        " (or give a path to a .yaml file)"
    )


def validate_params(
    params: Mapping, valid_keys: Iterable[str] | None = None, *, source: str = "config"
) -> dict:
    """Check that every key of ``params`` is a valid parameter name and every value one that
    the table allows; return a plain dict."""
    if not isinstance(params, Mapping):
        raise ConfigError(
            f"{source}: expected a mapping of parameter names to values, "
            f"got {type(params).__name__}"
        )
    valid = sorted(encoder_param_names() if valid_keys is None else valid_keys)
    for key in params:
        if not isinstance(key, str):
            raise ConfigError(f"{source}: parameter names must be strings, got {key!r}")
        if key not in valid and key in HEAD_ONLY_NAMES:
            raise ConfigError(
                f"{source}: {key!r} is a parameter of the head, not of the encoder that configs "
                f"and --set describe; give it with --{key.replace('_', '-')} (tsea fit, tsea "
                "evaluate) or to EAClassifier / EARegressor"
            )
        if key not in valid:
            raise ConfigError(
                f"{source}: unknown parameter {key!r}{did_you_mean(key, valid)}; valid "
                f"parameters: {', '.join(valid)}"
            )
    try:
        validate(dict(params), caller=source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return dict(params)


def parse_override(text: str) -> tuple[str, object]:
    """Split ``key=value`` and YAML-parse the value (``lr=1e-3`` -> float, ``x=null`` -> None)."""
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set expects key=value, got {text!r} (empty key)")
    try:
        value = _yaml_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"--set {key}: cannot parse value {raw!r}: {problem}") from None
    return key, value


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    try:
        data = _yaml_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {path}: {problem}{where}") from None
    if data is None:  # an empty file: no settings, all defaults
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path}: expected a mapping of parameter names to values, "
            f"got {type(data).__name__}"
        )
    return data


BASE_KEY = "base"


def _load_file(path: Path, valid: list[str], chain: tuple[Path, ...] = ()) -> dict:
    """The keys of the config file ``path`` (resolved), on top of those of its ``base`` chain."""
    key = path.resolve()
    if key in chain:
        names = " -> ".join(str(p) for p in (*chain, key))
        raise ConfigError(f"config file {path}: its base chain comes back to itself: {names}")
    data = _read_yaml(path)
    inherited: dict = {}
    if BASE_KEY in data:
        base = data.pop(BASE_KEY)
        if not isinstance(base, str) or not base.strip():
            raise ConfigError(
                f"config file {path}: {BASE_KEY} must be a preset name or the path of a .yaml "
                f"file, got {base!r}"
            )
        if _looks_like_path(base) and not Path(base).is_absolute():
            base = path.parent / base
        try:
            base = resolve_config_path(base)
        except (ConfigError, FileNotFoundError) as exc:
            raise type(exc)(f"config file {path}: base: {exc}") from None
        inherited = _load_file(base, valid, (*chain, key))
    return {**inherited, **validate_params(data, valid, source=f"config file {path}")}


def load_config(
    path_or_name: str | Path | None = None,
    overrides: Iterable[str] | Mapping | None = (),
    *,
    valid_keys: Iterable[str] | None = None,
) -> dict:
    """Load a config (path or preset name, None = no file) and apply ``--set`` overrides.

    A ``base`` key in the file loads that config first; the file's own keys win over it.

    ``overrides`` is an iterable of ``"key=value"`` strings (values YAML-parsed) or a mapping.
    Every key, from the file and from the overrides, must be an ``EAEncoder`` parameter
    (or in ``valid_keys`` when given). Returns a dict of the keys given, later overrides
    winning; keys not given keep the estimator defaults when the dict is splatted into it.
    """
    valid = sorted(encoder_param_names() if valid_keys is None else valid_keys)
    params: dict = {}
    if path_or_name is not None:
        params = _load_file(resolve_config_path(path_or_name), valid)
    if overrides:
        pairs = overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
        for key, value in pairs:
            validate_params({key: value}, valid, source="--set")
            params[key] = value
    return params
