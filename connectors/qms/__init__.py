"""QMS: production-quality inspections over REST with an API key, paged over a live table."""

from connectors.qms.client import open_qms
from connectors.qms.mapping import MAPPING
from connectors.qms.streams import STREAMS
from connectors.registry import Connector, SourceEnv, register

CONNECTOR = register(
    Connector(
        name="qms",
        title="QMS",
        env=SourceEnv(endpoint="KPIHUB_QMS_BASE_URL", secret="KPIHUB_QMS_API_KEY"),
        streams=STREAMS,
        open=open_qms,
        mapping=MAPPING,
    )
)
