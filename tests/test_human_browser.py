"""End to end: headless Chromium answers the experiment page served by the real server.

Needs Debian's ``chromium`` and ``chromium-driver`` (/usr/bin/chromium, /usr/bin/chromedriver)
and the ``selenium`` package; skipped without them, except under ``CI=true`` where that fails.
With ``I2PA_WRITE_FIGURES=1`` the screenshot of a trial is saved as
``figures/fig8_experiment_page.png`` (the paper's Fig. 8); otherwise it goes to ``tmp_path``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from i2pa_core.human.plan import QUESTION, trials
from i2pa_core.human.server import create_app, start_server
from i2pa_core.human.store import read_responses, read_subjects
from i2pa_core.io.files import write_bytes
from test_human_data import tiny_plan

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1100,760")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for path in (CHROMIUM, DRIVER):
        if not shutil.which(path):
            return f"{path} missing (apt-get install -y chromium chromium-driver)"
    return None


@pytest.fixture()
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run under CI: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="i2pa-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The few things the test does on the page."""

    def __init__(self, driver):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
        self.d, self.by, self.wait = driver, By, WebDriverWait(driver, 15)

    def el(self, id_):
        return self.d.find_element(self.by.ID, id_)

    def text(self, id_):
        return self.el(id_).text

    def at_trial(self, phase, progress):
        self.wait.until(lambda d: self.el("trial").is_displayed()
                        and self.text("phase") == phase and self.text("progress") == progress
                        and self.el("trial").get_attribute("data-ready") == "1")

    def pause(self, title):
        self.wait.until(lambda d: self.el("pause").is_displayed()
                        and self.text("pause-title") == title)
        self.el("continue").click()

    def questionnaire(self):
        self.wait.until(lambda d: self.el("questionnaire").is_displayed())
        self.d.find_element(self.by.CSS_SELECTOR, "input[name=gender][value=female]").click()
        self.el("age").send_keys("24")
        self.d.find_element(self.by.CSS_SELECTOR, "input[name=used_instagram][value=no]").click()
        self.el("social_hours").send_keys("4")
        self.el("start").click()


def test_subject_completes_the_experiment_with_a_reload(browser, tmp_path):
    plan = tiny_plan(tmp_path)  # 2 training pairs, then 2 sessions of 3 pairs
    server = start_server(create_app(plan, tmp_path, tmp_path / "r.csv", tmp_path / "s.csv"))
    page, url = Page(browser), f"http://127.0.0.1:{server.port}/"
    try:
        browser.get(url)
        page.questionnaire()
        page.pause("Training")
        clicks = []  # (pair index in the subject's trials, side), in click order
        for i, side in [(0, "left"), (1, "right")]:
            page.at_trial("Training", f"Pair {i + 1} of 2")
            page.el(side).click()
            page.wait.until(lambda d: "likes" in page.text("feedback"))
            clicks.append((i, side))
            page.el("next").click()
        page.pause("Training finished")
        for k, side in [(0, "left"), (1, "right")]:
            page.at_trial("Session 1 of 2", f"Pair {k + 1} of 3")
            if k == 1:
                _screenshot(browser, tmp_path)
            page.el(side).click()
            clicks.append((2 + k, side))
        page.at_trial("Session 1 of 2", "Pair 3 of 3")
        browser.refresh()  # resumes at the first unanswered pair
        page.at_trial("Session 1 of 2", "Pair 3 of 3")
        page.el("prev").click()  # go back and change the answer to pair 2
        page.at_trial("Session 1 of 2", "Pair 2 of 3")
        assert "chosen" in page.el("right").get_attribute("class")
        page.el("left").click()
        clicks.append((3, "left"))
        page.at_trial("Session 1 of 2", "Pair 3 of 3")
        page.el("right").click()
        clicks.append((4, "right"))
        page.pause("Session 1 of 2 finished")
        for k, side in enumerate(["left", "left", "right"]):
            page.at_trial("Session 2 of 2", f"Pair {k + 1} of 3")
            page.el(side).click()
            clicks.append((5 + k, side))
        page.wait.until(lambda d: page.el("done").is_displayed())
        page.el("show-review").click()
        page.wait.until(lambda d: "of 6 pairs" in page.text("review-summary"))
        assert len(browser.find_elements(page.by.CSS_SELECTOR, "#review tbody tr")) == 6
    finally:
        server.shutdown()
    _check_files(plan, tmp_path, clicks)


def _screenshot(driver, tmp_path):
    from selenium.webdriver.common.by import By
    assert driver.find_element(By.ID, "question").text == QUESTION
    assert len(driver.find_elements(By.CSS_SELECTOR, ".pair img")) == 2
    png = driver.get_screenshot_as_png()
    if os.environ.get("I2PA_WRITE_FIGURES") == "1":
        write_bytes(Path(__file__).resolve().parents[1] / "figures" / "fig8_experiment_page.png",
                    png)
    write_bytes(tmp_path / "fig8_experiment_page.png", png)


def _check_files(plan, tmp_path, clicks):
    order = trials(plan, 0)
    rows = read_responses(tmp_path / "r.csv")
    assert len(rows) == len(clicks) == 9
    for row, (i, side) in zip(rows.to_dict("records"), clicks):
        t = order[i]
        assert (row["subject"], row["session"], row["pair_id"], row["left_post_id"],
                row["choice"]) == ("S01", t["session"], t["pair_id"], t["left"], t[side])
        assert 0 <= row["rt_ms"] < 60_000
    assert rows["timestamp"].is_monotonic_increasing
    subjects = read_subjects(tmp_path / "s.csv")
    columns = ["subject", "gender", "age", "used_instagram", "social_hours"]
    assert subjects[columns].values.tolist() == [["S01", "female", 24, False, 4.0]]
