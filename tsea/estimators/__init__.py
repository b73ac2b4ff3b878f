"""scikit-learn estimators: EAEncoder (transformer), EAClassifier, EARegressor."""

from tsea import modelfile
from tsea.estimators.encoder import EAEncoder
from tsea.estimators.supervised import EAClassifier, EARegressor

__all__ = ["EAEncoder", "EAClassifier", "EARegressor", "load_model"]

_KINDS = {cls.__name__: cls for cls in (EAEncoder, EAClassifier, EARegressor)}


def load_model(path):
    """Load any tsea model file: the ``EAEncoder``, ``EAClassifier`` or ``EARegressor`` that
    its header names (``save`` of each writes one). No code is executed while loading."""
    kind, params, meta, arrays = modelfile.read_any(path)  # one read: the file may be replaced
    return _KINDS[kind]._from_file(path, params, meta, arrays)
