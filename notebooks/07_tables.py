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
# # Stage `tables`: Table 2 (label noise) and Table 3 (backbones) from the `ablate` settings
#
# Every setting of the `ablate` stage left `results/ablate/<run>/` with its runs (one per
# training seed, all on the same test pairs). Each row gives the mean of the runs with the t
# interval over them (training noise), the runs' range, n test pairs per run and the oracle on
# the row's own test pairs; the paper's value is beside it. Table 2 compares each noise level
# with 0 %, and Table 3 each ImageNet-pretrained backbone with the same backbone from scratch,
# run k against run k (paired over seeds), Holm-adjusted within the table. Table 3's small-CNN
# row is Table 2's 0 % setting, the same runs. The captions name the data source (the simulated
# platform by default), each budget, and what Table 2 can resolve.

# %% tags=["parameters"]
ablate = {}
tables = {}
runs_dir = "results/ablate"

# %%
from i2pa_core.io.files import write_metrics, write_table
from i2pa_core.stages.tables import (P_COLUMN, backbone_table, data_label, noise_table,
                                     read_runs, summary_rows)
from i2pa_core.stages.tables_captions import backbone_caption, noise_caption

number_format = "{:.%df}" % tables["decimals"]
records = read_runs(runs_dir, ablate["runs"])  # the setting names; their metrics say the rest
note = f"Data: {data_label(records)}."
[(r["run"], r["runs"]) for r in records]

# %%
table2 = noise_table(records)
write_table("figures/table2_noise", table2, noise_caption(records, note),
            float_format=number_format, p_columns=[P_COLUMN])
print(noise_caption(records, note))
table2

# %%
table3 = backbone_table(records)
write_table("figures/table3_backbones", table3, backbone_caption(records, note),
            float_format=number_format, p_columns=[P_COLUMN])
print(backbone_caption(records, note))
table3

# %%
write_metrics("results/tables/metrics.json", {"rows": summary_rows(records),
                                              "data_source": data_label(records)})
