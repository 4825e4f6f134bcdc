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
# Three studies on the **simulated platform**, every setting compared with one **reference**
# (the default rule, split and loss): the runs of the `ablate` setting `beyond.reference`
# (Table 2's 0 % runs, Table 3's small-CNN row), read from `results/ablate/<reference>/`, not
# retrained. Every other setting is trained at the reference's budget and config, as many times
# as the reference has runs (or its first `beyond.repeats`), run k with the reference's training
# seed of run k, so a setting and the reference differ run by run only in the setting:
#
# * the **T x sigma grid** of Eq. 6: the PDIPs of each cell, tested on the reference's test
#   pairs (training pairs share no post with them), so cells compare pair by pair; since the
#   ground truth is known, the label precision of each cell's training PDIPs is shown beside
#   its accuracy;
# * the **random vs the user-disjoint split** of the default PDIPs, each on its own test pairs;
# * the **losses** (cross-entropy, hinge, fidelity) on the default pairs.
#
# Images that the `render` stage did not draw (posts paired only under another rule) are
# rendered into a temporary folder, only for the training pairs that a run's budget reaches.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
render = {}
pairs = {}
beyond = {}
runs_dir = "results/ablate"

# %%
import tempfile

from i2pa_core.beyond.runs import (check_reference, gap_trend, reference_config,
                                   reference_records, run_all, summarise, training_reads)
from i2pa_core.beyond.settings import (beyond_stage, plan_runs, reference_label, render_missing,
                                       repeats_for, run_tables)
from i2pa_core.beyond.tables import (P_COLUMN, caption, grid_table, loss_table, plot_grid,
                                     plot_split_loss, split_table, summary_rows)
from i2pa_core.config import from_mapping
from i2pa_core.io.files import read_metrics, write_metrics, write_table
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.io.tables import load_inputs
from i2pa_core.plots.style import save_figure
from i2pa_core.simulate.pair_images import RenderConfig
from i2pa_core.stages.pairs import PairsStage

stage = beyond_stage(beyond)
rules = from_mapping(PairsStage, pairs, "pairs").rules
sim = from_mapping(RenderConfig, render, "render")
seed = base["seed"]
inputs = load_inputs(data)  # the platform's PDIPs (the stage is skipped on a crawl)
pdips, posts, truth = inputs
image_root, note = inputs.image_root, inputs.source.note  # data.image_root: the PDIP images
reference = read_metrics(f"{runs_dir}/{stage.reference}/metrics.json")
cfg = reference_config(reference)
repeats = repeats_for(stage, reference["runs"])
label = reference_label(stage.reference, repeats, reference["runs"])
runs = plan_runs(stage, rules, cfg.loss, repeats)
run_data = run_tables(runs, pdips, posts, truth, rules, seed)
check_reference(reference, seed, run_data["reference"], truth)
to_train = [run for run in runs if run.name != "reference"]
len(to_train), [run.run_id for run in to_train]

# %% [markdown]
# Each setting's training PDIPs, and how many of them its runs read at the budget.

# %%
used = training_reads(to_train, run_data, reference)
{run.run_id: (run_data[run.name].available, len(used[run.run_id])) for run in to_train}

# %%
with tempfile.TemporaryDirectory(prefix="i2pa-beyond-") as scratch:
    run_posts = render_missing(posts, truth, list(used.values()), paired_post_ids(pdips),
                               scratch, sim.image_size, sim.cast_strength)
    records = run_all(to_train, run_data, run_posts, truth, reference, image_root, seed,
                      workers=stage.workers)
records = reference_records(reference, [r for r in runs if r.name == "reference"],
                            run_data["reference"]) + records
summaries, trend = summarise(records), gap_trend(records)
write_metrics("results/beyond/metrics.json", {**inputs.source.as_metrics(),
                                              "reference_run": stage.reference,
                                              "rows": summary_rows(summaries), "grid_trend": trend,
                                              "settings": summaries, "runs": records})

# %% [markdown]
# ## The T x sigma grid

# %%
grid = grid_table(summaries)
write_table("figures/beyond_grid", grid, caption("grid", summaries, note, label,
                                                 trend=trend),
            float_format="{:.2f}", p_columns=[P_COLUMN])
save_figure(plot_grid(summaries, records, trend), "figures/beyond_grid",
            caption("grid", summaries, note, label, figure=True, trend=trend))
trend, grid

# %% [markdown]
# ## Random vs user-disjoint split, and the losses

# %%
splits, losses = split_table(summaries), loss_table(summaries)
write_table("figures/beyond_split", splits, caption("split", summaries, note, label),
            float_format="{:.2f}")
write_table("figures/beyond_loss", losses, caption("loss", summaries, note, label),
            float_format="{:.2f}", p_columns=[P_COLUMN])
save_figure(plot_split_loss(summaries, records), "figures/beyond_split_loss",
            f"Left: {caption('split', summaries, note, label, figure=True)} Right: "
            f"the losses, on the reference's test pairs.")
splits

# %%
losses
