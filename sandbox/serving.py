"""Serve the simulated systems over real HTTP on loopback, each on its own ephemeral port."""

from __future__ import annotations

import hashlib
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from sandbox.apps.crm import create_crm_app
from sandbox.apps.dingtalk import create_dingtalk_app
from sandbox.apps.plant import create_attendance_app, create_qms_app
from sandbox.erp_data import write_erp_sqlite
from sandbox.model import World


class AppThread:
    """One ASGI app served by uvicorn in a thread, on a socket bound before the thread starts."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"sandbox server on {self.url} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def credentials(seed: int) -> dict[str, str]:
    """Deterministic sandbox credentials; they are not secrets, but are handled like ones."""
    digest = hashlib.sha256(f"kpihub-sandbox-credentials/{seed}".encode()).hexdigest()
    more = hashlib.sha256(f"kpihub-sandbox-credentials-2/{seed}".encode()).hexdigest()
    return {
        "crm_client_id": f"crm-client-{seed}",
        "crm_client_secret": digest[:32],
        "dingtalk_app_key": f"ding{digest[32:44]}",
        "dingtalk_app_secret": digest[44:],
        "qms_api_key": f"qms-{more[:28]}",
        "attendance_username": f"att-reader-{seed}",
        "attendance_password": more[28:52],
    }


SYSTEMS = ("crm", "dingtalk", "qms", "attendance", "erp")


class SandboxServer:
    """The simulated systems of one world, started together; ``endpoints`` are the hub's
    environment variables for them. The ERP is a SQLite file read through the ODBC driver."""

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        token_ttl: float | None = None,
        erp_dir: Path | None = None,
        systems: tuple[str, ...] = SYSTEMS,
    ) -> None:
        self.world = world
        self.systems = systems
        creds = credentials(world.seed)
        ttl = {"token_ttl": token_ttl} if token_ttl else {}
        self.apps: dict[str, AppThread] = {}
        self.endpoints: dict[str, str] = {}
        if "crm" in systems:
            self.crm = self.apps["crm"] = AppThread(
                create_crm_app(world, creds["crm_client_id"], creds["crm_client_secret"], **ttl),
                host,
            )
            self.endpoints.update(
                KPIHUB_CRM_BASE_URL=self.crm.url,
                KPIHUB_CRM_CLIENT_ID=creds["crm_client_id"],
                KPIHUB_CRM_CLIENT_SECRET=creds["crm_client_secret"],
            )
        if "dingtalk" in systems:
            self.dingtalk = self.apps["dingtalk"] = AppThread(
                create_dingtalk_app(
                    world, creds["dingtalk_app_key"], creds["dingtalk_app_secret"], **ttl
                ),
                host,
            )
            self.endpoints.update(
                KPIHUB_DINGTALK_BASE_URL=self.dingtalk.url,
                KPIHUB_DINGTALK_APP_KEY=creds["dingtalk_app_key"],
                KPIHUB_DINGTALK_APP_SECRET=creds["dingtalk_app_secret"],
            )
        if "qms" in systems:
            self.qms = self.apps["qms"] = AppThread(
                create_qms_app(world, creds["qms_api_key"]), host
            )
            self.endpoints.update(
                KPIHUB_QMS_BASE_URL=self.qms.url, KPIHUB_QMS_API_KEY=creds["qms_api_key"]
            )
        if "attendance" in systems:
            self.attendance = self.apps["attendance"] = AppThread(
                create_attendance_app(
                    world, creds["attendance_username"], creds["attendance_password"]
                ),
                host,
            )
            self.endpoints.update(
                KPIHUB_ATTENDANCE_BASE_URL=self.attendance.url,
                KPIHUB_ATTENDANCE_USERNAME=creds["attendance_username"],
                KPIHUB_ATTENDANCE_PASSWORD=creds["attendance_password"],
            )
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        self.erp_path: Path | None = None
        if "erp" in systems:
            if erp_dir is None:
                self._own_dir = tempfile.TemporaryDirectory(prefix="kpihub-erp-")
                erp_dir = Path(self._own_dir.name)
            erp_dir.mkdir(parents=True, exist_ok=True)
            self.erp_path = erp_dir / f"erp-{world.seed}-{world.size}.db"
            self.endpoints["KPIHUB_ERP_ODBC"] = f"DRIVER=SQLite3;Database={self.erp_path}"

    def start(self) -> SandboxServer:
        if self.erp_path is not None:
            self.erp_path.unlink(missing_ok=True)
            write_erp_sqlite(self.world.erp, str(self.erp_path), self.world.end)
        for app in self.apps.values():
            app.start()
        return self

    def stop(self) -> None:
        for app in self.apps.values():
            app.stop()
        if self._own_dir is not None:
            self._own_dir.cleanup()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
