"""The Dagster UI as HR operations see it after a demo, in a real browser (Debian's Chromium
driven by Playwright) against ``dagster-webserver`` on a loopback port: the asset groups, a
month's score metadata tables, a failing check with its failing rows, the schedules and sensors.
It shares the portal tests' demo run; screenshots are kept in ``test-artifacts/dagster``. The
definitions also pass ``dagster definitions validate``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import discover
from pipelines.stores import Stores
from schemas.tables import Finding
from tests.portal.conftest import DONE, _demo_env, _free_port
from tests.portal.test_browser import ARTIFACTS as PORTAL_ARTIFACTS
from tests.portal.test_browser import browser  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PORTAL_ARTIFACTS.parent / "dagster"
BIN = Path(sys.executable).parent
AUTOMATIONS = (
    "daily_sync",
    "monthly_close",
    "deliver_alerts",
    "confirm_overdue_scores",
    "alert_new_findings",
    "alert_failed_runs",
    "evaluations_inbox",
)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, demo_home: Path) -> Iterator[tuple[str, Path]]:
    """dagster-webserver on a copy of the demo's home, its code location loaded from the
    project's workspace; stopped with its code server when the module is done."""
    home = tmp_path_factory.mktemp("dagster-ui") / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns(DONE))
    env = _demo_env(home)
    env["DAGSTER_HOME"] = str(home / "dagster")
    port = _free_port()
    log = home.parent / "webserver.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
             "-p", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no webserver after 180 s: {log.read_text()}"
            time.sleep(0.5)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield url, home
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _open(browser: Browser, url: str) -> Page:  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/")
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=10_000)
        skip.click()
    except PlaywrightTimeout:  # the welcome dialog shows once per browser profile at most
        pass
    return page


def test_the_ui_shows_groups_score_metadata_failing_checks_and_automations(
    ui: tuple[str, Path],
    browser: Browser,  # noqa: F811
) -> None:
    url, home = ui
    page = _open(browser, url)

    page.goto(f"{url}/asset-groups")
    groups = sorted({f"{name}_raw" for name in discover()} | {"facts", "scores"})
    for group in groups:
        page.get_by_text(group, exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "asset-groups.png"))

    stores = Stores.connect(f"sqlite:///{home / 'hub.db'}", f"sqlite:///{home / 'hub.db'}")
    with Session(stores.hub) as hub:
        anomaly = hub.scalars(
            select(Finding)
            .where(Finding.source == "qms", Finding.kind == "anomaly")
            .where(Finding.job_number.is_not(None))
            .order_by(Finding.period.desc(), Finding.id)
        ).first()
    stores.dispose()
    assert anomaly is not None  # the sandbox plants a collapsed yield in the demo's months
    period = anomaly.period

    page.goto(f"{url}/assets/scores?partition={period}")
    for table in ("by_template_and_grade", "distribution", "held_scores"):
        page.get_by_text(table, exact=True).first.wait_for(timeout=60_000)
    assert page.get_by_text("template", exact=True).count() > 0
    page.screenshot(path=str(ARTIFACTS / "scores-metadata.png"), full_page=True)

    page.goto(f"{url}/assets/facts/qms?view=checks")
    page.get_by_text("anomalies", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("anomalies", exact=True).first.click()
    page.get_by_text("anomalous", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("Failed").first.wait_for(timeout=60_000)
    page.get_by_text(period, exact=True).first.wait_for(timeout=60_000)  # the month evaluated
    assert page.get_by_text(anomaly.job_number or "", exact=True).count() >= 1  # its failing row
    page.screenshot(path=str(ARTIFACTS / "failing-check.png"), full_page=True)

    page.goto(f"{url}/automation")
    for name in AUTOMATIONS:
        page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "automation.png"))
    page.close()


def test_the_definitions_validate(ui: tuple[str, Path]) -> None:
    _, home = ui
    env = _demo_env(home)
    env["DAGSTER_HOME"] = str(home / "dagster")
    result = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation." in result.stdout + result.stderr
