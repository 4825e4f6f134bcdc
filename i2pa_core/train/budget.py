"""Training budgets: the compute that one retrain of a study gets (epochs, training and
validation pairs per epoch, test pairs scored), and the ``train`` config that a budget gives.

The ablation runs (Table 2, Table 3) and the beyond-the-paper retrains share these, so that a
setting trained by both means the same thing. :data:`STUDY_PROFILES` are named sets of params
overrides for those studies (the CPU default is params.yaml as it is), given to ``dvc exp run``
by :func:`profile_settings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml

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


# Named params overrides of the studies (``ablate``, ``beyond``), as dotted keys for
# ``dvc exp run -S KEY=VALUE`` (``python -m i2pa_core.stages.ablate --profile gpu`` prints the
# command). The ``train`` section's own profiles are i2pa_core.train.config.PROFILES.
STUDY_PROFILES: dict[str, dict[str, object]] = {
    "cpu": {},
    # One GPU. Table 2 at the train stage's CPU-default budget (4 epochs over every training
    # PDIP) and every test PDIP (pairs.rules.test_size, 5,000 by default; Table 2's caption says
    # how many test pairs bring one run's bootstrap half-width to 0.5 point, about 20,000 on
    # the default platform, which needs a larger simulate/pairs setting than the default).
    # Repeats: 16 resolve 1 point (paired t, alpha 0.05, power 0.8) wherever the run-by-run
    # differences to 0 % have an sd up to 1.33 points; on the CPU default (32 optimiser steps a
    # run, first platform) they had 0.34 (10 %) and 1.19 (20 %), but about 5 at 30-40 %, where
    # 1-point steps would need some 200 runs at that sd. The caption of the GPU run recomputes
    # all of it from its own runs. Table 3's EfficientNet-Lite0 rows get the same budget; the
    # beyond stage shares Table 2's 0 % runs (all 16).
    "gpu": {
        "ablate.repeats": 16,
        "ablate.workers": 4,
        **{f"ablate.budgets.{name}.{key}": value for name in ("light", "transfer")
           for key, value in (("epochs", 4), ("max_train_pairs", None),
                              ("max_val_pairs", None), ("test_pairs", None))},
        "beyond.workers": 4,
    },
}


def profile_settings(name: str) -> list[str]:
    """``KEY=VALUE`` strings of study profile ``name``, values written as YAML (``null``)."""
    if name not in STUDY_PROFILES:
        raise ConfigError(f"unknown study profile {name!r}; "
                          f"choose one of {', '.join(STUDY_PROFILES)}")
    return [f"{key}={_yaml(value)}" for key, value in STUDY_PROFILES[name].items()]


def _yaml(value) -> str:
    """A value as YAML in one line (``null``, ``4``, ``{a: 1}``), as ``-S`` reads it."""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
