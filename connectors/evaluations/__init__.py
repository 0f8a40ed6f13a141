"""Manual evaluations: CSV/XLSX files from the evaluation template, dropped into a folder."""

from pathlib import Path

from connectors.evaluations.client import EvaluationsSource
from connectors.evaluations.mapping import MAPPING
from connectors.evaluations.streams import STREAMS
from connectors.registry import Connector, SourceEnv, register


def open_evaluations(endpoint: str, _username: str, _secret: str) -> EvaluationsSource:
    """The endpoint is the folder; a file drop has no credentials."""
    return EvaluationsSource(Path(endpoint).expanduser())


CONNECTOR = register(
    Connector(
        name="evaluations",
        title="Manual evaluations",
        kind="files",
        freshness_hours=35 * 24,  # managers hand in a month's evaluations once a month
        env=SourceEnv(endpoint="KPIHUB_EVALUATIONS_DIR"),
        streams=STREAMS,
        open=open_evaluations,
        mapping=MAPPING,
    )
)
