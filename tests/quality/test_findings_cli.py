"""``kpihub findings``: list (JSON, table, summary), show, and the review commands with their
one-line errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestration.cli.inspect import open_stores
from orchestration.cli.main import app
from quality.findings import Observation, raise_finding

RAISED = [
    Observation(
        "crm.orders_volume", "anomaly", "ERROR", "crm", "2026-10", 412, {"baseline": 930},
        stream="orders",
    ),
    Observation(
        "qms.yield_robust_z", "anomaly", "WARN", "qms", "2026-10", 1, {"value": "0.61"},
        job_number="E00042", kpi_code="semi_finished_yield_rate",
    ),
    Observation(
        "erp.quarantined_records", "quarantine", "WARN", "erp", "2026-09", 3,
        {"by_reason": {"unknown_employee": 3}},
    ),
]  # fmt: skip


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("USER", "hrops")
    cli = CliRunner()
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    stores = open_stores()
    with Session(stores.hub) as session, session.begin():
        for seen in RAISED:
            raise_finding(session, seen)
    stores.dispose()
    return cli


def listed(runner: CliRunner, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["findings", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_prints_every_finding_as_json(runner: CliRunner) -> None:
    assert listed(runner) == [
        {
            "id": 1,
            "kind": "anomaly",
            "severity": "ERROR",
            "status": "open",
            "source": "crm",
            "stream": "orders",
            "job_number": None,
            "kpi_code": None,
            "period": "2026-10",
            "detail": {"baseline": 930},
        },
        {
            "id": 2,
            "kind": "anomaly",
            "severity": "WARN",
            "status": "open",
            "source": "qms",
            "stream": None,
            "job_number": "E00042",
            "kpi_code": "semi_finished_yield_rate",
            "period": "2026-10",
            "detail": {"value": "0.61"},
        },
        {
            "id": 3,
            "kind": "quarantine",
            "severity": "WARN",
            "status": "open",
            "source": "erp",
            "stream": None,
            "job_number": None,
            "kpi_code": None,
            "period": "2026-09",
            "detail": {"by_reason": {"unknown_employee": 3}},
        },
    ]
    assert [f["id"] for f in listed(runner, "--period", "2026-09")] == [3]
    table = runner.invoke(app, ["findings", "list"])
    assert table.exit_code == 0
    assert "Findings (3)" in table.output and "crm.orders_volume" in table.output


def test_review_commands_change_the_status_and_show_tells_who(runner: CliRunner) -> None:
    ack = runner.invoke(app, ["findings", "ack", "1", "--note", "checking the CRM export"])
    assert (ack.exit_code, ack.output.strip()) == (
        0,
        "finding 1 (ERROR crm.orders_volume) acknowledged by hrops",
    )
    dismissed = runner.invoke(
        app, ["findings", "dismiss", "1", "--note", "a holiday week", "--by", "alice"]
    )
    assert (dismissed.exit_code, dismissed.output.strip()) == (
        0,
        "finding 1 (ERROR crm.orders_volume) dismissed by alice; the scores it held are "
        "released on the next scoring run",
    )
    confirmed = runner.invoke(app, ["findings", "confirm", "2"])
    assert (confirmed.exit_code, confirmed.output.strip()) == (
        0,
        "finding 2 (WARN qms.yield_robust_z) confirmed by hrops",
    )
    assert [f["id"] for f in listed(runner, "--status", "open")] == [3]
    assert [f["id"] for f in listed(runner, "--status", "dismissed")] == [1]

    shown = runner.invoke(app, ["findings", "show", "1", "--json"])
    assert shown.exit_code == 0
    view = json.loads(shown.output)
    assert (view["status"], view["note"], view["changed_by"], view["count"]) == (
        "dismissed",
        "a holiday week",
        "alice",
        412,
    )
    assert [(h["by"], h["old_status"], h["new_status"], h["note"]) for h in view["history"]] == [
        ("hrops", "open", "acknowledged", "checking the CRM export"),
        ("alice", "acknowledged", "dismissed", "a holiday week"),
    ]
    text = runner.invoke(app, ["findings", "show", "1"])
    assert text.exit_code == 0
    assert text.output.splitlines()[0] == (
        "finding 1: ERROR anomaly crm.orders_volume [dismissed] 2026-10, crm/orders"
    )
    assert "alice: acknowledged -> dismissed: a holiday week" in text.output


def test_summary_counts_by_kind_severity_and_status(runner: CliRunner) -> None:
    runner.invoke(app, ["findings", "confirm", "1"])
    result = runner.invoke(app, ["findings", "list", "--summary", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "total": 3,
        "by_kind": {"expectation": 0, "anomaly": 2, "quarantine": 1},
        "by_severity": {"WARN": 2, "ERROR": 1},
        "by_status": {
            "open": 2,
            "acknowledged": 0,
            "dismissed": 0,
            "confirmed": 1,
            "resolved": 0,
        },
    }
    table = runner.invoke(app, ["findings", "list", "--summary", "--period", "2026-09"])
    assert table.exit_code == 0
    assert "Findings (1)" in table.output and "quarantine" in table.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "99"], "finding 99 does not exist"),
        (["dismiss", "99", "--note", "x"], "finding 99 does not exist"),
        (["dismiss", "1"], "dismissing finding 1 needs --note saying why"),
        (["dismiss", "1", "--note", " "], "dismissing finding 1 needs --note saying why"),
        (
            ["list", "--status", "closed"],
            "--status must be one of open, acknowledged, dismissed, confirmed, resolved, "
            "not 'closed'",
        ),
        (["list", "--period", "2026-13"], "period '2026-13' is not a month in the form YYYY-MM"),
    ],
)
def test_bad_requests_are_one_line_errors(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["findings", *args])
    assert (result.exit_code, result.output.strip()) == (2, f"error: {message}")
    assert [f["status"] for f in listed(runner)] == ["open", "open", "open"]
