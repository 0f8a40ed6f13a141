"""CRM: users, orders, leads, customers and surveys over REST with OAuth2 client credentials."""

from connectors.crm.client import open_crm
from connectors.crm.mapping import MAPPING, person_links
from connectors.crm.streams import STREAMS
from connectors.registry import Connector, SourceEnv, register

CONNECTOR = register(
    Connector(
        name="crm",
        title="CRM",
        env=SourceEnv(
            endpoint="KPIHUB_CRM_BASE_URL",
            username="KPIHUB_CRM_CLIENT_ID",
            secret="KPIHUB_CRM_CLIENT_SECRET",
        ),
        streams=STREAMS,
        open=open_crm,
        mapping=MAPPING,
        person_links=person_links,
        identity_streams=("users",),
    )
)
