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
# # Stage `train`: the Siamese network on the PDIPs (paper Sec. 3.2, 4.1)
#
# Shared-weight scorer f, O_AB = f(A) - f(B), binary cross-entropy on O (Eq. 7-9), Adam with
# L2 1e-4, the learning rate decayed by 0.95 per epoch, 64 pairs per batch, validation accuracy
# every epoch and the best epoch kept. The CPU default is a small CNN on the 64 px images of the
# simulated platform (the default `data.source`; on a crawl `preset: auto` brings every photo to
# 64 px); the paper profile (pretrained ResNet-50) is documented in the README.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
train = {}
out_dir = "models/train"

# %%
from IPython.display import Image
from i2pa_core import paths
from i2pa_core.io.files import write_metrics, write_parquet
from i2pa_core.plots.style import save_figure
from i2pa_core.train.results import (add_score_reference, split_scores, train_metrics,
                                     training_input_size)
from i2pa_core.io.tables import load_inputs
from i2pa_core.train.loop import train_model
from i2pa_core.train.config import for_source, train_config
from i2pa_core.train.repeats import main_repeats, runs_metrics, runs_table
from i2pa_core.train.validation import plot_training_curves

seed = base["seed"]
inputs = load_inputs(data)  # the PDIPs whose images passed the images stage
pdips, posts, truth = inputs
image_root, source = inputs.image_root, inputs.source  # data.image_root: the PDIP images
cfg = for_source(train_config(train), source.synthetic)  # preset auto: by the data source
print(source.note)
cfg

# %%
result = train_model(cfg, pdips, posts, image_root, out_dir, seed, progress=False)
result.history

# %%
save_figure(plot_training_curves(result.history), "figures/training_curves", caption=source.note)
Image("figures/training_curves.png")

# %% [markdown]
# Test accuracy of the best-validation weights against the PDIP labels (95 % bootstrap interval
# over the test pairs), with the oracle (the hidden intrinsic score on the same pairs) as the
# ceiling. The 0-100 scale of `i2pa score` is the empirical percentile among the validation
# images' scores, whose quantiles are stored in the checkpoint.

# %%
val_scores = split_scores(result.model, pdips, posts, image_root, cfg.preset, "val")
reference = add_score_reference(result.best_checkpoint_path, val_scores,
                                f"validation images of {source.short}",
                                training_input_size(pdips, posts, image_root, cfg.preset),
                                source.label)
test_scores = split_scores(result.model, pdips, posts, image_root, cfg.preset, "test")
write_parquet(f"{out_dir}/test_scores.parquet", test_scores)

# %% [markdown]
# The same configuration trained again with other seeds (`train.repeats`; run 0 is the model
# above, which every later stage scores with): the spread of these runs on the same test pairs
# is the training noise that one run's bootstrap interval over test pairs does not cover.

# %%
run_scores = [test_scores, *main_repeats(cfg, pdips, posts, image_root, out_dir, seed)]
write_parquet(paths.RUN_SCORES, runs_table(run_scores))
metrics = {**train_metrics(pdips, test_scores, truth, result, reference), **source.as_metrics(),
           "pdips_left_out_bad_image": inputs.n_dropped,
           "runs": runs_metrics(pdips, run_scores, truth)}
write_metrics("results/train/metrics.json", metrics)
metrics
