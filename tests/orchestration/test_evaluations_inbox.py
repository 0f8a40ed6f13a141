"""The ``evaluations_inbox`` sensor: a good and a bad evaluation file dropped into
``$KPIHUB_HOME/inbox/``; the good one lands and moves to ``processed/``, the bad one lands nothing
and moves to ``rejected/`` with its row-level errors beside it; a later tick finds nothing."""

from __future__ import annotations

import csv

import dagster as dg
import pytest

from orchestration.resources import StoresResource
from orchestration.sensors import evaluations_inbox
from schemas.settings import get_settings
from tests.orchestration.test_evaluations_cli import (
    ROWS,
    _directory,  # noqa: F401
    _no_folder,  # noqa: F401
    gbk_csv,
    landed,
)

pytestmark = pytest.mark.usefixtures("_directory")


def _tick() -> str:
    settings = get_settings()
    resources = {
        "stores": StoresResource(database_url=settings.hub_url, hr_store_url=settings.hr_url)
    }
    return evaluations_inbox(dg.build_sensor_context(resources=resources)).skip_message or ""


def test_a_good_file_is_imported_and_a_bad_one_rejected_with_its_report() -> None:
    inbox = get_settings().home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    gbk_csv(inbox / "a-good.csv", ROWS)
    bad = [ROWS[0], ["E09999", "无名", "2026/10/1", "上级评价", "90", "", "李强"]]
    gbk_csv(inbox / "b-bad.csv", bad)
    (inbox / "notes.txt").write_text("not an evaluation file", encoding="utf-8")

    said = _tick()
    assert said == (
        "a-good.csv: imported, 3 row(s), 3 new version(s); "
        "b-bad.csv: rejected, 1 problem(s) in b-bad.csv; nothing imported from it; "
        "see rejected/b-bad.csv.errors.csv"
    )
    assert sorted(p.name for p in inbox.iterdir()) == ["notes.txt", "processed", "rejected"]
    assert [p.name for p in (inbox / "processed").iterdir()] == ["a-good.csv"]
    assert sorted(p.name for p in (inbox / "rejected").iterdir()) == [
        "b-bad.csv",
        "b-bad.csv.errors.csv",
    ]
    with (inbox / "rejected" / "b-bad.csv.errors.csv").open(encoding="utf-8-sig") as report:
        assert list(csv.reader(report)) == [
            ["file", "row", "column", "problem"],
            ["b-bad.csv", "3", "工号", "job number E09999 is not in the directory"],
        ]
    assert [key for key, _ in landed()] == [
        "E00001/2026-10/manager_evaluation",
        "E00002/2026-10/manager_evaluation",
        "E00003/2026-10/innovation_contribution",
    ]
    assert _tick() == f"no file in {inbox}"


def test_the_same_file_dropped_again_lands_nothing_new() -> None:
    inbox = get_settings().home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    gbk_csv(inbox / "oct.csv", ROWS)
    _tick()
    gbk_csv(inbox / "oct.csv", ROWS)
    assert _tick() == "oct.csv: imported, 3 row(s), 0 new version(s)"
    kept = sorted(p.name for p in (inbox / "processed").iterdir())
    assert len(kept) == 2 and kept[1] == "oct.csv" and kept[0].startswith("oct-2026")
    assert len(landed()) == 3
