"""``kpihub demo`` end to end, twice, on a fresh home: the second run publishes nothing new."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from typer.testing import CliRunner

from orchestration.cli.main import app
from orchestration.jobs import PERIODS_TAG, SOURCES_TAG
from orchestration.partitions import closed_periods
from schemas.periods import next_period

runner = CliRunner()


def test_demo_runs_twice_and_its_runs_are_in_the_persistent_instance(
    _isolated_home: Path,
) -> None:
    first = runner.invoke(app, ["demo", "--employees", "20", "--periods", "2"])
    assert first.exit_code == 0, first.output
    assert "crm: " in first.output and "new versions landed" in first.output
    # Each source says so as its last stream lands, before the table of every stream.
    progress = re.findall(
        r"^  (\w+): \d+ records pulled, \d+ new versions landed \(\d+ streams?", first.output, re.M
    )
    assert sorted(progress) == ["attendance", "crm", "dingtalk", "erp", "evaluations", "qms"]
    assert first.output.index("  crm: ") < first.output.index("Pulled from the sources")
    # A summary and one traced score, not every score: the CLI lists them.
    assert "by template and grade" in first.output
    assert f"Published scores of {_last_period()}: 20; list them with kpihub scores" in first.output
    assert "Trace of one score" in first.output
    assert len(set(re.findall(r"\bE\d{5}\b", first.output))) < 20
    # Every one of the 20 employees is scored by their role's template, in each of 2 months.
    assert "Published 40 new score version(s)." in first.output

    second = runner.invoke(app, ["demo", "--employees", "20", "--periods", "2"])
    assert second.exit_code == 0, second.output
    assert "crm: " in second.output and "0 new versions landed" in second.output
    assert "Nothing new to publish: same inputs, same scores" in second.output

    # `kpihub score` restates a month through the same kind of run.
    restated = runner.invoke(app, ["score", "--period", _last_period()])
    assert restated.exit_code == 0, restated.output

    instance = dg.DagsterInstance.from_config(str(_isolated_home / "dagster"))
    runs = instance.get_runs()
    assert sorted(r.job_name for r in runs) == ["score_period"] * 5 + ["sync_sources"] * 2
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # Executed in the command's process, each run is still one of the code location that
    # workspace.yaml declares, so its job's page in the UI lists it (the page asks for the
    # job's runs with the location's repository label) and the overview timeline places it.
    location = "__repository__@orchestration.definitions"
    for job in ("sync_sources", "score_period"):
        listed = instance.get_runs(
            filters=dg.RunsFilter(job_name=job, tags={REPOSITORY_LABEL_TAG: location})
        )
        assert len(listed) == sum(r.job_name == job for r in runs), job
    assert all(r.remote_job_origin is not None for r in runs)
    sources = "attendance,crm,dingtalk,erp,evaluations,qms"
    assert all(r.tags[SOURCES_TAG] == sources for r in runs)
    months = closed_periods(2)
    syncs = {r.tags[PERIODS_TAG] for r in runs if r.job_name == "sync_sources"}
    assert syncs == {f"{months[0]}..{next_period(months[1])}"}
    scored = sorted(r.tags[PERIODS_TAG] for r in runs if r.job_name == "score_period")
    assert scored == sorted(months * 2 + [months[1]])
    event = instance.get_latest_materialization_event(dg.AssetKey(["crm", "orders"]))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["new_versions"].value == 0
    assert metadata["records_pulled"].value > 0
    # Each source's facts say what they produced, for whom, and what was quarantined and why.
    for source in ("attendance", "crm", "dingtalk", "erp", "evaluations", "qms"):
        event = instance.get_latest_materialization_event(dg.AssetKey(["facts", source]))
        assert event is not None and event.asset_materialization is not None, source
        facts = event.asset_materialization.metadata
        assert event.asset_materialization.partition == _last_period()
        assert facts["facts"].value > 0 and facts["people_covered"].value > 0, source
        assert facts["new_fact_versions"].value == 0, source  # the second run changed nothing
        assert facts["unchanged_facts"].value == facts["facts"].value, source
        quarantined = facts["quarantined_by_reason"].value
        assert facts["quarantined"].value == sum(quarantined.values()), source
    crm_facts = instance.get_latest_materialization_event(dg.AssetKey(["facts", "crm"]))
    assert crm_facts is not None and crm_facts.asset_materialization is not None
    # The CRM's integration account owns a legacy order nobody can be identified by.
    assert crm_facts.asset_materialization.metadata["quarantined_by_reason"].value == {
        "unknown_person": 1
    }

    scored = instance.get_latest_materialization_event(dg.AssetKey(["scores"]))
    assert scored is not None and scored.asset_materialization is not None
    meta = scored.asset_materialization.metadata
    by_grade = meta["by_template_and_grade"].value
    assert [c.name for c in by_grade.schema.columns] == ["template", "grade", "people"]
    assert sum(r.data["people"] for r in by_grade.records) == 20
    held = {r.data["job_number"] for r in meta["held_scores"].value.records}
    assert len(held) == meta["held"].value
    spread = {r.data["template"]: r.data for r in meta["distribution"].value.records}
    assert sum(r["final"] + r["held"] for r in spread.values()) == 20

    listed = runner.invoke(app, ["scores", "--period", _last_period(), "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert len(rows) == 20
    assert set(rows[0]) == {
        "job_number", "name", "template", "total", "grade", "status", "version"
    }  # fmt: skip
    assert all(r["version"] == 1 for r in rows)
    assert {r["status"] for r in rows} <= {"final", "held"}
    left_out = runner.invoke(app, ["scores", "--period", _last_period(), "--unassigned", "--json"])
    assert left_out.exit_code == 0, left_out.output
    assert json.loads(left_out.output) == []  # every demo employee has a template


def _last_period() -> str:
    return closed_periods(1)[0]


def test_no_secret_reaches_the_stores_the_run_log_or_the_output(_isolated_home: Path) -> None:
    from sandbox.serving import credentials

    result = runner.invoke(app, ["demo", "--employees", "10", "--periods", "1", "--seed", "5"])
    assert result.exit_code == 0, result.output
    secrets = [credentials(5)["crm_client_secret"], credentials(5)["dingtalk_app_secret"]]
    assert not any(s in result.output for s in secrets)
    files = [p for p in _isolated_home.rglob("*") if p.is_file()]
    assert any(p.name == "hub.db" for p in files)
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, f"a secret leaked into {path}"
