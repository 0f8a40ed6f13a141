"""Every fact of the whole demo company equals the ground truth: all sources landed over
loopback, every person, every KPI, every demo period, messy identities and leave included; and
every person's score recomputes from its trace."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from connectors.registry import Connector
from orchestration.cli.main import app
from pipelines import amendments
from pipelines.amendments import land_changes
from pipelines.facts import current_facts
from pipelines.lineage import trace
from pipelines.normalise import NormaliseStats, normalise_source
from pipelines.publishing import score_period
from pipelines.review import Actor
from pipelines.stores import Stores
from sandbox.ground_truth import EVALUATION_KPI_CODES, KPI_CODES, truth
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer
from schemas.catalog import load_catalog
from schemas.migrations.apply import upgrade_stores
from schemas.settings import DEFAULT_TEMPLATES_DIR, get_settings
from schemas.tables import KpiFactRow
from schemas.templates import load_templates
from tests.e2e.company import DEMO_EMPLOYEES, DEMO_PERIODS, DEMO_SEED, land_company
from tests.e2e.conftest import AS_OF

ALL_CODES = KPI_CODES + EVALUATION_KPI_CODES


@dataclass(frozen=True)
class LandedCompany:
    path: Path
    world: World


@pytest.fixture(scope="module")
def landed(
    tmp_path_factory: pytest.TempPathFactory, connectors: dict[str, Connector]
) -> LandedCompany:
    """The demo company landed and normalised once (every source, every demo period); each
    test works on its own copy of the store."""
    path = tmp_path_factory.mktemp("company") / "hub.db"
    url = f"sqlite:///{path}"
    upgrade_stores(url, url)
    stores = Stores.connect(url, url)
    try:
        with SandboxServer(generate_world(DEMO_SEED, DEMO_EMPLOYEES, AS_OF)) as server:
            land_company(stores, server, connectors, "land-1")
            world = server.world
        for period in DEMO_PERIODS:
            normalise_all(stores, connectors, period, "run-1")
    finally:
        stores.dispose()
    return LandedCompany(path, world)


@pytest.fixture
def company(landed: LandedCompany, tmp_path: Path) -> Iterator[Stores]:
    copy = tmp_path / "hub.db"
    shutil.copy(landed.path, copy)
    stores = Stores.connect(f"sqlite:///{copy}", f"sqlite:///{copy}")
    yield stores
    stores.dispose()


def normalise_all(
    stores: Stores, connectors: dict[str, Connector], period: str, run_id: str
) -> dict[str, NormaliseStats]:
    return {
        name: normalise_source(stores.hub, connector, period, run_id, connectors)
        for name, connector in connectors.items()
        if connector.mapping is not None
    }


def facts_of(stores: Stores, period: str) -> dict[tuple[str, str], Decimal]:
    with Session(stores.hub) as session:
        return {
            (f.job_number, f.kpi_code): f.value for f in current_facts(session, period, ALL_CODES)
        }


def test_every_fact_equals_the_truth_for_every_person_and_kpi(
    company: Stores, landed: LandedCompany
) -> None:
    world = landed.world
    for period in DEMO_PERIODS:
        expected = {(r.job_number, r.kpi_code): r.value for r in truth(world, period, ALL_CODES)}
        got = facts_of(company, period)
        wrong = {k: (got.get(k), expected.get(k)) for k in set(got) | set(expected)}
        wrong = {k: v for k, v in wrong.items() if v[0] != v[1]}
        assert wrong == {}, f"{period}: {len(wrong)} facts differ (got, truth)"
        # Every KPI of the catalog is covered in every period.
        assert set(Counter(code for _, code in expected)) == set(ALL_CODES)


def test_the_messy_identities_are_in_the_facts(company: Stores, landed: LandedCompany) -> None:
    """The new hire who inherited a badge mid-month, the colleague who handed it over, and the
    worker who left in the middle of the month each get exactly their own days."""
    world = landed.world
    period = world.periods[-2]
    got = facts_of(company, period)
    expected = {(r.job_number, r.kpi_code): r.value for r in truth(world, period, ALL_CODES)}
    people = world.company
    for job_number in (people.new_hire, people.badge_donor, people.leaver):
        assert job_number is not None
        mine = {k: v for k, v in got.items() if k[0] == job_number}
        assert mine == {k: v for k, v in expected.items() if k[0] == job_number}
        assert (job_number, "semi_finished_yield_rate") in mine
        assert (job_number, "absence_days") in mine


def test_normalising_twice_adds_no_fact_version(
    company: Stores, connectors: dict[str, Connector]
) -> None:
    period = DEMO_PERIODS[-1]
    with Session(company.hub) as session:
        before = session.scalar(select(func.count()).select_from(KpiFactRow))
    again = normalise_all(company, connectors, period, "run-2")
    for name, stats in again.items():
        assert (stats.stored.created, stats.stored.corrected, stats.stored.retired) == (0, 0, 0)
        assert stats.stored.unchanged == stats.facts, name
    with Session(company.hub) as session:
        assert session.scalar(select(func.count()).select_from(KpiFactRow)) == before


def test_kpihub_facts_lists_current_versions_as_json(
    company: Stores,
    landed: LandedCompany,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    period = DEMO_PERIODS[-1]
    worker = landed.world.company.new_hire
    assert worker is not None
    monkeypatch.setenv("KPIHUB_DATABASE_URL", str(company.hub.url))
    get_settings.cache_clear()
    result = CliRunner().invoke(
        app, ["facts", "--period", period, "--job-number", worker, "--json"]
    )
    assert result.exit_code == 0, result.output
    expected = sorted(
        (r for r in truth(landed.world, period, ALL_CODES) if r.job_number == worker),
        key=lambda r: r.kpi_code,
    )
    units = {k.code: k.unit for k in load_catalog().root}
    decimals = {k.code: k.decimals for k in load_catalog().root}
    assert json.loads(result.output) == [
        {
            "job_number": worker,
            "kpi_code": r.kpi_code,
            "period": period,
            "value": str(r.value.quantize(Decimal(1).scaleb(-decimals[r.kpi_code]))),
            "unit": units[r.kpi_code],
            "version": 1,
            "kind": "actual",
        }
        for r in expected
    ]
    planned = CliRunner().invoke(app, ["facts", "--period", period, "--targets", "--json"])
    assert planned.exit_code == 0, planned.output
    erp_targets = {
        (job, kpi, period): value for job, kpi, value in landed.world.erp.targets(period)
    }
    assert {
        (row["job_number"], row["kpi_code"], row["period"]): Decimal(row["value"])
        for row in json.loads(planned.output)
    } == erp_targets
    assert {row["kind"] for row in json.loads(planned.output)} == {"target"}
    one = CliRunner().invoke(
        app, ["facts", "--period", period, "--kpi", "output_qty", "--job-number", worker]
    )
    assert one.exit_code == 0
    assert "output_qty" in one.output and "late_count" not in one.output


def amend_some(stores: Stores, period: str, job_numbers: list[str]) -> list[str]:
    """Approved target changes for every 20th person (the target of their first component that
    has one, cut by a tenth) and HR's manual adjustments for every 20th person after them (a
    bonus or a deduction), as the review cycle makes them. Returns whom they touch."""
    manager, hr, other_hr = Actor("M0001", "leader"), Actor("H0001", "hr"), Actor("H0002", "hr")
    touched = []
    for job_number in job_numbers[::20]:
        components = trace(stores, job_number, period)["components"]
        component = next(c for c in components if c["target"] is not None)
        old = Decimal(component["target"])
        target = max((old * Decimal("0.9")).quantize(Decimal(1)), Decimal(1))
        change = amendments.propose_target(
            stores, manager, job_number, period, component["kpi_code"],
            target if target != old else old + 1, "业务调整",
        )  # fmt: skip
        amendments.decide(stores, hr, change["id"], approve=True)
        touched.append(job_number)
    for n, job_number in enumerate(job_numbers[10::20]):
        points = Decimal(3) if n % 2 else Decimal("-2.5")
        amendments.add_adjustment(stores, hr, job_number, period, points, "项目奖惩")
        if n % 3 == 0:  # a second one, proposed by one HR and approved by another
            second = amendments.add_adjustment(stores, other_hr, job_number, period, "1", "补充")
            assert second["status"] == "approved"
        touched.append(job_number)
    return touched


def test_every_demo_score_recomputes_from_its_own_trace(
    company: Stores, landed: LandedCompany, connectors: dict[str, Connector]
) -> None:
    """Every one of the 200 people is scored by their role's template in every demo month, and
    each published total is recomputed from the trace's JSON alone: attainment x 100 x weight
    used per component, the applied adjustments in order (approved manual adjustments among
    them, and targets changed by approved target changes), the floor at 0, rounding half up."""
    templates = load_templates(DEFAULT_TEMPLATES_DIR)
    job_numbers = sorted(e.job_number for e in landed.world.employees)
    for period in DEMO_PERIODS:
        stats = score_period(company, period, templates, connectors, "score-1")
        assert (stats.scored, stats.unassigned) == (DEMO_EMPLOYEES, [])
        assert sum(stats.by_template.values()) == DEMO_EMPLOYEES
        amended = amend_some(company, period, job_numbers)
        land_changes(company, period, "score-1b")
        restated = score_period(company, period, templates, connectors, "score-1b")
        assert restated.superseded >= len(amended)
        for job_number in amended:
            reason = trace(company, job_number, period)["history"][-1]["reason"]
            assert " approved by H0001" in reason, (job_number, reason)
        for job_number in job_numbers:
            data = json.loads(json.dumps(trace(company, job_number, period)))
            running = Decimal(0)
            for component in data["components"]:
                if component["attainment"] is not None:
                    points = (
                        Decimal(component["attainment"]) * 100 * Decimal(component["weight_used"])
                    )
                    assert Decimal(component["points"]) == points, (job_number, component)
                    running += points
            assert Decimal(data["score"]["subtotal"]) == running
            for adjustment in data["adjustments"]:
                amount = Decimal(adjustment["amount"])
                if adjustment["kind"] == "multiply":
                    running *= amount
                elif adjustment["kind"] == "add":  # a manual adjustment HR approved
                    running += amount
                else:
                    running -= amount
            total = max(running, Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert data["score"]["total"] == str(total), (job_number, period)
        again = score_period(company, period, templates, connectors, "score-2")
        assert (again.published, again.unchanged) == (0, DEMO_EMPLOYEES)
