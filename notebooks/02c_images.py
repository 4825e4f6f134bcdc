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
# # Stage `images`: every PDIP image checked once
#
# Each post in a PDIP needs its image under `data.image_root` (the rendered images of the
# simulated platform, or your own folder). A missing, truncated, corrupt or tiny image is
# listed here with its reason, and the later stages leave out (and count) the PDIPs that need
# it, so that nothing is dropped silently and nothing crashes a training run.

# %% tags=["parameters"]
data = {}

# %%
from IPython.display import Markdown
from i2pa_core.stages.images import check_pdip_images

metrics = check_pdip_images(data)  # data/images/manifest.csv, problems.csv
metrics

# %% [markdown]
# Every image that is not usable, by kind (the full list is `data/images/problems.csv`); on the
# simulated platform every rendered image should be usable.

# %%
Markdown(open("figures/image_check.md").read())
