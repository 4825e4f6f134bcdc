"""Training budgets: the compute that one retrain of a study gets (epochs, training and
validation pairs per epoch, test pairs scored), and the ``train`` config that a budget gives.

The ablation runs (Table 2, Table 3) and the beyond-the-paper retrains share these, so that a
setting trained by both means the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from i2pa_core.config import ConfigError
from i2pa_core.metrics import seeded_subset
from i2pa_core.train.config import TrainConfig, train_config

BUDGET_KEYS = ("epochs", "max_train_pairs", "max_val_pairs")


@dataclass(frozen=True)
class Budget:
    """Compute given to one run: the three training knobs and the test pairs scored."""

    epochs: int = 1
    max_train_pairs: int | None = None   # training pairs per epoch (None: all)
    max_val_pairs: int | None = None     # validation pairs per epoch (None: all)
    test_pairs: int | None = None        # random test subset, the same for every run (None: all)


def budget_train_config(train_section, budget: Budget, overrides: dict,
                        where: str) -> TrainConfig:
    """The ``train`` section, then ``budget``'s training knobs, then ``overrides``, without
    ``last.pt`` (a retrain of a study never resumes); a bad value is an error naming ``where``."""
    merged = {**(train_section or {}), **{k: getattr(budget, k) for k in BUDGET_KEYS},
              **overrides, "save_last": False}
    try:
        return train_config(merged)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def sample_test_pairs(pairs: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """The test pairs, or a seeded random ``n`` of them (the same subset for every run)."""
    test = pairs[pairs["split"] == "test"]
    if n is None or n >= len(test):
        return test
    return seeded_subset(test, n, np.random.default_rng([seed, 0xAB1A7E]))
