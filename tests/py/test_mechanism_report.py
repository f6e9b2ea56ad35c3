# The report's Mechanism section in a real browser: on a real run of the default model and on a
# simulated store, CL, CS and the simulation task's accuracies equal `isc analyze --json` on the
# same store, missing analyses show their reasons, the simulated posterior is drawn, and no NaN.
import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from isc_cli import isc

SEED, BOOTSTRAP = 3, 200


def report_and_analysis(isc_bin, root, store, html):
    """The HTML report and `isc analyze --json` of one store, with the same seed and bootstrap count."""
    isc(isc_bin, root, "report", store, "--html", html, "-q", "--seed", SEED, "--bootstrap", BOOTSTRAP)
    out = isc(isc_bin, root, "analyze", store, "--json", "--seed", SEED, "--bootstrap", BOOTSTRAP)
    return json.loads(out.stdout)["runs"]


@pytest.fixture(scope="module")
def real_page(isc_bin, model_path, root, tmp_path_factory):
    """A small BBQ run of the default model (no hidden states, so no concept scores) and its report."""
    d = tmp_path_factory.mktemp("mechanism-real")
    store, html = d / "bbq.sqlite", d / "bbq.html"
    isc(isc_bin, root, "run", "--task", "tasks/bbq.yaml", "--model", model_path, "--conditions",
        "baseline,self-correct", "--limit", "6", "--rounds", "3", "--out", store, "-q", "--no-report")
    return html, report_and_analysis(isc_bin, root, store, html)


@pytest.fixture(scope="module")
def simulated_page(isc_bin, root, tmp_path_factory):
    """A simulated store (latent-concept model, concept score = the posterior) and its report."""
    d = tmp_path_factory.mktemp("mechanism-sim")
    store, html = d / "sim.sqlite", d / "sim.html"
    isc(isc_bin, root, "simulate", "simulations/latent_concept.yaml", "--items", "40", "--rounds", "8", "--out", store)
    return html, report_and_analysis(isc_bin, root, store, html)


def open_page(driver, path):
    driver.get(path.as_uri())
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.body.dataset.viewer") == "ready")


def value(el):
    return float(el.get_attribute("data-value"))


def condition_css(name):
    return f"[data-condition='{name}']"


def check_no_nan(driver):
    text = driver.execute_script("return document.body.innerText")
    assert not re.search(r"\bNaN\b|\bnan\b", text)
    markup = driver.find_element(By.ID, "mechanism").get_attribute("outerHTML")
    assert not re.search(r"\bnan\b", markup, re.IGNORECASE)


def check_theory(driver, analysis):
    """CL and CS (first transition and pooled) per condition equal the analysis."""
    section = driver.find_element(By.CSS_SELECTOR, "#mech-0 .mech-theory")
    for c in analysis["conditions"]:
        t = c["transition_theory"]
        row = section.find_element(By.CSS_SELECTOR, "tr" + condition_css(c["condition"]))
        for key, source in [("cl", t["estimate"]["cl"]), ("cs", t["estimate"]["cs"]),
                            ("pooled_cl", t["pooled"]["cl"]), ("pooled_cs", t["pooled"]["cs"])]:
            cell = row.find_element(By.CSS_SELECTOR, f"td[data-key={key}]")
            if "estimate" in source:
                assert value(cell) == pytest.approx(source["estimate"], abs=1e-12), key
                assert float(cell.get_attribute("data-lower")) == pytest.approx(source["lower"], abs=1e-12)
            else:
                assert source["unavailable"] in cell.text, key


def test_real_run_shows_theory_and_the_reasons(browser, real_page, artifacts):
    html, runs = real_page
    open_page(browser, html)
    assert browser.find_elements(By.CSS_SELECTOR, "nav a[href='#mechanism']")
    assert browser.find_element(By.CSS_SELECTOR, "#mechanism h2").text == "Mechanism"
    analysis = runs[0]
    check_theory(browser, analysis)
    for k, c in enumerate(analysis["conditions"]):
        # the observed accuracy per round, with a Wilson whisker each
        pts = browser.find_elements(By.CSS_SELECTOR, f"#mech-0-c{k}-theory g[data-kind=observed] circle.obs")
        observed = [r["observed"]["estimate"] for r in c["transition_theory"]["rounds"] if "estimate" in r["observed"]]
        assert [value(p) for p in pts] == pytest.approx(observed, abs=1e-12)
        # no concept scores: the task says what to run first, in the analysis' own words
        reason = c["simulation_task"]["unavailable"]
        card = browser.find_element(By.CSS_SELECTOR, ".mech-task-card" + condition_css(c["condition"]))
        assert "unavailable: " + reason in card.text
        assert "concept" in reason
    check_no_nan(browser)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    el = browser.find_element(By.ID, "mechanism")
    browser.set_window_size(1280, min(int(el.size["height"]) + 200, 8000))
    browser.execute_script("arguments[0].scrollIntoView()", el)
    el.screenshot(str(artifacts / "report_mechanism_real.png"))
    browser.set_window_size(1280, 900)


def test_simulated_run_task_accuracies_and_posterior(browser, simulated_page, artifacts):
    html, runs = simulated_page
    open_page(browser, html)
    analysis = runs[0]
    check_theory(browser, analysis)
    for c in analysis["conditions"]:
        card = browser.find_element(By.CSS_SELECTOR, ".mech-task-card" + condition_css(c["condition"]))
        for key in ["forward", "reverse"]:
            d = c["simulation_task"][key]
            block = card.find_element(By.CSS_SELECTOR, f".task-direction[data-direction={key}]")
            if "unavailable" in d:
                assert "unavailable: " + d["unavailable"] in block.text
                continue
            shown = {tr.get_attribute("data-classifier"): tr
                     for tr in block.find_elements(By.CSS_SELECTOR, "table.mech-task tr[data-classifier]")}
            for clf in d["classifiers"]:
                cell = shown[clf["name"]].find_element(By.CSS_SELECTOR, "td[data-key=accuracy]")
                assert value(cell) == pytest.approx(clf["accuracy"]["estimate"], abs=1e-12), clf["name"]
    # at least one direction ran (the simulated concept follows the posterior), with its bar chart
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.bars g.bar[data-classifier='concept change']")
    assert bars
    # the posterior chart: fitted, simulated mean and the paper's formula per condition, and p = 1
    chart = browser.find_element(By.ID, "mech-0-posterior")
    for c in analysis["conditions"]:
        for kind in ["simulated", "paper"]:
            assert chart.find_elements(By.CSS_SELECTOR, f"g[data-kind={kind}]{condition_css(c['condition'])} path")
    assert chart.find_elements(By.CSS_SELECTOR, "g.reference[data-kind=one]")
    paper_max = max(max(c["simulated"]["posterior_paper"]) for c in analysis["conditions"])
    assert paper_max > 1  # the paper's formula leaves [0, 1] by round 8 ...
    y_ticks = [float(t.get_attribute("textContent")) for t in chart.find_elements(By.CSS_SELECTOR, "text.tick[text-anchor=end]")]
    assert max(y_ticks) > 1  # ... and the axis extends above 1 to show it: every point inside the frame
    frame = chart.find_element(By.CSS_SELECTOR, "rect.frame")
    top = float(frame.get_attribute("y"))
    for path in chart.find_elements(By.CSS_SELECTOR, "g[data-kind=paper] path"):
        ys = [float(p.split(",")[1]) for p in re.findall(r"[-\d.]+,[-\d.]+", path.get_attribute("d"))]
        assert min(ys) >= top - 1e-6
    check_no_nan(browser)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    el = browser.find_element(By.ID, "mechanism")
    browser.set_window_size(1280, min(int(el.size["height"]) + 200, 8000))
    browser.execute_script("arguments[0].scrollIntoView()", el)
    el.screenshot(str(artifacts / "report_mechanism_simulated.png"))
    # on a phone the charts scale and the tables scroll inside their cards: the page never scrolls sideways
    browser.set_window_size(390, 844)
    open_page(browser, html)
    assert browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 1
    browser.set_window_size(1280, 900)
