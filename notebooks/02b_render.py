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
# On a crawl (`data.source: posts`) the images are your own and this stage is skipped.

# %% tags=["parameters"]
data = {}
render = {}
out_dir = "data/render"

# %%
from i2pa_core.config import from_mapping
from i2pa_core.io.tables import load_inputs
from i2pa_core.simulate.pair_images import RenderConfig, render_pair_images

cfg = from_mapping(RenderConfig, render, "render")
pdips, posts, truth = load_inputs(data, problems_path=None)  # the images are checked next

# %%
folder = render_pair_images(posts, truth, pdips, out_dir, cfg.image_size, cfg.cast_strength)
folder, sum(1 for _ in open(f"{out_dir}/images.md5"))
