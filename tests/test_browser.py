"""The published report in headless Chromium: nothing requested from the network, every image loads."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _require_chromium() -> None:
    # CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
    if not Path(CHROMIUM).is_file() and os.environ.get("CI") != "true":
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")


def _open(page_path: Path, tmp_path: Path) -> dict:
    from playwright.sync_api import sync_playwright

    requests, failed, outside = [], [], []
    with sync_playwright() as pw:
        # playwright gives the browser a fresh temporary profile itself (it refuses --user-data-dir here)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
            page.goto(page_path.as_uri(), wait_until="load")
            images = page.evaluate(
                "() => Array.from(document.images).map(i => [i.complete, i.naturalWidth, (i.alt || '').slice(0, 40)])"
            )
            figures = page.evaluate("() => document.querySelectorAll('figure.schaubild').length")
        finally:
            browser.close()
    outside = [u for u in requests if not (u.startswith("file:") or u.startswith("data:"))]
    return {"requests": requests, "failed": failed, "outside": outside, "images": images, "figures": figures}


@pytest.mark.browser
@pytest.mark.slow
def test_report_loads_offline_with_every_image(full_build, tmp_path):
    _require_chromium()
    paths, result, _ = full_build
    assert result.ok, result.summary()
    seen = _open(paths.report / "datenreport.html", tmp_path)
    assert seen["failed"] == [] and seen["outside"] == []
    assert seen["figures"] == 19
    assert seen["images"] and all(done and width > 0 for done, width, _ in seen["images"]), seen["images"]


@pytest.mark.browser
@pytest.mark.slow
def test_site_page_loads_offline_with_every_image(full_build, tmp_path):
    _require_chromium()
    paths, _, _ = full_build
    seen = _open(paths.report / "standorte" / "S01.html", tmp_path)
    assert seen["failed"] == [] and seen["outside"] == []
    assert seen["images"] and all(done and width > 0 for done, width, _ in seen["images"])
