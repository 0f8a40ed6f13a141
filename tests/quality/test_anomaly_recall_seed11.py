"""The recall test of test_anomaly_recall on a second company, seed 11."""

from __future__ import annotations

from pathlib import Path

from tests.quality.test_anomaly_recall import assert_found


def test_every_planted_anomaly_of_another_company_is_found(_isolated_home: Path) -> None:
    assert_found(11)
