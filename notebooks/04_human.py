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
# # Stage `human`: the psychophysical experiment (paper Sec. 4.4, Table 4, Fig. 9)
#
# A two-alternative forced-choice experiment: subjects see two images of a test PDIP and answer
# "Which picture do you think will get more likes on social media?". A lab collects real
# answers with `i2pa human serve` (a web page like the paper's Fig. 8). By default there are no
# humans here, so the answers come from a **simulated observer panel**, written in the same
# format as the web page, and every table and figure below says so.

# %% tags=["parameters"]
base = {"seed": 0}
data = {}
human = {}
out_dir = "data/human"
model_scores_path = "models/train/test_scores.parquet"

# %%
import pandas as pd
from IPython.display import Image
from i2pa_core.human.analysis import (accuracy_by_p, final_answers, fig9_selection, group_tests,
                                      human_vs_model, pair_table, subject_accuracy, table4)
from i2pa_core.human.figures import accuracy_by_p_figure, fig9_examples
from i2pa_core.human.plan import make_plan, write_plan
from i2pa_core.io.files import write_json, write_table
from i2pa_core.plots.style import save_figure
from i2pa_core.config import from_mapping
from i2pa_core.stages.human import HumanStage, collect_answers, human_metrics
from i2pa_core.io.tables import load_inputs

stage = from_mapping(HumanStage, human, "human")
seed = base["seed"]
inputs = load_inputs(data)  # the PDIPs whose images passed the images stage
pdips, posts, truth = inputs
plan = make_plan(pdips, posts, stage.plan, seed)
write_plan(f"{out_dir}/plan.json", plan)
stage.plan

# %%
responses, subjects, note = collect_answers(stage, inputs.data, inputs.source, plan, truth, seed,
                                            out_dir)
answers = final_answers(responses, plan)
note

# %% [markdown]
# ## Table 4: accuracy of the subjects, by group (Welch t-tests)

# %%
t4 = table4(answers, subjects)
tests = group_tests(answers, subjects)
write_table("figures/table4_human", t4, f"Table 4: 2AFC accuracy (%). {note}")
write_table("figures/table4_group_tests", tests, f"Welch t-tests between groups. {note}")
display(t4, tests)

# %% [markdown]
# ## Humans against the model on the same pairs (exact McNemar test)

# %%
scores = pd.read_parquet(model_scores_path)
table = pair_table(answers, scores)
versus = human_vs_model(table)
write_table("figures/human_vs_model", versus, f"Majority vote vs the trained model. {note}")
versus

# %% [markdown]
# ## Fig. 9: pairs in four groups, and accuracy as a function of P

# %%
save_figure(fig9_examples(fig9_selection(table), plan, inputs.image_root, note),
            "figures/fig9_human_vs_model")
save_figure(accuracy_by_p_figure(accuracy_by_p(table, stage.p_edges), note),
            "figures/human_accuracy_by_p")
Image("figures/fig9_human_vs_model.png")

# %%
single = subject_accuracy(answers)
metrics = {**human_metrics(table, versus, single, simulated_panel=inputs.data.responses is None),
           **inputs.source.as_metrics()}
write_json("results/human/metrics.json", metrics)
metrics
