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
# part in at most one pair. On the simulated platform (the default input, `data.source`) the
# hidden intrinsic score is known, so we also measure how often a PDIP label is right; a crawl
# has no such ground truth. The data source is printed below and named in every caption.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
pairs = {}
out_dir = "data/pairs"

# %%
from IPython.display import Image, Markdown
from i2pa_core.io.files import write_json, write_parquet, write_table
from i2pa_core.pdip.precision import label_precision
from i2pa_core.pdip.report import display_table1, plot_funnel, plot_pdip_distributions, table1
from i2pa_core.pdip.sweep import pdip_count_grid, plot_pdip_grid
from i2pa_core.plots.style import save_figure
from i2pa_core.io.posts import read_posts
from i2pa_core.io.source import DataSource, data_config
from i2pa_core.config import from_mapping
from i2pa_core.io.tables import read_truth
from i2pa_core.stages.pairs import (PairsStage, matching_policy_counts, matching_policy_runs,
                                    pairs_metrics, stage_pdips, write_eq6_calibration,
                                    write_label_precision)

stage = from_mapping(PairsStage, pairs, "pairs")
source_cfg = data_config(data)
seed = base["seed"]
posts = read_posts(source_cfg.posts)
truth = read_truth(source_cfg.truth_path)
source = DataSource.of(source_cfg, len(posts))
note = source.note
print(note)
stage.rules

# %% [markdown]
# ## The PDIP database and its filter funnel

# %%
result = stage_pdips(stage, source_cfg.posts, posts, seed)  # pairs.engine: the same table
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
policy_runs = matching_policy_runs(posts, stage.rules, seed)
policies = matching_policy_counts(policy_runs, stage.rules)
write_table("figures/pdip_matching_policies", policies,
            f"PDIPs per one-image-one-pair matching policy. {note}")
policies

# %% [markdown]
# ## Beyond the paper: the T x sigma sweep and label precision
# Label precision is the share of PDIPs whose order agrees with the hidden intrinsic score
# (95 % Wilson intervals). It needs the ground truth: on a crawl the table and the figure say
# "not available".

# %%
grid = pdip_count_grid(posts, stage.sweep_thresholds, stage.sweep_sigmas, stage.rules, seed,
                       truth=truth)
write_table("figures/pdip_grid", grid, "Number of PDIPs " + ("(and label precision) " if truth is not None else "")
            + f"over T and sigma. {note}")
save_figure(plot_pdip_grid(grid), "figures/pdip_grid", caption=note)
Image("figures/pdip_grid.png")

# %%
precision = label_precision(result.pairs, truth) if truth is not None else None
write_label_precision(posts, truth, stage, seed, note)

# %% [markdown]
# Rows below 0.5 would be worse than chance; the gap between "paper rules" and each ablation is
# what that rule adds to the label's correctness.
#
# ## Beyond the paper: is Eq. 6 calibrated?
# Eq. 6 promises each PDIP a probability P that its label is right. Here the PDIPs are binned by
# P (finer towards 1, where most of them lie) and by ten equal-count bins of the like gap
# S_A - S_B; in each bin the observed share of labels that agree with the hidden score is set
# against the mean P (95 % Wilson intervals over the bin's pairs). Without ground truth the
# figure and the tables say "not available".

# %%
calibration = write_eq6_calibration(result.pairs, posts, truth, stage, seed, policy_runs, note)
calibration.bins if calibration is not None else "not available: no ground truth"

# %% [markdown]
# Points below the diagonal are bins where Eq. 6 promises more than the hidden score grants;
# the "best-fitting sigma" is the sigma under which Eq. 6 would match the observed agreement.

# %%
Image("figures/eq6_calibration.png")

# %% [markdown]
# Per matching policy and one-rule ablation: the yield (n_pdips), the precision with its
# interval, what Eq. 6 promises (mean_p) and each row's difference from its reference (d_*).

# %%
calibration.rules if calibration is not None else "not available: no ground truth"

# %% [markdown]
# A rule whose removal lowers precision (d_precision < 0, interval below 0) buys that precision
# at the cost of -d_pdips PDIPs; one whose interval covers 0 buys no measurable precision.

# %%
Image("figures/eq6_calibration_rules.png")

# %%
metrics = {**pairs_metrics(result, precision,
                           calibration.summary if calibration is not None else None),
           **source.as_metrics()}
write_json("results/pairs/metrics.json", metrics)
metrics
