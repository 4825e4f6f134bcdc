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
# # Stage `simulate`: the synthetic social platform
#
# Real Instagram data cannot be had here, so the default input is a synthetic platform with a
# **known ground truth**: every image is drawn from latent visual attributes, and a hidden
# intrinsic score `q` is a function of what is visible. Likes mix `q` with followers, time,
# caption and noise (README, "The synthetic platform"). Everything below is **simulated data**.

# %% tags=["parameters"]
base = {"seed": 0}
simulate = {}
out_dir = "data/simulate"

# %%
from IPython.display import Image
from i2pa_core.plots.style import save_figure
from i2pa_core.io.files import write_json
from i2pa_core.plots.platform import plot_platform
from i2pa_core.simulate.platform import SimulateConfig, simulate_platform, write_platform
from i2pa_core.config import from_mapping
from i2pa_core.plots.style import SIMULATED_NOTE
from i2pa_core.stages.simulate import platform_metrics

cfg = from_mapping(SimulateConfig, simulate, "simulate")
seed = base["seed"]
cfg

# %% [markdown]
# Simulate the platform (pure, deterministic given the seed), then write the posts table,
# the ground truth and the JPEG images.

# %%
platform = simulate_platform(cfg, seed)
paths = write_platform(platform, cfg, out_dir, seed, progress=False)
platform.posts.head()

# %% [markdown]
# Headline numbers. Absolute likes should be dominated by followers, which correlate with the
# users' visible colour cast but not with the intrinsic score `q`: the confound that the PDIPs
# of the paper are designed to remove.

# %%
metrics = platform_metrics(platform)
write_json("results/simulate/metrics.json", metrics)
metrics

# %%
fig = plot_platform(platform)
save_figure(fig, "figures/platform_overview", caption=SIMULATED_NOTE)
Image("figures/platform_overview.png")
