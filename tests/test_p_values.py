"""p-values as text (one formatter for every table, caption and figure) and the exact McNemar
test down to the smallest float64, against values worked out by hand."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from i2pa_core.beyond.tables import P_COLUMN, loss_table, trend_text
from i2pa_core.human.analysis import human_vs_model
from i2pa_core.io.files import format_p, is_p_column, write_table
from i2pa_core.metrics import mcnemar_exact, mcnemar_log_p


def _exact_mcnemar(b: int, c: int) -> Fraction:
    """min(1, 2 sum_{k <= min(b, c)} C(b + c, k) / 2^(b + c)) in exact rational arithmetic."""
    n = b + c
    return min(Fraction(1), Fraction(2 * sum(math.comb(n, k) for k in range(min(b, c) + 1)), 2**n))


@pytest.mark.parametrize("p, text", [
    (1.0096127351113507e-05, "1.0e-05"),    # figures/human_vs_model.md printed this as "0"
    (158 / 4096, "3.9e-02"),                 # 0.0386
    (0.05, "5.0e-02"),
    (0.561, "5.6e-01"),
    (2.5e-7, "2.5e-07"),
    (6.811055574044854e-290, "6.8e-290"),
    (1e-300, "1.0e-300"),
    (9.9e-301, "< 1e-300"),
    (5e-324, "< 1e-300"),                    # the smallest subnormal
    (0.0, "< 1e-300"),                       # an underflow
    (0, "< 1e-300"),
    (1.0, "1.0"),
    (1, "1.0"),
    (0.99999, "1.0"),                        # rounds to 1.0e+00
    (np.float64(3.14e-12), "3.1e-12"),
    (float("nan"), "n/a"),
    (np.nan, "n/a"),
    (None, "n/a"),
])
def test_format_p_by_hand(p, text):
    assert format_p(p) == text


@pytest.mark.parametrize("bad", [-1e-9, 1.5])
def test_format_p_rejects_what_is_no_probability(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        format_p(bad)


def test_mcnemar_is_exact_where_scipy_is_and_below_where_it_underflows():
    # b = 15, c = 51 (the human panel against the model): 2 sum_{k<=15} C(66, k) / 2^66.
    assert mcnemar_exact(15, 51) == pytest.approx(float(_exact_mcnemar(15, 51)), rel=1e-12)
    assert format_p(mcnemar_exact(15, 51)) == "1.0e-05"
    # c = 1074 and 1075 pairs against none: p = 2 / 2^n = 2^-1073 and 2^-1074, both subnormal
    # floats; scipy's binomtest gives 0 for the second, the log-space sum the exact value.
    assert mcnemar_exact(0, 1074) == 2.0**-1073
    assert stats.binomtest(0, 1075, 0.5).pvalue == 0.0
    assert mcnemar_exact(0, 1075) == 2.0**-1074 == math.ulp(0.0)
    assert mcnemar_exact(1075, 0) == mcnemar_exact(0, 1075)
    # b = 5, c = 1100: about 6.29e-320, also 0 in scipy.
    assert mcnemar_exact(5, 1100) == pytest.approx(float(_exact_mcnemar(5, 1100)), rel=1e-3)
    assert mcnemar_exact(5, 1100) > 0.0
    # Below the smallest float64 p underflows, but its log stays finite and exact.
    assert mcnemar_exact(0, 1100) == 0.0 and format_p(0.0) == "< 1e-300"
    assert mcnemar_log_p(0, 1100) == pytest.approx(-1099 * math.log(2), rel=1e-12)
    exact = _exact_mcnemar(200, 2200)
    log_exact = math.log(exact.numerator) - math.log(exact.denominator)
    assert mcnemar_log_p(200, 2200) == pytest.approx(log_exact, rel=1e-10)
    assert mcnemar_log_p(0, 0) == mcnemar_log_p(7, 7) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        mcnemar_log_p(-1, 3)


def test_p_columns_are_named_p_value_or_end_in_p():
    assert is_p_column("mcnemar_p") and is_p_column("p_value") and is_p_column("McNemar_P")
    assert is_p_column("slope_p_value")
    assert not is_p_column("p")              # the PDIP probability P of Eq. 6
    assert not is_p_column("n_pairs") and not is_p_column("precision")


def _human_table() -> pd.DataFrame:
    """200 pairs: 118 both right, 15 only the majority, 51 only the model, 8 both wrong and 8
    majority ties (the model right on them): figures/human_vs_model of the simulated panel."""
    groups = [(118, 1.0, True), (15, 1.0, False), (51, 0.0, True), (8, 0.0, False),
              (8, 0.5, True)]
    return pd.DataFrame([{"majority_correct": m, "model_correct": r}
                         for n, m, r in groups for _ in range(n)])


def test_human_vs_model_table_writes_the_mcnemar_p_in_scientific_notation(tmp_path):
    versus = human_vs_model(_human_table())
    p = float(_exact_mcnemar(15, 51))
    assert versus.loc[0, "mcnemar_p"] == pytest.approx(p, rel=1e-12)   # still a number
    write_table(tmp_path / "human_vs_model", versus, "Data: by hand.")
    md = (tmp_path / "human_vs_model.md").read_text()
    tex = (tmp_path / "human_vs_model.tex").read_text()
    assert "1.0e-05" in md and "1.0e-05" in tex
    # The other floats as before: "{:.3f}" in LaTeX, read back as numbers by tabulate in Markdown.
    assert "68.500 & 88.500" in tex and "|                 68.5 |        88.5 |" in md
    csv = pd.read_csv(tmp_path / "human_vs_model.csv")
    assert csv.loc[0, "mcnemar_p"] == pytest.approx(p, rel=1e-12)     # the CSV keeps the number


def test_table_writer_blanks_missing_p_and_names_underflow(tmp_path):
    frame = pd.DataFrame({"method": ["ours", "random", "other"], "p": [0.98, 0.97, 0.5],
                          "mcnemar_p": [np.nan, 0.0, 0.0386]})
    write_table(tmp_path / "t", frame, "Data: by hand.", float_format="{:.4g}")
    rows = (tmp_path / "t.md").read_text().splitlines()[2:5]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert cells == [["ours", "0.98", ""], ["random", "0.97", "< 1e-300"],
                     ["other", "0.5", "3.9e-02"]]
    assert r"< 1e-300" in (tmp_path / "t.tex").read_text()
    write_table(tmp_path / "u", frame, "Data: by hand.", p_columns=["p"])   # named explicitly
    assert "9.8e-01" in (tmp_path / "u.md").read_text()


def test_beyond_tables_and_caption_format_p_the_same_way(tmp_path):
    setting = {"studies": ["loss"], "loss": "hinge", "accuracy": 85.0, "ci_low": 82.0,
               "ci_high": 88.0, "runs": 3, "min": 84.0, "max": 86.0, "test_n": 1000,
               "diff": -1.0, "diff_ci_low": -2.0, "diff_ci_high": 0.0, "diff_p": 0.0,
               "diff_p_holm": 0.0}
    table = loss_table([setting, dict(setting, diff_p_holm=4.8561896725776943e-04)])
    write_table(tmp_path / "t", table, "Data: by hand.", float_format="{:.2f}",
                p_columns=[P_COLUMN])
    md = (tmp_path / "t.md").read_text()
    assert "< 1e-300" in md and "4.9e-04" in md
    trend = {"n_runs": 27, "slope": 1.5, "ci_low": -0.4, "ci_high": 3.4,
             "p_value": 0.12926490971393428}
    assert "p = 1.3e-01, least squares" in trend_text(trend)
