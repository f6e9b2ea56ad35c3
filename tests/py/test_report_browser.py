# The HTML report in a real browser (headless Chromium over WebDriver): plots with the right points,
# numbers equal to the store's rows, the conversation viewer's search, detail and filters, no
# console errors, no script injection from model output; screenshots go to tests/artifacts/.
import json
import pathlib

import pytest

from report_fixture import (accuracy_by_round, concept_means, heldout_accuracy, mean_normalized_entropy,
                            steering_concept_diff, stored_answers, write_fixture)

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROUNDS = 3
ITEMS = 30
CHARTS = ["accuracy", "bias_ambiguous", "bias_disambiguated", "mean_entropy", "ece"]


@pytest.fixture(scope="module")
def fixture_dir(build_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    write_fixture(build_dir, out)
    return out


def open_page(driver, path: pathlib.Path, fragment: str = ""):
    driver.get(path.as_uri() + fragment)
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.viewer") == "ready")


def severe_logs(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def list_count(driver):
    return len(driver.find_elements(By.CSS_SELECTOR, "#v-list button"))


def test_plots_have_one_line_per_condition_and_a_point_per_round(browser, fixture_dir):
    open_page(browser, fixture_dir / "report.html")
    for chart in CHARTS:
        series = browser.find_elements(By.CSS_SELECTOR, f"#chart-{chart} g.series")
        assert len(series) == 2, chart
        for s in series:
            assert len(s.find_elements(By.CSS_SELECTOR, "circle.pt")) == ROUNDS, chart
    labels = [s.get_attribute("data-label") for s in browser.find_elements(By.CSS_SELECTOR, "#chart-accuracy g.series")]
    assert labels == ["baseline", "self-correct"]
    assert severe_logs(browser) == []


def test_numbers_shown_equal_the_store(browser, fixture_dir):
    open_page(browser, fixture_dir / "report.html")
    expected = accuracy_by_round(fixture_dir / "store.sqlite", ROUNDS)
    for s in browser.find_elements(By.CSS_SELECTOR, "#chart-accuracy g.series"):
        shown = [float(c.get_attribute("data-value")) for c in s.find_elements(By.CSS_SELECTOR, "circle.pt")]
        assert shown == pytest.approx(expected[s.get_attribute("data-label")], abs=1e-12)
    # transitions table: baseline 1 → 2 right→wrong and wrong→right counted from the rows
    answers = stored_answers(fixture_dir / "store.sqlite")["baseline"]
    r2w = sum(1 for seq in answers.values() if seq[0][2] == 1 and seq[1][2] == 0)
    w2r = sum(1 for seq in answers.values() if seq[0][2] == 0 and seq[1][2] == 1)
    row = browser.find_element(By.CSS_SELECTOR, ".transitions[data-series='0'] tr[data-round='2']")
    assert int(row.find_element(By.CSS_SELECTOR, "td[data-key=right_to_wrong]").text) == r2w
    assert int(row.find_element(By.CSS_SELECTOR, "td[data-key=wrong_to_right]").text) == w2r
    assert browser.find_element(By.CSS_SELECTOR, ".run .n-items").text == str(ITEMS)
    assert "200.0 generated tokens/s" in browser.find_element(By.CSS_SELECTOR, ".run").text
    # the page and the JSON table agree on the ECE of round 1
    table = json.loads((fixture_dir / "report.json").read_text())
    ece = table["runs"][0]["conditions"][0]["rounds"][0]["values"]["ece"]
    shown = browser.find_element(By.CSS_SELECTOR, "#chart-ece g.series[data-series='0'] circle.pt")
    assert float(shown.get_attribute("data-value")) == pytest.approx(ece, abs=1e-12)


def test_viewer_finds_an_item_and_shows_its_rounds(browser, fixture_dir, artifacts):
    open_page(browser, fixture_dir / "report.html")
    assert browser.find_element(By.ID, "v-count").text == f"{ITEMS} of {ITEMS} items"
    box = browser.find_element(By.ID, "v-search")
    box.send_keys("item-012")
    WebDriverWait(browser, 5).until(lambda d: list_count(d) == 1)
    browser.find_element(By.CSS_SELECTOR, "#v-list button").click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.dataset.detail") == "item-012")
    convs = browser.find_elements(By.CSS_SELECTOR, "#v-detail section.conv")
    assert [c.get_attribute("data-condition") for c in convs] == ["baseline", "self-correct"]
    stored = stored_answers(fixture_dir / "store.sqlite")
    for c in convs:
        rounds = c.find_elements(By.CSS_SELECTOR, ".round")
        assert len(rounds) == len(stored[c.get_attribute("data-condition")]["item-012"])
        assert len(rounds[0].find_elements(By.CSS_SELECTOR, ".probs .bar")) == 3
    tok = browser.find_element(By.CSS_SELECTOR, "#v-detail .tok")
    assert "logprob" in tok.get_attribute("title") and "alternatives" in tok.get_attribute("title")
    # an early-stopped conversation says so and shows only its stored rounds
    browser.get((fixture_dir / "report.html").as_uri() + "#item=item-000")
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.dataset.detail") == "item-000")
    sc = browser.find_element(By.CSS_SELECTOR, "#v-detail section.conv[data-condition='self-correct']")
    assert len(sc.find_elements(By.CSS_SELECTOR, ".round")) == 2
    assert "stopped early after round 2" in sc.text
    browser.set_window_size(1280, 2200)
    browser.find_element(By.ID, "viewer").screenshot(str(artifacts / "report_viewer.png"))
    browser.set_window_size(1280, 900)
    assert severe_logs(browser) == []


def test_filters(browser, fixture_dir):
    open_page(browser, fixture_dir / "report.html")
    stored = stored_answers(fixture_dir / "store.sqlite")["baseline"]
    changed = sum(1 for seq in stored.values() if len({s[1] for s in seq}) > 1)
    wrong_last = sum(1 for seq in stored.values() if seq[-1][2] == 0)
    Select(browser.find_element(By.ID, "v-cond")).select_by_visible_text("baseline")
    browser.find_element(By.ID, "v-flipped").click()
    WebDriverWait(browser, 5).until(lambda d: list_count(d) == changed)
    browser.find_element(By.ID, "v-flipped").click()
    browser.find_element(By.ID, "v-wrong").click()
    WebDriverWait(browser, 5).until(lambda d: list_count(d) == wrong_last)
    browser.find_element(By.ID, "v-wrong").click()
    Select(browser.find_element(By.ID, "v-category")).select_by_visible_text("Age")
    WebDriverWait(browser, 5).until(lambda d: list_count(d) == ITEMS // 3)
    assert all("Age" in b.text for b in browser.find_elements(By.CSS_SELECTOR, "#v-list button"))
    assert severe_logs(browser) == []


def test_model_output_cannot_inject_markup(browser, fixture_dir):
    item = "q\"'<i>&7"
    open_page(browser, fixture_dir / "report.html")
    browser.find_element(By.ID, "v-search").send_keys("q\"'<i>")
    WebDriverWait(browser, 5).until(lambda d: list_count(d) == 1)
    browser.find_element(By.CSS_SELECTOR, "#v-list button").click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.dataset.detail") == item)
    detail = browser.find_element(By.ID, "v-detail")
    assert detail.find_element(By.CSS_SELECTOR, "h3").text == item
    assert "</script><script>window.__pwned=1</script>" in detail.text
    assert "<b>not bold</b>" in detail.text
    assert detail.find_elements(By.CSS_SELECTOR, "img, script, b, i") == []
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert severe_logs(browser) == []


def test_comparison_page_and_screenshots(browser, fixture_dir, artifacts):
    open_page(browser, fixture_dir / "compare.html")
    series = browser.find_elements(By.CSS_SELECTOR, "#chart-accuracy g.series")
    assert len(series) == 4
    labels = [s.get_attribute("data-label") for s in series]
    assert labels[0].startswith("SmolLM2-135M-Instruct.Q4_1 · ") and labels[2].startswith("Other-Model-1B · ")
    assert len(Select(browser.find_element(By.ID, "v-run")).options) == 2
    Select(browser.find_element(By.ID, "v-run")).select_by_index(1)
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "v-count").text == f"{ITEMS} of {ITEMS} items")
    assert severe_logs(browser) == []
    open_page(browser, fixture_dir / "report.html")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(height + 100, 6000))
    browser.save_screenshot(str(artifacts / "report_laptop.png"))
    browser.set_window_size(390, 844)
    open_page(browser, fixture_dir / "report.html", "#item=item-012")
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.dataset.detail") == "item-012")
    # nothing wider than a phone screen except inside the scrollable tables
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    browser.save_screenshot(str(artifacts / "report_phone.png"))
    browser.execute_script("document.getElementById('v-detail').scrollIntoView()")
    browser.save_screenshot(str(artifacts / "report_phone_viewer.png"))
    browser.set_window_size(1280, 900)


def pearson(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return sxy / (sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y)) ** 0.5


def test_concepts_section_equals_the_store(browser, fixture_dir, artifacts):
    open_page(browser, fixture_dir / "report.html")
    assert browser.find_elements(By.ID, "concepts") == []  # no item probes, no section
    store = fixture_dir / "concepts.sqlite"
    open_page(browser, fixture_dir / "concepts.html")
    blocks = browser.find_elements(By.CSS_SELECTOR, "#concepts div.concept")
    assert [(b.get_attribute("data-position"), b.get_attribute("data-layer")) for b in blocks] == \
        [("answer", "4"), ("user_end", "4")]
    entropy = mean_normalized_entropy(store)
    for j, position in enumerate(["answer", "user_end"]):
        means = concept_means(store, position, 4)
        # curves: one line per condition, a point per probed round, at the stored mean
        series = browser.find_elements(By.CSS_SELECTOR, f"#concept-0-{j}-curve g.series")
        assert [s.get_attribute("data-label") for s in series] == ["baseline", "self-correct", "self-correct+steer"]
        for s in series:
            condition = s.get_attribute("data-label")
            points = s.find_elements(By.CSS_SELECTOR, "circle.pt")
            assert len(points) == len([k for k in means if k[0] == condition])
            for p in points:
                assert float(p.get_attribute("data-value")) == pytest.approx(
                    means[(condition, int(p.get_attribute("data-round")))], abs=1e-12)
        # scatter: (mean concept, mean normalised entropy) per round, and Pearson r of those means
        for g in browser.find_elements(By.CSS_SELECTOR, f"#concept-0-{j}-scatter g.series"):
            condition = g.get_attribute("data-condition")
            xs, ys = [], []
            for p in g.find_elements(By.CSS_SELECTOR, "circle.pt"):
                key = (condition, int(p.get_attribute("data-round")))
                xs.append(float(p.get_attribute("data-x")))
                ys.append(float(p.get_attribute("data-y")))
                assert xs[-1] == pytest.approx(means[key], abs=1e-12)
                assert ys[-1] == pytest.approx(entropy[key], abs=1e-12)
            assert len(xs) == 3
            shown = blocks[j].find_element(By.CSS_SELECTOR, f"li.corr[data-condition='{condition}']")
            assert float(shown.get_attribute("data-pearson")) == pytest.approx(pearson(xs, ys), abs=1e-9)
        # steering: items both conditions have and the mean concept difference, per round
        expected = steering_concept_diff(store, "self-correct+steer", "self-correct", position, 4)
        rows = blocks[j].find_elements(By.CSS_SELECTOR, ".steering tbody tr")
        assert len(rows) == len(expected)
        for row in rows:
            n, diff = expected[int(row.get_attribute("data-round"))]
            assert int(row.find_element(By.CSS_SELECTOR, "td[data-key=n]").text) == n
            cell = row.find_element(By.CSS_SELECTOR, "td[data-key=concept_diff]")
            assert float(cell.get_attribute("data-value")) == pytest.approx(diff, abs=1e-12)
        # layer profile: shift = last − first round mean per layer, held-out accuracy from the probes table
        heldout = heldout_accuracy(store)
        for row in blocks[j].find_elements(By.CSS_SELECTOR, ".layer-table tbody tr"):
            layer = int(row.get_attribute("data-layer"))
            layer_means = concept_means(store, position, layer)
            for cell in row.find_elements(By.CSS_SELECTOR, "td[data-key=shift]"):
                condition = cell.get_attribute("data-condition")
                rounds = sorted(r for c, r in layer_means if c == condition)
                assert float(cell.get_attribute("data-value")) == pytest.approx(
                    layer_means[(condition, rounds[-1])] - layer_means[(condition, rounds[0])], abs=1e-12)
            acc = row.find_element(By.CSS_SELECTOR, "td[data-key=heldout_accuracy]")
            assert float(acc.get_attribute("data-value")) == pytest.approx(heldout[layer], abs=1e-12)
        assert len(browser.find_elements(By.CSS_SELECTOR, f"#concept-0-{j}-layers circle.pt")) == 6
    # the JSON table carries the same numbers as the page
    table = json.loads((fixture_dir / "concepts.json").read_text())
    first = table["runs"][0]["concepts"][0]["conditions"][0]["rounds"][0]["mean"]
    shown = browser.find_element(By.CSS_SELECTOR, "#concept-0-0-curve g.series[data-series='0'] circle.pt")
    assert float(shown.get_attribute("data-value")) == pytest.approx(first, abs=1e-12)
    assert severe_logs(browser) == []
    section = browser.find_element(By.ID, "concepts")
    browser.set_window_size(1280, min(section.size["height"] + 300, 6000))
    section.screenshot(str(artifacts / "report_concepts.png"))
    browser.set_window_size(390, 844)
    open_page(browser, fixture_dir / "concepts.html", "#concepts")
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    browser.set_window_size(1280, 900)
    assert severe_logs(browser) == []


@pytest.fixture(scope="module")
def sampled_page(isc_bin, model_path, root, tmp_path_factory):
    """A real sampled run on the default model (detoxification, 3 samples a round) and its report."""
    import subprocess
    d = tmp_path_factory.mktemp("sampled")
    store, html = d / "sampled.sqlite", d / "sampled.html"
    r = subprocess.run([str(isc_bin), "run", "--task", "tasks/realtoxicity.yaml", "--model", str(model_path),
                        "--conditions", "self-correct", "--limit", "4", "--rounds", "2", "--samples", "3",
                        "--sample-max-new-tokens", "12", "--entailment", "exact", "--out", str(store), "-q",
                        "--no-report", "--html", str(html)], cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(isc_bin), "report", str(store), "--html", str(html), "-q"], cwd=root,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return store, html


def test_uncertainty_section_and_samples_in_the_viewer(browser, sampled_page, artifacts):
    import sqlite3
    store, html = sampled_page
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rounds = db.execute("SELECT item_id, round, extra FROM rounds").fetchall()
    samples = db.execute("SELECT item_id, round, sample, cluster, parsed_answer FROM samples "
                         "ORDER BY item_id, round, sample").fetchall()
    db.close()
    open_page(browser, html)
    assert browser.find_elements(By.ID, "uncertainty")
    # each estimator's curve: a point per round at the mean of the stored per-item estimates
    for name in ["semantic_entropy", "ln_semantic_entropy", "discrete_semantic_entropy", "predictive_entropy"]:
        pts = browser.find_elements(By.CSS_SELECTOR, f"#chart-{name} circle.pt")
        assert len(pts) == 2, name
        for p in pts:
            rnd = int(p.get_attribute("data-round"))
            vals = [json.loads(x)["uncertainty"][name] for _, r, x in rounds if r == rnd]
            assert float(p.get_attribute("data-value")) == pytest.approx(sum(vals) / len(vals), abs=1e-12)
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-rce-semantic_entropy circle.pt")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.indication circle.bin")
    # the viewer: a round's samples with their stored clusters
    item = samples[0][0]
    browser.get(html.as_uri() + "#item=" + item)
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.body.dataset.detail") == item)
    first = browser.find_element(By.CSS_SELECTOR, "#v-detail .round[data-round='1']")
    lis = first.find_elements(By.CSS_SELECTOR, ".samples li.sample")
    want = [s for s in samples if s[0] == item and s[1] == 1]
    assert [int(li.get_attribute("data-cluster")) for li in lis] == [s[3] for s in want]
    browser.execute_script("document.querySelectorAll('details.samples').forEach(d => d.open = true)")
    assert want[0][4].strip()[:10] in lis[0].text
    browser.find_element(By.ID, "uncertainty").screenshot(str(artifacts / "report_uncertainty.png"))
    assert severe_logs(browser) == []
