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
# # Stage `pairs`: popularity-discriminable image pairs (paper Sec. 3.1)
#
# Two posts of the same user, old enough, uploaded within ten days, with short captions and
# identical hashtags and @ mentions, whose like counts differ so much that
# `P(Q_A >= Q_B | S_A, S_B) = Phi((S_A - S_B) / (sqrt(2) sigma)) >= T` (Eq. 6). Each image takes
# part in at most one pair. On the default input (the **simulated platform**) the hidden
# intrinsic score is known, so we also measure how often a PDIP label is right.

# %% tags=["parameters"]
base = {"seed": 0}
pairs = {}
out_dir = "data/pairs"

# %%
from IPython.display import Image, Markdown
from i2pa_core.io.files import write_json, write_parquet, write_table
from i2pa_core.pdip.precision import label_precision
from i2pa_core.pdip.report import display_table1, plot_funnel, plot_pdip_distributions, table1
from i2pa_core.pdip.sweep import (label_precision_table, pdip_count_grid, plot_label_precision,
                                   plot_pdip_grid)
from i2pa_core.plots.style import save_figure
from i2pa_core.io.posts import read_posts
from i2pa_core.config import from_mapping
from i2pa_core.plots.style import SIMULATED_NOTE
from i2pa_core.io.tables import read_truth
from i2pa_core.stages.pairs import PairsStage, matching_policy_counts, pairs_metrics, stage_pdips

stage = from_mapping(PairsStage, pairs, "pairs")
seed = base["seed"]
posts = read_posts(stage.posts)
truth = read_truth(stage.truth)
note = SIMULATED_NOTE if truth is not None else f"Data: {stage.posts}."
stage.rules

# %% [markdown]
# ## The PDIP database and its filter funnel

# %%
result = stage_pdips(stage, posts, seed)  # pairs.engine: inprocess or dask, the same table
write_parquet(f"{out_dir}/pairs.parquet", result.pairs)
write_table("figures/pdip_funnel", result.funnel,
            f"PDIP filter funnel: posts and candidate pairs removed by each rule. {note}")
save_figure(plot_funnel(result.funnel), "figures/pdip_funnel", caption=note)
result.funnel

# %% [markdown]
# ## Table 1: statistics of the database (paper's values beside ours)

# %%
t1 = display_table1(table1(posts, result.pairs))
write_table("figures/table1_database", t1, f"Table 1 on the generated PDIP database. {note}")
Markdown(t1.to_markdown(index=False))

# %% [markdown]
# ## Distribution of P and of upload intervals

# %%
save_figure(plot_pdip_distributions(result.pairs), "figures/pdip_distributions", caption=note)
Image("figures/pdip_distributions.png")

# %% [markdown]
# ## One image, one pair: how many PDIPs each matching policy yields

# %%
policies = matching_policy_counts(posts, stage.rules, seed)
write_table("figures/pdip_matching_policies", policies,
            f"PDIPs per one-image-one-pair matching policy. {note}")
policies

# %% [markdown]
# ## Beyond the paper: the T x sigma sweep and label precision
# Label precision is the share of PDIPs whose order agrees with the hidden intrinsic score
# (95 % Wilson intervals). It needs the ground truth, so it runs on simulated data only.

# %%
grid = pdip_count_grid(posts, stage.sweep_thresholds, stage.sweep_sigmas, stage.rules, seed,
                       truth=truth)
write_table("figures/pdip_grid", grid, f"Number of PDIPs (and label precision) over T and sigma. {note}")
save_figure(plot_pdip_grid(grid), "figures/pdip_grid", caption=note)
Image("figures/pdip_grid.png")

# %%
precision = label_precision(result.pairs, truth) if truth is not None else None
if truth is not None:
    table = label_precision_table(posts, truth, stage.rules, seed, stage.cross_user_sample,
                                  stage.ablation_threshold)
    write_table("figures/label_precision", table,
                f"Label precision of PDIPs, one-rule ablations and naive pairings. {note}")
    save_figure(plot_label_precision(table), "figures/label_precision", caption=note)
    display(table)

# %%
metrics = pairs_metrics(result, precision)
write_json("results/pairs/metrics.json", metrics)
metrics
