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
# # Stage `tables`: Table 2 (label noise) and Table 3 (backbones) from the `ablate` runs
#
# Every run of the `ablate` stage left `results/ablate/<run>/metrics.json`; this stage puts the
# paper's value next to ours, with the n and 95 % bootstrap interval of every accuracy. All
# runs are trained from scratch; the captions name the data source (the simulated platform by
# default) and give each run's budget.

# %% tags=["parameters"]
ablate = {}
tables = {}
runs_dir = "results/ablate"

# %%
from i2pa_core.io.files import write_metrics, write_table
from i2pa_core.stages.tables import (backbone_table, caption, data_label, noise_table, read_runs,
                                     summary_rows)

number_format = "{:.%df}" % tables["decimals"]
records = read_runs(runs_dir, ablate["runs"])  # the run names; their metrics say the rest
[r["run"] for r in records]

# %%
table2 = noise_table(records)
write_table("figures/table2_noise", table2, caption("noise", records),
            float_format=number_format)
print(caption("noise", records))
table2

# %%
table3 = backbone_table(records)
write_table("figures/table3_backbones", table3, caption("backbone", records),
            float_format=number_format)
print(caption("backbone", records))
table3

# %%
write_metrics("results/tables/metrics.json", {"rows": summary_rows(records),
                                           "data_source": data_label(records)})
