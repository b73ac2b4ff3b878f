"""tsea: time-series representation learning with the EA-DC-Transformer.

The public API (names fixed, see DESIGN.md)::

    import tsea
    enc = tsea.EAEncoder(random_state=0)
    Z = enc.fit(X).transform(X)
    clf = tsea.EAClassifier(head="svm")
    X, y = tsea.datasets.load("BasicMotions", split="train")
    model = tsea.load_model("model.tsea")  # whichever estimator the file holds
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "EAEncoder": ("tsea.estimators", "EAEncoder"),
    "EAClassifier": ("tsea.estimators", "EAClassifier"),
    "EARegressor": ("tsea.estimators", "EARegressor"),
    "load_model": ("tsea.estimators", "load_model"),
    "datasets": ("tsea.datasets", None),
}

__all__ = ["EAEncoder", "EAClassifier", "EARegressor", "load_model", "datasets", "__version__"]


def __getattr__(name):
    # Imported lazily so that `import tsea` stays cheap (torch/lightning load on first use).
    if name in _LAZY:
        module_name, attr = _LAZY[name]
        module = import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tsea' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
