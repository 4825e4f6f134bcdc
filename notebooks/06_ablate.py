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
# # Stage `ablate`: one retrain of Table 2 (label noise) or Table 3 (backbone)
#
# DVC runs this notebook once per entry of `ablate.runs` (a `foreach` stage; `run` is set with
# `--set run=<name>`). Each run is the `train` section plus the run's overrides (`label_noise`
# or `backbone`) and its named budget, trained from scratch on the **simulated platform** (no
# ImageNet weights offline). Label noise flips a seeded share of the *training* labels only;
# validation and test labels are untouched. The heavy backbones get a smaller budget on the CPU,
# and the accuracy below always carries its n and 95 % bootstrap interval.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
train = {}
ablate = {}
run = "noise_00"

# %%
from i2pa_core import paths
import tempfile

from i2pa_core.io.files import write_metrics
from i2pa_core.stages.ablate import ablate_stage, run_record, run_train_config
from i2pa_core.train.budget import sample_test_pairs
from i2pa_core.io.tables import load_inputs
from i2pa_core.train.config import for_source
from i2pa_core.train.results import split_scores, test_metrics
from i2pa_core.train.loop import train_model

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
# Training keeps the best-validation epoch as in the `train` stage; the checkpoints go to a
# temporary folder (a VGG-16 checkpoint with its optimiser state is about 1.5 GB).

# %%
with tempfile.TemporaryDirectory(prefix=f"ablate-{run}-") as tmp:
    result = train_model(cfg, pdips, posts, image_root, tmp, seed, progress=False, live=False)
result.history

# %%
test = sample_test_pairs(pdips, budget.test_pairs, seed)
scores = split_scores(result.model, test, posts, image_root, cfg.preset, "test")
accuracy = test_metrics(test, scores, truth)
metrics = {**run_record(run, spec, budget, cfg, int((pdips["split"] == "train").sum()), accuracy,
                        result.best_epoch, result.best_val_accuracy), **source.as_metrics()}
write_metrics(f"{paths.ABLATE_RESULTS}/{run}/metrics.json", metrics)
{k: v for k, v in metrics.items() if k != "config"}
