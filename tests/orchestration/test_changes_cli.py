"""``kpihub targets`` and ``kpihub adjustments`` on the four people of the scores CLI's month: a
proposal, another HR's approval, the restated score on the next run, its reason and trace, the
JSON of each command, and refusals as one line with exit code 2."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestration.cli.inspect import open_stores
from orchestration.cli.main import app
from pipelines.amendments import land_changes
from pipelines.publishing import draft_scores, publish
from schemas.settings import DEFAULT_TEMPLATES_DIR
from schemas.templates import load_templates
from tests.orchestration.test_scores_cli import PEOPLE, PERIOD, published  # noqa: F401

runner = CliRunner()


def kpihub(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def rescore() -> None:
    stores = open_stores()
    land_changes(stores, PERIOD, "run-2")
    with Session(stores.hub) as session:
        drafts = draft_scores(session, PERIOD, load_templates(DEFAULT_TEMPLATES_DIR), PEOPLE)
    publish(stores, drafts, PERIOD, "run-2")
    stores.dispose()


def test_a_target_change_proposed_and_approved_from_the_shell(published: None) -> None:  # noqa: F811
    code, output = kpihub(
        "targets", "propose", "E00001", "--period", PERIOD, "--kpi", "contract_amount",
        "--target", "300000", "--reason", "区域调整", "--by", "E00056", "--json",
    )  # fmt: skip
    assert code == 0, output
    change = json.loads(output)
    assert {k: change[k] for k in ("kind", "kpi_code", "old_value", "value", "status")} == {
        "kind": "target",
        "kpi_code": "contract_amount",
        "old_value": "250000",
        "value": "300000",
        "status": "proposed",
    }
    assert kpihub("targets", "approve", str(change["id"]), "--by", "E00056") == (
        2,
        f"error: change {change['id']} is your own proposal: another HR decides it\n",
    )
    assert kpihub("adjustments", "approve", str(change["id"]), "--by", "E00057") == (
        2,
        f"error: change {change['id']} is a target change, not a manual adjustment\n",
    )
    code, output = kpihub("targets", "approve", str(change["id"]), "--by", "E00057")
    assert (code, output) == (
        0,
        f"change {change['id']}: E00001 2026-10 contract_amount target 250000 -> 300000: "
        "approved\n",
    )
    rescore()
    code, output = kpihub("trace", "E00001", "--period", PERIOD, "--json")
    data = json.loads(output)
    # 300000 / 300000 = 1 x 100 x 0.5 = 50; + 28.125 + 11.25 = 89.375 x 0.9 - 5 = 75.4375
    assert (data["score"]["version"], data["score"]["total"]) == (2, "75.44")
    assert data["history"][-1]["reason"].startswith(
        "contract_amount target 250000 (erp) -> 300000 (review): target change "
        f"{change['id']} approved by E00057 (proposed by E00056): 区域调整"
    )
    code, output = kpihub("targets", "list", "--period", PERIOD, "--json")
    assert [(r["id"], r["status"], r["decided_by"]) for r in json.loads(output)] == [
        (change["id"], "approved", "E00057")
    ]


def test_a_deduction_added_from_the_shell(published: None) -> None:  # noqa: F811
    code, output = kpihub(
        "adjustments", "add", "E00002", "--period", PERIOD, "--points", "-3",
        "--reason", "客户投诉", "--by", "E00056",
    )  # fmt: skip
    assert code == 0, output
    assert output.endswith(": E00002 2026-10 -3 points: approved\n")
    rescore()
    code, output = kpihub("trace", "E00002", "--period", PERIOD, "--json")
    data = json.loads(output)
    assert data["score"]["total"] == "101.00"  # 104.00 - 3
    assert [(a["rule"], a["kind"], a["amount"]) for a in data["adjustments"]] == [
        ("manual", "add", "-3")
    ]
    assert kpihub(
        "adjustments", "add", "E00002", "--period", PERIOD, "--points", "3.333",
        "--reason", "x", "--by", "E00056",
    ) == (2, "error: an adjustment of 3.333 has more than 2 decimal(s)\n")  # fmt: skip
    code, output = kpihub("adjustments", "list", "--status", "maybe")
    assert (code, output) == (
        2,
        "error: --status is one of proposed, approved, rejected, not 'maybe'\n",
    )


def test_review_steps_answer_json(published: None) -> None:  # noqa: F811
    code, output = kpihub(
        "review", "approve", "E00002", "--period", PERIOD, "--by", "E00056", "--json"
    )
    assert (code, json.loads(output)) == (
        0,
        {"job_number": "E00002", "period": PERIOD, "state": "reviewed"},
    )
    assert kpihub(
        "appeals", "answer", "E00002", "--period", PERIOD, "--by", "E00056", "--outcome", "amended",
        "--answer", "x", "--change", "7",
    ) == (2, "error: the score of E00002 for 2026-10 is reviewed, not appealed\n")  # fmt: skip
