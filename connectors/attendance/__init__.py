"""Attendance terminals: shifts per month and raw punches per day over REST with HTTP Basic."""

from connectors.attendance.client import open_attendance
from connectors.attendance.mapping import MAPPING
from connectors.attendance.streams import STREAMS
from connectors.registry import Connector, SourceEnv, register

CONNECTOR = register(
    Connector(
        name="attendance",
        title="Attendance terminals",
        env=SourceEnv(
            endpoint="KPIHUB_ATTENDANCE_BASE_URL",
            username="KPIHUB_ATTENDANCE_USERNAME",
            secret="KPIHUB_ATTENDANCE_PASSWORD",
        ),
        streams=STREAMS,
        open=open_attendance,
        mapping=MAPPING,
    )
)
