"""tsea.training: Lightning pre-training (masked / contrastive / hybrid) and fine-tuning.

Imports torch, lightning and tsea.nn only (never scikit-learn, never tsea.data).
"""

from .finetune import finetune
from .module import NonFiniteLossError, PretrainModule
from .pretrain import checkpoint_seed, pretrain, split_budget

__all__ = ["pretrain", "split_budget", "checkpoint_seed", "finetune", "PretrainModule",
           "NonFiniteLossError"]
