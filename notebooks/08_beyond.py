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
# # Stage `beyond`: retrains the paper could not run (simulated platform)
#
# Three studies on the **simulated platform**, every setting retrained from scratch
# `beyond.repeats` times at one budget (`beyond.budget`); the runs of a setting differ in their
# training seed and their sample of training pairs, so their spread is the training noise:
#
# * the **T x sigma grid** of Eq. 6: the PDIPs of each cell, tested on the same sample of the
#   default test PDIPs (training pairs share no post with them), so cells compare pair by pair;
#   since the ground truth is known, the label precision of each cell's training PDIPs is shown
#   beside its accuracy;
# * the **random vs the user-disjoint split** of the default PDIPs, each on its own test pairs;
# * the **losses** (cross-entropy, hinge, fidelity) on the default pairs.
#
# The reference setting (default rule, split and loss) is shared by the three studies. Images
# that the `render` stage did not draw (posts paired only under another rule) are rendered into
# a temporary folder.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
render = {}
pairs = {}
train = {}
beyond = {}

# %%
import tempfile

from i2pa_core.beyond.runs import gap_trend, run_all, summarise
from i2pa_core.beyond.tables import (caption, grid_table, loss_table, plot_grid, plot_split_loss,
                                     split_table, summary_rows)
from i2pa_core.config import from_mapping
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.io.files import write_metrics, write_table
from i2pa_core.plots.style import save_figure
from i2pa_core.simulate.pair_images import RenderConfig
from i2pa_core.beyond.settings import beyond_stage, plan_runs, render_missing, run_tables
from i2pa_core.io.tables import load_inputs
from i2pa_core.stages.pairs import PairsStage
from i2pa_core.train.config import train_config

stage = beyond_stage(beyond)
rules = from_mapping(PairsStage, pairs, "pairs").rules
sim = from_mapping(RenderConfig, render, "render")
seed = base["seed"]
inputs = load_inputs(data)  # the platform's PDIPs (the stage is skipped on a crawl)
pdips, posts, truth = inputs
image_root, note = inputs.image_root, inputs.source.note  # data.image_root: the PDIP images
runs = plan_runs(stage, rules, train_config(train).loss)
len(runs), [run.run_id for run in runs]

# %% [markdown]
# Each run's pairs at the budget: how many training PDIPs its setting has, and how many it
# trains on.

# %%
run_data = run_tables(runs, pdips, posts, truth, rules, stage.budget, seed)
{run_id: (d.available, int((d.pairs["split"] == "train").sum())) for run_id, d in run_data.items()}

# %%
with tempfile.TemporaryDirectory(prefix="i2pa-beyond-") as scratch:
    run_posts = render_missing(posts, truth, [d.pairs for d in run_data.values()],
                               paired_post_ids(pdips), scratch, sim.image_size, sim.cast_strength)
    records = run_all(runs, run_data, run_posts, truth, train, stage.budget, image_root, seed,
                      workers=stage.workers)
summaries, trend = summarise(records), gap_trend(records)
write_metrics("results/beyond/metrics.json", {**inputs.source.as_metrics(),
                                           "rows": summary_rows(summaries), "grid_trend": trend,
                                           "settings": summaries, "runs": records})

# %% [markdown]
# ## The T x sigma grid

# %%
grid = grid_table(summaries)
write_table("figures/beyond_grid", grid,
            caption("grid", summaries, note, trend=trend), float_format="{:.2f}")
save_figure(plot_grid(summaries, records, trend), "figures/beyond_grid",
            caption("grid", summaries, note, figure=True, trend=trend))
trend, grid

# %% [markdown]
# ## Random vs user-disjoint split, and the losses

# %%
splits, losses = split_table(summaries), loss_table(summaries)
write_table("figures/beyond_split", splits, caption("split", summaries, note),
            float_format="{:.2f}")
write_table("figures/beyond_loss", losses, caption("loss", summaries, note),
            float_format="{:.2f}")
save_figure(plot_split_loss(summaries, records), "figures/beyond_split_loss",
            f"Left: {caption('split', summaries, note, figure=True)} Right: the "
            f"losses, on the reference's test pairs.")
splits

# %%
losses
