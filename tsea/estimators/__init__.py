"""scikit-learn estimators: EAEncoder (transformer), EAClassifier, EARegressor."""

from tsea.estimators.encoder import EAEncoder
from tsea.estimators.supervised import EAClassifier, EARegressor

__all__ = ["EAEncoder", "EAClassifier", "EARegressor"]
