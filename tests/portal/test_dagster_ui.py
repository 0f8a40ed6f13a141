"""The Dagster UI as HR operations see it after a demo, in a real browser (Debian's Chromium
driven by Playwright) against ``dagster-webserver`` on a loopback port: the asset groups, a
month's score metadata tables, a failing check with its failing rows, the schedules and sensors,
and the demo's runs on their job pages and the overview timeline with the months and sources they
cover. It shares the portal tests' demo run; screenshots are kept in ``test-artifacts/dagster``.
The definitions also pass ``dagster definitions validate``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import discover
from orchestration.jobs import PERIODS_TAG, SOURCES_TAG
from orchestration.partitions import closed_periods
from pipelines.stores import Stores
from schemas.periods import next_period
from schemas.tables import Finding
from tests.portal.conftest import DONE, PERIODS, _demo_env, _free_port
from tests.portal.test_browser import ARTIFACTS as PORTAL_ARTIFACTS
from tests.portal.test_browser import browser  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PORTAL_ARTIFACTS.parent / "dagster"
BIN = Path(sys.executable).parent
# The code location is named after the module workspace.yaml loads.
JOB_PAGE = "/locations/orchestration.definitions/jobs"
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


def _run_link(page: Page, run: dg.DagsterRun) -> Locator:
    """A runs list's link to ``run``, named by its id's first eight characters."""
    return page.locator(f'a[href="/runs/{run.run_id}"]', has_text=run.run_id[:8])


def test_the_demos_runs_are_on_their_job_pages_and_the_timeline(
    ui: tuple[str, Path],
    browser: Browser,  # noqa: F811
) -> None:
    """The demo executes its runs in its own process; each is still a run of the code location,
    so the job's page lists it and the overview timeline places it, with its months and
    sources as tags."""
    url, home = ui
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    (sync,) = instance.get_runs(filters=dg.RunsFilter(job_name="sync_sources"))
    scores = instance.get_runs(filters=dg.RunsFilter(job_name="score_period"))
    instance.dispose()
    months = closed_periods(PERIODS)
    sources = ",".join(sorted(discover()))
    # A sync covers the months of the history kept, the current one included.
    assert sync.tags[PERIODS_TAG] == f"{months[0]}..{next_period(months[-1])}"
    assert sync.tags[SOURCES_TAG] == sources
    assert sorted(r.tags[PERIODS_TAG] for r in scores) == months

    page = _open(browser, url)
    page.goto(f"{url}{JOB_PAGE}/sync_sources/runs")
    _run_link(page, sync).wait_for(timeout=60_000)
    assert page.get_by_text("No runs found").count() == 0
    page.get_by_text(f"{PERIODS_TAG}: {sync.tags[PERIODS_TAG]}", exact=True).wait_for()
    page.get_by_text(f"{SOURCES_TAG}: {sources}", exact=True).wait_for()
    page.screenshot(path=str(ARTIFACTS / "sync-sources-runs.png"))

    page.goto(f"{url}{JOB_PAGE}/score_period/runs")
    for run in scores:
        _run_link(page, run).wait_for(timeout=60_000)
        page.get_by_text(f"{PERIODS_TAG}: {run.tags[PERIODS_TAG]}", exact=True).wait_for()

    # The timeline draws a job's row only for runs that name their code location; hovering
    # the row's runs shows a link to the sync.
    page.goto(f"{url}/overview/activity/timeline")
    name = page.locator(f'a[href="{JOB_PAGE}/sync_sources"]')
    name.wait_for(timeout=60_000)
    row = page.locator("div", has=name).filter(has=page.locator(".chunk-popover-target")).last
    link = page.locator(f'a[href="/runs/{sync.run_id}"]')
    for chunk in row.locator(".chunk-popover-target").all():
        chunk.hover()
        try:
            link.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    assert link.count() == 1, "the timeline does not show the demo's sync"
    page.screenshot(path=str(ARTIFACTS / "timeline.png"))
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
