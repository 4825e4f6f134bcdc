# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Stage `ablate`: the runs of one setting of Table 2 (label noise) or Table 3 (backbone)
#
# DVC runs this notebook once per entry of `ablate.runs` (a `foreach` stage; `run` is set with
# `--set run=<name>`). A setting is the `train` section plus the run's overrides (`label_noise`,
# or `backbone`, `pretrained` and `preset`) and its named budget, on the **simulated platform**
# by default. It is trained `ablate.repeats` times: run k has training seed k (the base seed for
# k = 0; initial weights, order and sample of the training pairs, flipped labels, augmentation),
# one torch thread, `ablate.workers` runs at once, so the numbers do not depend on the worker
# count. Every run is tested on the same test pairs, so the spread of the runs is the training
# noise, and run k of two settings differs only in the setting. Label noise flips a seeded share
# of the *training* labels only; validation and test labels are untouched.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
train = {}
ablate = {}
run = "noise_00"

# %%
import pandas as pd

from i2pa_core import paths
from i2pa_core.io.files import write_metrics
from i2pa_core.io.tables import load_inputs
from i2pa_core.stages.ablate import ablate_stage, input_text, run_train_config, setting_record
from i2pa_core.train.config import for_source
from i2pa_core.train.pool import map_runs
from i2pa_core.train.repeats import tasks_for, train_and_test
from i2pa_core.train.results import training_input_size

stage = ablate_stage(ablate)
inputs = load_inputs(data)  # the PDIPs whose images passed the images stage
pdips, posts, truth = inputs
image_root, source = inputs.image_root, inputs.source  # data.image_root: the PDIP images
cfg = for_source(run_train_config(train, stage, run), source.synthetic)
spec, budget = stage.runs[run], stage.budgets[stage.runs[run].budget]
seed = base["seed"]
print(source.note)
cfg

# %% [markdown]
# Each run keeps its best-validation epoch as in the `train` stage (checkpoints in a temporary
# folder) and is scored on the budget's test pairs, drawn with the base seed.

# %%
tasks = tasks_for(run, cfg, pdips, seed, stage.repeats, budget.test_pairs)
runs = map_runs(train_and_test, tasks, {"posts": posts, "truth": truth, "image_root": image_root},
                workers=stage.workers, progress=False, desc=run)
pd.DataFrame(runs)

# %%
size = input_text(cfg.preset, training_input_size(pdips, posts, image_root, cfg.preset))
metrics = {**setting_record(run, spec, budget, cfg, int((pdips["split"] == "train").sum()), runs,
                            seed, size), **source.as_metrics()}
write_metrics(f"{paths.ABLATE_RESULTS}/{run}/metrics.json", metrics)
{k: v for k, v in metrics.items() if k not in ("config", "run_records")}
