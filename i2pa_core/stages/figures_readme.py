"""``figures/README.md``: what each file of ``figures/`` is, beside the paper's artifact and its
reported value (read from :mod:`i2pa_core.paper`). Written by the ``report`` stage."""

from __future__ import annotations

from i2pa_core import paper

TEMPLATE = """# Figures and tables

Every file here is written by `dvc repro` (never by hand), except `fig8_experiment_page.png`, a
screenshot taken by a test (see its row). Everything made from the default
input comes from the **simulated platform**, not Instagram, and says so in its caption.

| paper artifact | our file | paper's value | ours (simulated) |
|---|---|---|---|
| Table 1: statistics of the database | `table1_database.csv` / `.md` / `.tex` | side by side in the table | side by side in the table |
| Table 2: accuracy under label noise 0-40 % | `table2_noise.csv` / `.md` / `.tex` (`ablate` foreach runs + `tables` stage) | {table2} | in the table, with n, CI and oracle; small CNN, reduced budget |
| Table 3: backbones | `table3_backbones.csv` / `.md` / `.tex` | {table3} | in the table; from scratch, about one batch each on the CPU (the caption says so) |
| Table 4: human 2AFC accuracy by group | `table4_human.*` (+ `table4_group_tests.*`, Welch t-tests) | Majority {majority:.1f}, Single {single:.1f} ± {single_sd:.1f} | in the table; **simulated panel** |
| Fig. 8: the experiment's web page | `fig8_experiment_page.png`: **not written by `dvc repro`**; a screenshot of `i2pa human serve` taken by the browser test `tests/test_human_browser.py` (headless Chromium). Regenerate it with `scripts/ensure_chromium && I2PA_WRITE_FIGURES=1 .venv/bin/python -m pytest tests/test_human_browser.py` | - | the test's tiny plan and images, not the paper's |
| Fig. 9: pairs in four groups, humans vs model | `fig9_human_vs_model.png` / `.pdf` (one row per group, its pairs side by side; + `human_vs_model.*`, exact McNemar) | - | **simulated panel** |
| Fig. 1: a post's absolute popularity vs its intrinsic score | `fig1_post_card.png` / `.pdf` (`evaluate` stage) | - | one simulated test post (a representative one: content, score near the median, visible structure), score as its percentile (0-100) among the validation images' scores |
| Fig. 2: sample PDIPs | `fig2_sample_pdips.png` / `.pdf` | - | six simulated test PDIPs with likes and P |
| Fig. 3: the Siamese training model | `fig3_architecture.png` / `.pdf` (drawn by code) | - | - |
| Fig. 4: comparison with baselines and humans | `fig4_comparison.png` / `.pdf` + `fig4_comparison.csv` / `.md` / `.tex` | {fig4} | two panels, axis from 0: this package's runs (re-run methods, the human panel, the oracle where there is ground truth) and, apart, the paper's numbers (hatched); each bar with its accuracy, interval, n, runs and p against ours |
| Fig. 5: score histogram with Gaussian fit | `fig5_score_histogram.png` / `.pdf` | mean {fig5_mean:.2f}, std {fig5_std:.2f} | the fit our scores call for (one Gaussian or a mixture of two, by BIC) in the legend, with the paper's fit quoted (another model, another scale) |
| Fig. 6: images at five predicted levels | `fig6_levels.png` / `.pdf` | - | simulated test images |
| Fig. 7: Grad-CAM of high and low scores | `fig7_gradcam.png` / `.pdf` | - | last convolutional block of our CNN: what raises the score (+score) for the highest, what lowers it (-score) for the lowest, one colour bar |

Additions (no paper number):

| file | what |
|---|---|
| `platform_overview.png` / `.pdf` | the synthetic platform: likes distribution, followers vs likes, likes vs post age, q vs likes within a user |
| `pdip_funnel.*` | posts and candidate pairs removed by each PDIP rule |
| `image_check.*` | the images of the PDIP posts: usable, missing, unsafe, unreadable or tiny (`images` stage; the PDIPs of the others are left out) |
| `pdip_distributions.png` / `.pdf` | distribution of P (Eq. 6) and of upload intervals in the PDIPs |
| `pdip_matching_policies.*` | PDIPs yielded by each one-image-one-pair matching policy |
| `pdip_grid.*` | number of PDIPs and their label precision over the T x sigma grid |
| `training_curves.png` / `.pdf` | training loss and validation accuracy per epoch (`train` stage) |
| `human_accuracy_by_p.png` / `.pdf` | human (simulated panel) and model accuracy as a function of the pair's P (log-odds axis, so that the bins near P = 1 separate) |
| `generalisation.*` | the trained model on other simulated platforms (paper Sec. 4.3: Reddit {reddit:.1f} %, Flickr {flickr:.1f} %): our PDIPs and the paper's Flickr construction, with the oracle |
| `category_scores.png` / `.pdf` | test scores per content category of the synthetic platform |
| `results_summary.md` | the README "Results" table: our headline numbers next to the paper's |
| `beyond_grid.*` (table, PNG, PDF) | retrained over the T x sigma grid of Eq. 6, three runs per cell: mean accuracy on common test PDIPs with a t interval over the runs, the runs' range, per-run McNemar p against the reference, the gap each cell stands for, the label precision of its training PDIPs, and the slope of accuracy on the gap over all grid runs |
| `beyond_split.*`, `beyond_loss.*`, `beyond_split_loss.png` / `.pdf` | random vs user-disjoint split (each on its own test pairs, with the oracle), and the losses (bce, hinge, fidelity) on the reference's pairs; three runs each |
| `label_precision.*` | share of pairs whose order agrees with the hidden intrinsic score: the paper's rules, one-rule ablations, naive pairings |
| `eq6_calibration.*` (table, PNG, PDF) | calibration of Eq. 6: mean P against the share of PDIPs whose order agrees with the hidden intrinsic score, by bins of P and of the like gap, with Wilson intervals, ECE, Brier score and the best-fitting sigma (ground truth only) |
| `eq6_calibration_rules.*` (table, PNG, PDF) | per matching policy and one-rule ablation: yield, label precision, mean P, calibration error, and the difference from the paper's rules (what each rule buys and costs) |
"""


# On a crawl (data.source: posts) the map names the crawl, and what only the platform, its
# ground truth or human answers can give says "not available" instead of "simulated".
CRAWL_WORDING = [
    ("Everything made from the default\ninput comes from the **simulated platform**, not "
     "Instagram, and says so in its caption.",
     "Everything here was made from\n{source} (`data.source: posts`), and says so in its "
     "caption; what needs the\nplatform, its ground truth or human answers says \"not "
     "available\"."),
    ("| ours (simulated) |", "| ours |"),
    ("**simulated panel**", "real answers (`data.responses`), else not available"),
    ("one simulated test post", "one test post"), ("six simulated test PDIPs", "six test PDIPs"),
    ("| simulated test images |", "| test images |"),
    ("human (simulated panel)", "human (real answers, else not available)"),
    ("the trained model on other simulated platforms", "not available on a crawl (it needs the "
     "platform); on the platform, the trained model on its other variants"),
    ("the synthetic platform: likes", "not available on a crawl; on the platform: likes"),
    ("content category of the synthetic platform", "content category (not available: no ground "
     "truth)"),
]


def figures_readme(source: str | None = None) -> str:
    """The text of ``figures/README.md`` with the paper's numbers filled in; ``source`` names a
    crawl's posts table (None: the simulated platform)."""
    fig4 = ", ".join([f"Random {paper.RANDOM:g}"] + [
        f"{name.split(' (')[0].replace('Human majority', 'Human')} {value:.2f}"
        for name, value in paper.FIG4])
    text = TEMPLATE.format(
        table2=" / ".join(f"{v:.2f}" for v in paper.TABLE2_NOISE.values()),
        table3=", ".join(f"{NAMES[k]} {v:.2f}" for k, v in paper.TABLE3_BACKBONE.items()),
        majority=paper.TABLE4["Majority"][0], single=paper.TABLE4["Single"][0],
        single_sd=paper.TABLE4["Single"][1], fig4=fig4, fig5_mean=paper.FIG5_MEAN,
        fig5_std=paper.FIG5_STD, reddit=paper.REDDIT, flickr=paper.FLICKR)
    if source is not None:
        for platform, crawl in CRAWL_WORDING:
            text = text.replace(platform, crawl.format(source=source))
    return text


NAMES = {"alexnet": "AlexNet", "vgg16": "VGGNet", "resnet50": "ResNet-50",
         "resnet101": "ResNet-101"}
