"""`dvc plots show` as DVC users expect: every plot definition points at columns its CSV has,
and the page renders every Vega plot offline (the Vega libraries are inlined in the local
template that scripts/vendor_vega writes; DVC's own page loads them from a CDN)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PLOTS = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["plots"]
TEMPLATE = ROOT / ".dvc" / "plots" / "offline.html"


def _csv_plots():
    for entry in PLOTS:
        if isinstance(entry, dict):
            (path, spec), = entry.items()
            if path.endswith(".csv"):
                yield path, spec


@pytest.mark.parametrize("path, spec", list(_csv_plots()), ids=[p for p, _ in _csv_plots()])
def test_every_plot_names_columns_of_its_csv(path, spec):
    columns = set(pd.read_csv(ROOT / path, nrows=0).columns)
    for axis in ("x", "y"):
        assert spec[axis] in columns, f"{path}: {axis} = {spec[axis]!r} is not a column of " \
                                      f"{sorted(columns)}"


def test_the_config_uses_the_offline_template():
    config = (ROOT / ".dvc" / "config").read_text(encoding="utf-8")
    assert re.search(r"^\s*html_template\s*=\s*plots/offline\.html\s*$", config, re.M)


@pytest.fixture(scope="module")
def plots_page(tmp_path_factory):
    if not TEMPLATE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{TEMPLATE} missing: `make setup` runs scripts/vendor_vega")
        pytest.skip(f"{TEMPLATE} missing (run scripts/vendor_vega)")
    out = tmp_path_factory.mktemp("plots")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run([sys.executable, "-m", "dvc", "plots", "show", "-o", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return out / "index.html"


def test_the_page_loads_nothing_from_the_web(plots_page):
    html = plots_page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']https?:", html), "a script from the web"
    assert html.count("vegaEmbed('#") >= len(list(_csv_plots()))


def test_every_vega_plot_draws_in_a_browser_offline(plots_page):
    from test_human_browser import _missing

    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        options.add_argument(flag)  # the proxy flags cut the page off from the web
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        # The Vega plots of the page: each div that calls vegaEmbed on itself.
        ids = re.findall(r"vegaEmbed\('#([^']+)'", plots_page.read_text(encoding="utf-8"))
        assert len(ids) >= len(list(_csv_plots()))
        driver.get(plots_page.as_uri())
        script = ("return arguments[0].map(id => { const d = document.getElementById(id); "
                  "return [id, !!(d && d.querySelector('svg, canvas'))]; });")
        try:
            WebDriverWait(driver, 60).until(
                lambda d: all(drawn for _, drawn in d.execute_script(script, ids)))
        except Exception:  # a timeout: the assertion below names the plots that did not draw
            pass
        drawn = dict(driver.execute_script(script, ids))
        assert all(drawn.values()), f"not drawn: {[k for k, v in drawn.items() if not v]}"
    finally:
        driver.quit()
