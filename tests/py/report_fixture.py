# Helpers of the report browser tests: builds the synthetic store and its HTML through the report
# gtest binary, computes the expected per-round numbers straight from the SQLite rows, and starts
# headless Chromium over WebDriver.
import json
import math
import os
import pathlib
import shutil
import sqlite3
import subprocess



def write_fixture(build_dir: pathlib.Path, out_dir: pathlib.Path) -> None:
    """Runs BrowserFixture.WriteStoreAndReport, which writes store.sqlite, report.html, compare.html."""
    binary = build_dir / "tests" / "isc_test_report"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} not built (cmake --build BUILD --target isc_test_report)")
    env = dict(os.environ, ISC_REPORT_FIXTURE_DIR=str(out_dir))
    subprocess.run([str(binary), "--gtest_filter=BrowserFixture.*"], env=env, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stored_answers(store: pathlib.Path):
    """{condition: {item_id: [(round, answer_index, correct, early_stopped), ...]}} from the rounds table."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    out = {}
    rows = db.execute("SELECT condition, item_id, round, answer_index, correct, "
                      "json_extract(extra, '$.early_stopped') FROM rounds ORDER BY condition, item_id, round")
    for condition, item, rnd, answer, correct, stopped in rows:
        out.setdefault(condition, {}).setdefault(item, []).append((rnd, answer, correct, bool(stopped)))
    db.close()
    return out


def accuracy_by_round(store: pathlib.Path, rounds: int):
    """Per condition, accuracy per round with early-stopped answers carried forward (as the report does)."""
    result = {}
    for condition, items in stored_answers(store).items():
        acc = []
        for r in range(1, rounds + 1):
            right = 0
            for seq in items.values():
                last = [s for s in seq if s[0] <= r][-1]
                right += last[2] == 1
            acc.append(right / len(items))
        result[condition] = acc
    return result


def concept_means(store: pathlib.Path, position: str, layer: int):
    """{(condition, round): mean cosine} of the item probes at (position, layer), by SQL."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = db.execute("SELECT condition, round, AVG(cosine) FROM item_probes WHERE position = ? AND layer = ? "
                      "GROUP BY condition, round", (position, layer)).fetchall()
    db.close()
    return {(c, r): m for c, r, m in rows}


def mean_normalized_entropy(store: pathlib.Path):
    """{(condition, round): mean of H(option_probs) / ln K} over the stored rounds."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    sums = {}
    for condition, rnd, probs in db.execute("SELECT condition, round, option_probs FROM rounds"):
        p = json.loads(probs)
        h = -sum(x * math.log(x) for x in p if x > 0) / math.log(len(p))
        s = sums.setdefault((condition, rnd), [0.0, 0])
        s[0] += h
        s[1] += 1
    db.close()
    return {k: v[0] / v[1] for k, v in sums.items()}


def steering_concept_diff(store: pathlib.Path, steered: str, base: str, position: str, layer: int):
    """{round: (items both conditions have, mean steered − base cosine over them)}, by an SQL join."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT s.round, COUNT(*), AVG(s.cosine - b.cosine) FROM item_probes s JOIN item_probes b "
        "ON s.item_id = b.item_id AND s.round = b.round AND s.position = b.position AND s.layer = b.layer "
        "AND s.name = b.name WHERE s.condition = ? AND b.condition = ? AND s.position = ? AND s.layer = ? "
        "GROUP BY s.round", (steered, base, position, layer)).fetchall()
    db.close()
    return {r: (n, d) for r, n, d in rows}


def heldout_accuracy(store: pathlib.Path):
    """{layer: accuracy} from the probes table's "<name>/heldout_accuracy" rows."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = db.execute("SELECT layer, value FROM probes WHERE name LIKE '%/heldout_accuracy'").fetchall()
    db.close()
    return {layer: json.loads(v) for layer, v in rows}


def start_chromium(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        raise FileNotFoundError("chromium and chromedriver must be on PATH (Debian: chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)
