"""Tables 2 and 3: the ``ablate`` section, per-setting configs, the test subset, one setting's
record over its runs, and the tables and captions built from hand-made run records, checked
against hand-computed means, t intervals, paired differences and Holm-adjusted p-values."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from i2pa_core.config import ConfigError
from i2pa_core.io.files import write_table
from i2pa_core.stages.ablate import (AblateRun, ablate_stage, input_text, main,
                                     run_train_config, setting_record)
from i2pa_core.stages.tables import (P_COLUMN, backbone_table, noise_table, pooled_sd,
                                     read_runs, summary_rows)
from i2pa_core.stages.tables_captions import backbone_caption, noise_caption
from i2pa_core.train.budget import STUDY_PROFILES, Budget, profile_settings, sample_test_pairs
from i2pa_core.train.config import train_config
from i2pa_core.train.repeats import repeat_seed

SECTION = {
    "repeats": 3, "workers": 2,
    "budgets": {"light": {"epochs": 2, "max_train_pairs": 4000, "max_val_pairs": 500,
                          "test_pairs": None},
                "heavy": {"epochs": 1, "max_train_pairs": 256, "max_val_pairs": 100,
                          "test_pairs": 300}},
    "runs": {"noise_10": {"table": "noise", "budget": "light", "train": {"label_noise": 0.1}},
             "vgg16": {"table": "backbone", "budget": "heavy",
                       "train": {"backbone": "vgg16", "lr": 1e-4}}},
}
TRAIN = {"backbone": "smallcnn", "epochs": 4, "lr": 0.002, "label_noise": 0.0}
T_975_2 = 4.302653   # t quantiles from a table
DATA = "Data: simulated platform."


def test_run_config_is_train_then_budget_then_run_with_one_thread():
    stage = ablate_stage(SECTION)
    assert (stage.repeats, stage.workers) == (3, 2)
    noise = run_train_config(TRAIN, stage, "noise_10")
    assert (noise.backbone, noise.label_noise, noise.lr) == ("smallcnn", 0.1, 0.002)
    assert (noise.epochs, noise.max_train_pairs, noise.max_val_pairs) == (2, 4000, 500)
    vgg = run_train_config(TRAIN, stage, "vgg16")
    assert (vgg.backbone, vgg.label_noise, vgg.lr) == ("vgg16", 0.0, 1e-4)
    assert (vgg.epochs, vgg.max_train_pairs, vgg.max_val_pairs) == (1, 256, 100)
    assert stage.budgets["heavy"].test_pairs == 300
    assert not noise.save_last and not vgg.save_last  # ablation runs never resume
    assert noise.threads == vgg.threads == 1          # results independent of workers
    assert ablate_stage({k: v for k, v in SECTION.items() if k != "repeats"}).repeats == 3


@pytest.mark.parametrize("change, named", [
    (lambda s: s["runs"]["vgg16"]["train"].update(backbon="vgg16"),
     "ablate.runs.vgg16.train: unknown key(s) backbon"),
    (lambda s: s["runs"]["vgg16"].update(budget="huge"), "ablate.runs.vgg16.budget: 'huge'"),
    (lambda s: s["runs"]["vgg16"].update(table="tbl"), "ablate.runs.vgg16.table"),
    (lambda s: s["budgets"]["light"].update(epoch=1), "ablate.budgets.light: unknown key(s) epoch"),
    (lambda s: s.update(run="x"), "ablate: unknown key(s) run"),
    (lambda s: s.update(repeats=0), "ablate.repeats: must be an integer >= 1"),
    (lambda s: s.update(workers=1.5), "ablate.workers: must be an integer >= 1"),
])
def test_bad_sections_name_the_key(change, named):
    section = json.loads(json.dumps(SECTION))
    change(section)
    with pytest.raises(ConfigError) as err:
        ablate_stage(section)
    assert named in str(err.value)


def test_bad_run_value_and_unknown_run_are_named():
    section = json.loads(json.dumps(SECTION))
    section["runs"]["noise_10"]["train"]["label_noise"] = 0.7
    with pytest.raises(ConfigError, match="ablate.runs.noise_10.train: label_noise"):
        ablate_stage(section)
    with pytest.raises(ConfigError, match="no run 'noise_99'"):
        run_train_config(TRAIN, ablate_stage(SECTION), "noise_99")


def test_test_subset_is_seeded_and_test_only():
    pairs = pd.DataFrame({"a_post_id": np.arange(100), "b_post_id": np.arange(100, 200),
                          "split": ["train"] * 40 + ["test"] * 50 + ["val"] * 10})
    sub = sample_test_pairs(pairs, 20, seed=3)
    assert len(sub) == 20 and set(sub["split"]) == {"test"}
    assert sub["a_post_id"].between(40, 89).all() and sub["a_post_id"].is_monotonic_increasing
    assert sub.equals(sample_test_pairs(pairs, 20, seed=3))
    assert not sub.equals(sample_test_pairs(pairs, 20, seed=4))
    assert len(sample_test_pairs(pairs, None, 3)) == 50 and len(sample_test_pairs(pairs, 500, 3)) == 50


def _runs(accs, digest="d1", n=1000, base=0):
    return [{"run_id": f"x/{k}", "repeat": k, "seed": repeat_seed(base, k), "test_accuracy": a,
             "test_ci_low": a - 2.0, "test_ci_high": a + 2.0, "test_n": n,
             "oracle_accuracy": 94.0, "best_epoch": 1, "best_val_accuracy": 80.0,
             "test_digest": digest} for k, a in enumerate(accs)]


def _setting(name, table, accs, train=None, budget="light", digest="d1", n=1000,
             per_epoch=2048, base=0):
    run = AblateRun(table, budget, train)
    cfg = train_config({"epochs": 1, "max_train_pairs": per_epoch, **(train or {})})
    rec = setting_record(name, run, Budget(1, per_epoch, 100, n), cfg, 12000,
                         _runs(accs, digest, n, base), base, "64 x 64 px, native")
    return json.loads(json.dumps({**rec, "data_source": "simulated platform"}))


def test_a_setting_record_is_the_mean_of_its_runs_with_a_t_interval():
    rec = _setting("noise_00", "noise", [84.0, 86.0, 85.0])
    half = T_975_2 * 1.0 / math.sqrt(3)    # sd of 84, 86, 85 is 1
    assert rec["mean_accuracy"] == pytest.approx(85.0)
    assert (rec["runs_ci_low"], rec["runs_ci_high"]) == (pytest.approx(85.0 - half, abs=1e-5),
                                                         pytest.approx(85.0 + half, abs=1e-5))
    assert (rec["runs_min"], rec["runs_max"], rec["runs"], rec["runs_sd"]) == (84.0, 86.0, 3, 1.0)
    assert (rec["test_n"], rec["oracle_accuracy"], rec["test_digest"]) == (1000, 94.0, "d1")
    assert rec["train_pairs_per_epoch"] == 2048 and rec["config"]["max_train_pairs"] == 2048
    assert [r["test_accuracy"] for r in rec["run_records"]] == [84.0, 86.0, 85.0]
    with pytest.raises(ValueError, match="tested on different pairs"):
        setting_record("x", AblateRun("noise", "light"), Budget(), train_config({}), 10,
                       _runs([1.0]) + _runs([2.0], digest="other"), 0)


def test_input_text_names_the_size_the_network_sees():
    assert input_text("synthetic", (64, 64)) == "64 x 64 px, native"
    assert input_text("small", None) == "64 px crop"
    assert input_text("official", None) == "224 x 224 px, resized"


@pytest.fixture
def records():
    return [_setting("noise_20", "noise", [80.0, 81.0, 79.0], {"label_noise": 0.2}),
            _setting("noise_00", "noise", [84.0, 86.0, 85.0], {"label_noise": 0.0}),
            _setting("noise_10", "noise", [83.0, 84.0, 86.0], {"label_noise": 0.1})]


def _p_df2(t):
    """Two-sided p of a t statistic with 2 df, in closed form: 1 - |t| / sqrt(t^2 + 2)."""
    return 1 - abs(t) / math.sqrt(t * t + 2)


def test_table2_rows_paired_differences_and_holm(records):
    table = noise_table(records)
    assert table["Noise (%)"].tolist() == ["0", "10", "20"]
    assert table["Paper (%)"].tolist() == [76.65, 75.61, 74.35]
    assert table["Mean of runs (%)"].round(4).tolist() == [85.0, 84.3333, 80.0]
    assert table["Runs min-max (%)"].tolist() == ["84.0-86.0", "83.0-86.0", "79.0-81.0"]
    assert table["n test pairs per run"].tolist() == [1000] * 3 and table["Runs"].tolist() == [3] * 3
    assert table["Oracle (%)"].tolist() == [94.0] * 3
    # 10 % minus 0 %, run by run: -1, -2, +1 (mean -2/3, sd sqrt(7/3)); 20 %: -4, -5, -6.
    sd10 = math.sqrt(7 / 3)
    assert table["Diff. (points)"].iloc[1] == pytest.approx(-2 / 3)
    assert table["Diff. CI high"].iloc[1] == pytest.approx(-2 / 3 + T_975_2 * sd10 / math.sqrt(3),
                                                           abs=1e-5)
    assert table["Diff. (points)"].iloc[2] == pytest.approx(-5.0)
    p10, p20 = _p_df2((-2 / 3) / (sd10 / math.sqrt(3))), _p_df2(-5.0 / (1 / math.sqrt(3)))
    assert p20 == pytest.approx(0.013072, abs=1e-6)
    holm = [max(2 * p20, p10), 2 * p20]            # Holm over the two levels, by hand
    assert table[P_COLUMN].iloc[1:].tolist() == [pytest.approx(holm[0]), pytest.approx(holm[1])]
    assert np.isnan(table[P_COLUMN].iloc[0]) and np.isnan(table["Diff. (points)"].iloc[0])


def test_table2_caption_states_runs_test_pairs_and_the_resolvable_difference(records):
    # Pooled sd of the runs: sum of squares 2 + 14/3 + 2 over 6 df -> sqrt(13/9) = 1.20185.
    sd, df = pooled_sd(records)
    assert (sd, df) == (pytest.approx(math.sqrt(13 / 9)), 6)
    # Run-by-run differences to 0 %: 10 %: -1, -2, 1 (sd sqrt(7/3) = 1.5275); 20 %: -4, -5, -6
    # (sd 1). Paired, 3 runs: (t_0.975,2 + t_0.8,2) sd / sqrt(3) = 5.363313 sd / 1.732051.
    t_sum = 4.302653 + 1.060660
    res10, res20 = t_sum * math.sqrt(7 / 3) / math.sqrt(3), t_sum * 1.0 / math.sqrt(3)
    table = noise_table(records)
    assert table["Resolvable (points)"].iloc[1:].tolist() == [pytest.approx(res10, abs=1e-4),
                                                            pytest.approx(res20, abs=1e-4)]
    text = noise_caption(records, DATA)
    assert DATA in text and "trained 3 times" in text and "2,048 training pairs" in text
    assert "same 1,000 test PDIPs" in text
    assert f"sd of 1.00 (20 %) to 1.53 points (10 %), against {sd:.2f} between" in text
    assert f"resolves differences to 0 % of {res20:.1f} (20 %) to {res10:.1f} points (10 %)" \
        in text
    # 1 point at sd 1: 10 runs (2.262157 + 0.883404) / sqrt(10) = 0.9947; 9 runs: 1.0650.
    # At sd 1.5275: 20 runs (2.093024 + 0.860951) 1.5275 / sqrt(20) = 1.0090; 21: 0.9812.
    assert "1-point steps need 10 to 21 runs per level" in text
    # Unpaired at the pooled sd: 24 runs (2.01290 + 0.84998) sd sqrt(2/24) = 0.993; 23: 1.016.
    assert "unpaired, at the pooled sd: 24)" in text
    # Half-width 2.0 at n = 1,000: 1,000 (2.0 / 0.5)^2 = 16,000 test pairs for 0.5.
    assert "half-width is 2.0 points at n = 1,000; about 16,000 test pairs" in text
    assert "Holm-adjusted over the 2 level(s)" in text
    other = records[:2] + [_setting("noise_10", "noise", [83.0, 84.0, 86.0],
                                    {"label_noise": 0.1}, digest="d9")]
    assert "same 1,000 test PDIPs" not in noise_caption(other, DATA)
    assert np.isnan(noise_table(other)["Diff. (points)"].iloc[1])   # not paired: other pairs


@pytest.fixture
def table3(records):
    lite = {"backbone": "efficientnet_lite0", "preset": "synthetic"}
    return records + [
        _setting("lite0_scratch", "backbone", [50.0, 49.0, 54.0], {**lite, "pretrained": False},
                 budget="transfer", digest="d2", n=500, per_epoch=256),
        _setting("lite0_imagenet", "backbone", [80.0, 82.0, 81.0], {**lite, "pretrained": True},
                 budget="transfer", digest="d2", n=500, per_epoch=256),
        _setting("alexnet", "backbone", [48.0, 52.0, 50.0], {"backbone": "alexnet"},
                 budget="heavy", digest="d3", n=100, per_epoch=64)]


def test_table3_shares_table2s_runs_and_pairs_pretrained_with_scratch(table3):
    table = backbone_table(table3)
    assert table["Backbone"].tolist() == ["AlexNet", "small CNN (CPU default)",
                                          "EfficientNet-Lite0", "EfficientNet-Lite0"]
    assert table["Initialisation"].tolist() == ["from scratch", "from scratch", "ImageNet",
                                                "from scratch"]
    assert table["Mean of runs (%)"].tolist() == [50.0, 85.0, 81.0, 51.0]
    assert table["Note"].iloc[1] == "Table 2's 0 % runs (the same runs)"
    assert table["Note"].iloc[0].startswith("not run at a meaningful budget (64 training pairs)")
    assert table["Paper (%)"].iloc[0] == 73.22 and table["Paper (%)"].iloc[1:].isna().all()
    # ImageNet minus scratch, run by run: 30, 33, 27 (sd 3); one comparison, so Holm = p.
    assert table["Diff. (points)"].iloc[2] == pytest.approx(30.0)
    assert table["Diff. CI low"].iloc[2] == pytest.approx(30 - T_975_2 * 3 / math.sqrt(3),
                                                          abs=1e-5)
    assert table[P_COLUMN].iloc[2] == pytest.approx(_p_df2(30 / (3 / math.sqrt(3))))
    assert table["Diff. (points)"].drop(index=2).isna().all()


def test_table3_caption_groups_test_pairs_and_closes_on_pretraining(table3):
    text = backbone_caption(table3, DATA)
    assert "the same 1,000 for small CNN (CPU default)" in text
    assert ("the same 500 for EfficientNet-Lite0 (ImageNet), EfficientNet-Lite0 (from scratch)"
            in text)
    assert "ImageNet-pretrained EfficientNet-Lite0 beats EfficientNet-Lite0 from scratch: " \
           "+30.0 points" in text and "excluding 0" in text
    assert "From scratch is at chance here (51.0 %" in text   # its interval [44.4, 57.6]
    assert "fewer than 10,000 training pairs" in text
    assert "learning rate: AlexNet (from scratch) 0.002" in text
    assert backbone_caption([], DATA).startswith("Table 3: no backbone setting")
    assert noise_caption(table3[3:], DATA).startswith("Table 2: no label-noise setting")
    tied = [r for r in table3 if r["run"] != "lite0_imagenet"] + [
        _setting("lite0_imagenet", "backbone", [51.0, 47.0, 56.0],
                 {"backbone": "efficientnet_lite0", "pretrained": True}, budget="transfer",
                 digest="d2", n=500, per_epoch=256)]
    assert "do not show that ImageNet-pretrained EfficientNet-Lite0 beats" in \
        backbone_caption(tied, DATA)


def test_read_runs_and_written_tables(tmp_path, table3):
    for rec in table3:
        (tmp_path / rec["run"]).mkdir()
        flat = {k: v for k, v in rec.items() if not isinstance(v, (dict, list))}
        (tmp_path / rec["run"] / "metrics.json").write_text(json.dumps(flat))
        (tmp_path / rec["run"] / "details.json").write_text(json.dumps(rec))
    names = [r["run"] for r in table3]
    assert read_runs(tmp_path, names) == table3
    with pytest.raises(ConfigError, match="ablate.runs.vgg16: .*vgg16/metrics.json is missing"):
        read_runs(tmp_path, [*names, "vgg16"])
    stem = tmp_path / "out" / "table3_backbones"
    write_table(stem, backbone_table(table3), backbone_caption(table3, DATA),
                float_format="{:.2f}", p_columns=[P_COLUMN])
    assert pd.read_csv(stem.with_suffix(".csv")).loc[2, "Diff. (points)"] == 30.0
    md = stem.with_suffix(".md").read_text()
    assert "| AlexNet" in md and "73.22" in md and "3.3e-03" in md


def test_summary_rows_say_the_interval_is_over_runs(table3):
    rows = summary_rows(table3)
    assert [r["run"] for r in rows] == ["noise_00", "noise_10", "noise_20", "alexnet",
                                        "lite0_imagenet", "lite0_scratch"]
    assert rows[0]["label"] == "Table 2: 0 % label noise, mean of 3 runs, t interval over runs"
    assert rows[0]["paper"] == "76.65 %" and rows[0]["interval"] == "runs"
    assert (rows[0]["accuracy"], rows[0]["n"], rows[0]["runs"]) == (85.0, 1000, 3)
    assert rows[3]["paper"] == "73.22 % (pretrained)"
    assert rows[4]["label"] == "Table 3: EfficientNet-Lite0 (ImageNet) (256 pairs x 1 epochs), " \
                               "mean of 3 runs, t interval over runs"
    json.dumps(rows)


def test_study_profiles_name_existing_keys_and_parse(capsys):
    params = yaml.safe_load(open("params.yaml"))
    for name in STUDY_PROFILES:
        merged = json.loads(json.dumps(params))
        for setting in profile_settings(name):
            key, value = setting.split("=", 1)
            *path, last = key.split(".")
            node = merged
            for part in path:
                node = node[part]
            assert last in node, f"profile {name}: {key} is not in params.yaml"
            node[last] = yaml.safe_load(value)
        stage = ablate_stage(merged["ablate"])
        for run in stage.runs:
            run_train_config(merged["train"], stage, run)
    with pytest.raises(ConfigError, match="unknown study profile 'tpu'"):
        profile_settings("tpu")
    main(["--profile", "gpu"])
    assert capsys.readouterr().out.startswith("dvc exp run -S '")
