# Helpers of the report browser tests: builds the synthetic store and its HTML through the report
# gtest binary, computes the expected per-round numbers straight from the SQLite rows, and starts
# headless Chromium over WebDriver.
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
