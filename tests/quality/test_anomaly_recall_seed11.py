"""The recall test of test_anomaly_recall on a second company, seed 11: another two minutes of a
full-size run, so `make heavy` runs it rather than `make test`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.quality.test_anomaly_recall import assert_found


@pytest.mark.heavy
def test_every_planted_anomaly_of_another_company_is_found(_isolated_home: Path) -> None:
    assert_found(11)
