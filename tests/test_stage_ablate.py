"""Tables 2 and 3: the ``ablate`` section, per-run configs, the test subset and the aggregation
into tables, checked against hand-made metrics files."""

import json

import numpy as np
import pandas as pd
import pytest

from i2pa_core.config import ConfigError
from i2pa_core.io.files import write_table
from i2pa_core.stages.ablate import ablate_stage, run_train_config
from i2pa_core.stages.tables import backbone_table, caption, noise_table, read_runs, summary_rows
from i2pa_core.train.budget import sample_test_pairs

SECTION = {
    "budgets": {"light": {"epochs": 2, "max_train_pairs": 4000, "max_val_pairs": 500,
                          "test_pairs": None},
                "heavy": {"epochs": 1, "max_train_pairs": 256, "max_val_pairs": 100,
                          "test_pairs": 300}},
    "runs": {"noise_10": {"table": "noise", "budget": "light", "train": {"label_noise": 0.1}},
             "vgg16": {"table": "backbone", "budget": "heavy",
                       "train": {"backbone": "vgg16", "lr": 1e-4}}},
}
TRAIN = {"backbone": "smallcnn", "epochs": 4, "lr": 0.002, "label_noise": 0.0}


def test_run_config_is_train_then_budget_then_run():
    stage = ablate_stage(SECTION)
    noise = run_train_config(TRAIN, stage, "noise_10")
    assert (noise.backbone, noise.label_noise, noise.lr) == ("smallcnn", 0.1, 0.002)
    assert (noise.epochs, noise.max_train_pairs, noise.max_val_pairs) == (2, 4000, 500)
    vgg = run_train_config(TRAIN, stage, "vgg16")
    assert (vgg.backbone, vgg.label_noise, vgg.lr) == ("vgg16", 0.0, 1e-4)
    assert (vgg.epochs, vgg.max_train_pairs, vgg.max_val_pairs) == (1, 256, 100)
    assert stage.budgets["heavy"].test_pairs == 300
    assert not noise.save_last and not vgg.save_last  # ablation runs never resume


@pytest.mark.parametrize("change, named", [
    (lambda s: s["runs"]["vgg16"]["train"].update(backbon="vgg16"),
     "ablate.runs.vgg16.train: unknown key(s) backbon"),
    (lambda s: s["runs"]["vgg16"].update(budget="huge"), "ablate.runs.vgg16.budget: 'huge'"),
    (lambda s: s["runs"]["vgg16"].update(table="tbl"), "ablate.runs.vgg16.table"),
    (lambda s: s["budgets"]["light"].update(epoch=1), "ablate.budgets.light: unknown key(s) epoch"),
    (lambda s: s.update(run="x"), "ablate: unknown key(s) run"),
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


def _record(run, table, backbone, noise, acc, n, per_epoch, epochs):
    return {"run": run, "table": table, "backbone": backbone, "pretrained": False,
            "label_noise": noise, "test_accuracy": acc, "test_ci_low": acc - 1.5,
            "test_ci_high": acc + 1.25, "test_n": n, "oracle_accuracy": 90.0,
            "train_pairs_per_epoch": per_epoch, "epochs": epochs}


@pytest.fixture
def runs_dir(tmp_path):
    records = [_record("noise_20", "noise", "smallcnn", 0.2, 70.0, 5000, 4000, 2),
               _record("noise_00", "noise", "smallcnn", 0.0, 74.5, 5000, 4000, 2),
               _record("resnet101", "backbone", "resnet101", 0.0, 51.0, 300, 256, 1),
               _record("alexnet", "backbone", "alexnet", 0.0, 55.0, 300, 256, 1),
               _record("smallcnn", "backbone", "smallcnn", 0.0, 74.5, 5000, 4000, 2)]
    for rec in records:
        (tmp_path / rec["run"]).mkdir()
        (tmp_path / rec["run"] / "metrics.json").write_text(json.dumps(rec))
    (tmp_path / "removed_run").mkdir()            # a run no longer in params: ignored
    (tmp_path / "removed_run" / "metrics.json").write_text("{}")
    return tmp_path


NAMES = ["noise_20", "noise_00", "resnet101", "smallcnn", "alexnet"]   # not in table order


def test_read_runs_reads_the_named_runs_only(runs_dir):
    assert [r["run"] for r in read_runs(runs_dir, NAMES)] == NAMES
    with pytest.raises(ConfigError, match="ablate.runs.vgg16: .*vgg16/metrics.json is missing"):
        read_runs(runs_dir, [*NAMES, "vgg16"])


def test_noise_table_rows_in_noise_order_with_paper_values(runs_dir):
    table = noise_table(read_runs(runs_dir, NAMES))
    assert table["Noise (%)"].tolist() == ["0", "20"]
    assert table["Paper (%)"].tolist() == [76.65, 74.35]
    assert table["Ours (%)"].tolist() == [74.5, 70.0]
    assert table["CI low"].tolist() == [73.0, 68.5] and table["CI high"].tolist() == [75.75, 71.25]
    assert table["n test pairs"].tolist() == [5000, 5000]
    assert table["Train pairs x epochs"].tolist() == ["4000 x 2", "4000 x 2"]


def test_backbone_table_in_paper_order_then_extras(runs_dir):
    table = backbone_table(read_runs(runs_dir, NAMES))
    assert table["Backbone"].tolist() == ["AlexNet", "ResNet-101", "small CNN (CPU default)",
                                          "small CNN (CPU default) [Table 2, 0 % run]"]
    assert table["Paper (%)"].tolist()[:2] == [73.22, 76.87]
    assert table["Paper (%)"].iloc[2:].isna().all()
    assert table["Ours (%)"].tolist() == [55.0, 51.0, 74.5, 74.5]
    assert table["n test pairs"].tolist() == [300, 300, 5000, 5000]


def test_captions_say_simulated_scratch_and_smaller_budget(runs_dir):
    records = read_runs(runs_dir, NAMES)
    text = caption("backbone", records, "Data: simulated platform.")
    assert "Data: simulated platform." in text and "from scratch" in text
    assert "alexnet 256 x 1" in text and "smallcnn 4000 x 2" in text
    assert "noise_00 4000 x 2" in text and "noise_20" not in text
    assert "smaller budget" in text and "(alexnet, resnet101)" in text
    noise = caption("noise", records, "Data: simulated platform.")
    assert "smaller budget" not in noise and "noise_00 4000 x 2" in noise
    assert "small CNN" in noise and "95 % bootstrap" in noise


def test_tables_written_as_csv_md_tex(runs_dir, tmp_path):
    records = read_runs(runs_dir, NAMES)
    stem = tmp_path / "out" / "table3_backbones"
    write_table(stem, backbone_table(records), caption("backbone", records, "Simulated."),
                float_format="{:.2f}")
    csv = pd.read_csv(stem.with_suffix(".csv"))
    assert csv.loc[0, "Ours (%)"] == 55.0 and csv.loc[1, "CI high"] == 52.25
    md = stem.with_suffix(".md").read_text()
    assert "| AlexNet" in md and "73.22" in md and "smaller budget" in md
    assert "\\caption{" in stem.with_suffix(".tex").read_text()


def test_summary_rows_put_the_paper_next_to_each_run():
    records = [_record("noise_20", "noise", "smallcnn", 0.2, 70.0, 5000, 4000, 2),
               _record("noise_00", "noise", "smallcnn", 0.0, 74.5, 5000, 4000, 2),
               _record("alexnet", "backbone", "alexnet", 0.0, 55.0, 300, 256, 1)]
    rows = summary_rows(records)
    assert [r["run"] for r in rows] == ["noise_00", "noise_20", "alexnet"]
    assert rows[0]["label"] == "Table 2: 0 % label noise" and rows[0]["paper"] == "76.65 %"
    assert rows[1]["paper"] == "74.35 %" and rows[1]["accuracy"] == 70.0
    assert rows[2]["label"] == "Table 3: AlexNet (256 pairs x 1 epochs)"
    assert rows[2]["paper"] == "73.22 % (pretrained)"
    assert (rows[2]["ci_low"], rows[2]["ci_high"], rows[2]["n"]) == (53.5, 56.25, 300)
