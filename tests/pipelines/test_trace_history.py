"""The trace of a score reads its place in the cohort, its talent-pool membership and every
version from the store: after a held score is released, both versions of a regraded score are
traceable, each ranked in the cohort it was graded in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from orchestration.cli.inspect import trace_tree
from orchestration.cli.main import app
from pipelines.lineage import TraceNotFound, trace
from pipelines.stores import Stores
from pipelines.talent_pool import pool_rules
from schemas.tables import Finding
from schemas.templates import ScoringTemplate, load_template
from tests.pipelines.test_score_publishing import CONTRACT_ONLY, run, seller, store_facts

TOTALS = ["90", "80", "70", "65", "60", "55", "50", "45", "40", "35"]
FIRST = {f"E{n:05d}": t for n, t in enumerate(TOTALS, start=1)}
COHORT = "the contract cohort of 2026-10 was graded again (11 final scores"


def released(stores: Stores, tmp_path: Path) -> list[ScoringTemplate]:
    """Ten final sellers and E00011 held (run-1); E00011's fact of 20 arrives (run-2)."""
    (tmp_path / "contract.yaml").write_text(CONTRACT_ONLY, encoding="utf-8")
    templates = [load_template(tmp_path / "contract.yaml")]
    people = [seller(n) for n in range(1, 12)]
    store_facts(stores, "crm", "contract_amount", FIRST)
    run(stores, templates, people, "run-1")
    store_facts(stores, "crm", "contract_amount", {**FIRST, "E00011": "20"})
    run(stores, templates, people, "run-2")
    return templates


def history_rows(data: dict) -> list[tuple]:
    return [
        (h["version"], h["total"], h["grade"], h["status"], h["reason"]) for h in data["history"]
    ]


def test_both_versions_of_a_regraded_score_are_traced_with_their_rank(
    stores: Stores, tmp_path: Path
) -> None:
    """E00002 (80) is second of ten in run-1 (B: only ceil(10% of 10) = 1 is A) and second of
    eleven after the release (A: ceil(10% of 11) = 2)."""
    rules = pool_rules(released(stores, tmp_path))
    now = trace(stores, "E00002", "2026-10", pool_rules=rules)
    before = trace(stores, "E00002", "2026-10", version=1, pool_rules=rules)
    keys = ("version", "total", "grade", "rank", "cohort_size", "talent_pool")
    assert [tuple(d["score"][k] for k in keys) for d in (now, before)] == [
        (2, "80.00", "A 优秀", 2, 11, True),
        (1, "80.00", "B 合格", 2, 10, False),
    ]
    expected = [
        (1, "80.00", "B 合格", "final", None),
        (2, "80.00", "A 优秀", "final", f"grade B 合格 -> A 优秀: {COHORT}, rank 2)"),
    ]
    assert history_rows(now) == history_rows(before) == expected
    published = [datetime.fromisoformat(h["published_at"]) for h in now["history"]]
    assert published == sorted(published) and all(p.tzinfo == UTC for p in published)


def test_a_held_version_has_no_rank_and_its_release_is_last_of_eleven(
    stores: Stores, tmp_path: Path
) -> None:
    rules = pool_rules(released(stores, tmp_path))
    held = trace(stores, "E00011", "2026-10", version=1, pool_rules=rules)["score"]
    final = trace(stores, "E00011", "2026-10", pool_rules=rules)["score"]
    assert (held["status"], held["rank"], held["cohort_size"], held["talent_pool"]) == (
        "held",
        None,
        10,
        False,
    )
    assert (final["grade"], final["rank"], final["cohort_size"], final["talent_pool"]) == (
        "C 待改进",
        11,
        11,
        False,
    )


def test_an_open_error_finding_on_a_source_or_the_person_keeps_them_out_of_the_pool(
    stores: Stores, tmp_path: Path
) -> None:
    """E00001 (90, A) reads only crm facts: an ERROR on crm/orders or on E00001 keeps them
    out; a WARN, a resolved ERROR, another month's ERROR or another source's do not."""
    rules = pool_rules(released(stores, tmp_path))

    def in_pool() -> bool:
        return trace(stores, "E00001", "2026-10", pool_rules=rules)["score"]["talent_pool"]

    assert in_pool()
    at = datetime(2026, 11, 2, tzinfo=UTC)
    harmless = [
        ("crm.stale", "WARN", "crm", "2026-10", "open"),
        ("crm.late", "ERROR", "crm", "2026-10", "resolved"),
        ("crm.gap", "ERROR", "crm", "2026-09", "open"),
        ("erp.gap", "ERROR", "erp", "2026-10", "open"),
        ("people.dup", "ERROR", "E00002", "2026-10", "open"),
    ]
    with Session(stores.hub) as hub, hub.begin():
        for check, severity, subject, period, status in harmless:
            hub.add(finding(check, severity, subject, period, status, at))
    assert in_pool()
    for check, subject in (("crm.orders_gap", "crm/orders"), ("people.badge", "E00001")):
        with Session(stores.hub) as hub, hub.begin():
            row = finding(check, "ERROR", subject, "2026-10", "open", at)
            hub.add(row)
            hub.flush()
            row_id = row.id
        assert not in_pool()
        with Session(stores.hub) as hub, hub.begin():
            hub.get_one(Finding, row_id).status = "resolved"
        assert in_pool()


def finding(
    check: str, severity: str, subject: str, period: str, status: str, at: datetime
) -> Finding:
    return Finding(
        check_name=check,
        severity=severity,
        subject=subject,
        period=period,
        status=status,
        count=1,
        detail={},
        created_at=at,
        updated_at=at,
    )


def test_an_unknown_version_is_named_with_the_versions_there_are(
    stores: Stores, tmp_path: Path
) -> None:
    released(stores, tmp_path)
    with pytest.raises(TraceNotFound) as raised:
        trace(stores, "E00002", "2026-10", version=3)
    assert str(raised.value) == (
        "job number E00002 has no score version 3 for 2026-10 (versions 1 to 2)"
    )


def test_the_tree_shows_rank_pool_and_history(stores: Stores, tmp_path: Path) -> None:
    rules = pool_rules(released(stores, tmp_path))
    data = trace(stores, "E00002", "2026-10", version=1, pool_rules=rules)
    from rich.console import Console

    console = Console(width=400, record=True)
    console.print(trace_tree(data))
    lines = [line.strip(" │├└─") for line in console.export_text().splitlines()]
    stamps = [h["published_at"] for h in data["history"]]
    assert "rank 2 of 10 final contract scores of 2026-10" in lines
    assert "not in the core talent pool" in lines
    assert lines[-3:] == [
        "history (2 version(s), oldest first)",
        f"version 1 published {stamps[0]}: 80.00 B 合格 [final] <- shown",
        f"version 2 published {stamps[1]}: 80.00 A 优秀 [final]: grade B 合格 -> A 优秀: "
        f"{COHORT}, rank 2)",
    ]


def test_the_cli_refuses_an_unknown_version_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    from orchestration.cli.inspect import open_stores

    stores = open_stores()
    store_facts(stores, "crm", "contract_amount", {"E00001": "90"})
    (tmp_path / "contract.yaml").write_text(CONTRACT_ONLY, encoding="utf-8")
    run(stores, [load_template(tmp_path / "contract.yaml")], [seller(1)], "run-1")
    stores.dispose()
    result = runner.invoke(app, ["trace", "E00001", "--period", "2026-10", "--version", "2"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: job number E00001 has no score version 2 for 2026-10 (versions 1 to 1)"
    )
    shown = runner.invoke(app, ["trace", "E00001", "--period", "2026-10", "--version", "1"])
    assert shown.exit_code == 0
    assert "version 1 published" in shown.output
