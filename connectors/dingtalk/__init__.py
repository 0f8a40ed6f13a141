"""DingTalk: the office directory (departments, users), the employee master with ERP's HR_EMP;
attendance results, leave status and approvals with their detail."""

from connectors.dingtalk.client import open_dingtalk
from connectors.dingtalk.directory import directory
from connectors.dingtalk.mapping import MAPPING
from connectors.dingtalk.streams import STREAMS
from connectors.registry import Connector, SourceEnv, register

CONNECTOR = register(
    Connector(
        name="dingtalk",
        title="DingTalk",
        env=SourceEnv(
            endpoint="KPIHUB_DINGTALK_BASE_URL",
            username="KPIHUB_DINGTALK_APP_KEY",
            secret="KPIHUB_DINGTALK_APP_SECRET",
        ),
        streams=STREAMS,
        open=open_dingtalk,
        mapping=MAPPING,
        directory=directory,
        identity_streams=("departments", "users"),
    )
)
