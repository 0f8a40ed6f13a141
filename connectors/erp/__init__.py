"""ERP: Kingdee/U8-style tables read through ODBC, incremental on ``FMODIFYDATE``."""

from connectors.erp.client import open_erp
from connectors.erp.mapping import MAPPING
from connectors.erp.people import directory, person_links
from connectors.erp.streams import STREAMS
from connectors.registry import Connector, SourceEnv, register

CONNECTOR = register(
    Connector(
        name="erp",
        title="ERP",
        kind="odbc",
        env=SourceEnv(endpoint="KPIHUB_ERP_ODBC"),
        streams=STREAMS,
        open=open_erp,
        mapping=MAPPING,
        person_links=person_links,
        directory=directory,
        identity_streams=("hr_emp", "hr_emp_badge"),
    )
)
