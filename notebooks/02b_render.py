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
# # Stage `render`: the images of the PDIP posts
#
# Every later stage reads images of posts that are in a PDIP, and only those; this stage renders
# them from the ground truth of the **simulated platform** (the same pixels a full render gives).

# %% tags=["parameters"]
base = {"seed": 0}
simulate = {}
pairs = {}
out_dir = "data/render"

# %%
from i2pa_core.config import from_mapping
from i2pa_core.simulate.platform import SimulateConfig
from i2pa_core.stages.pairs import pipeline_tables
from i2pa_core.simulate.pair_images import render_pair_images

sim = from_mapping(SimulateConfig, simulate, "simulate")
pdips, posts, truth = pipeline_tables(pairs)

# %%
folder = render_pair_images(posts, truth, pdips, out_dir, sim.image_size, sim.cast_strength)
folder, sum(1 for _ in open(f"{out_dir}/images.md5"))
