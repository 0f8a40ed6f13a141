"""``kpihub sandbox measure`` and the plain client under it, at a tiny size: it pulls exactly the
month each system serves. (How fast is reported, never asserted.)"""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from orchestration.cli.main import app
from sandbox.measure import pull_month
from sandbox.model import generate_world
from sandbox.serving import SandboxServer

runner = CliRunner()


def test_the_plain_client_pulls_the_whole_month_of_the_unlimited_systems() -> None:
    world = generate_world(5, 25, date(2026, 11, 22))
    period = "2026-09"
    with SandboxServer(world, systems=("qms", "attendance")) as server:
        qms, attendance = pull_month(server.endpoints, period, ("qms", "attendance"))
    items = world.plant.inspections(period)
    assert 0 < len(items) < 1000
    assert (qms.system, qms.pages, qms.records) == ("qms", 2, len(items))
    # The shifts in one page, then one page a day: under 2000 punches a day at this size.
    assert (attendance.system, attendance.pages) == ("attendance", 1 + 30)
    assert attendance.records > 0
    assert qms.seconds > 0 and attendance.seconds > 0


def test_measure_prints_a_row_per_system() -> None:
    result = runner.invoke(
        app, ["sandbox", "measure", "--seed", "5", "--employees", "12", "--period", "2026-10"],
        env={"COLUMNS": "160"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "12 employees, seed 5: generated in" in result.output
    rows = [line.split("│")[1].strip() for line in result.output.splitlines() if "│" in line]
    assert rows == ["crm", "dingtalk", "qms", "attendance"]


def test_measure_refuses_an_unknown_system() -> None:
    result = runner.invoke(app, ["sandbox", "measure", "--employees", "5", "--systems", "erp"])
    assert result.exit_code == 2
    assert "error: --systems takes some of crm, dingtalk, qms, attendance, not 'erp'" in (
        result.output
    )
