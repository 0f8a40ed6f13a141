"""Serve the simulated systems over real HTTP on loopback, each on its own ephemeral port."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from sandbox.apps.crm import create_crm_app
from sandbox.apps.dingtalk import create_dingtalk_app
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
    return {
        "crm_client_id": f"crm-client-{seed}",
        "crm_client_secret": digest[:32],
        "dingtalk_app_key": f"ding{digest[32:44]}",
        "dingtalk_app_secret": digest[44:],
    }


class SandboxServer:
    """Every simulated system of one world, started together; ``endpoints`` are the hub's
    environment variables for them."""

    def __init__(
        self, world: World, host: str = "127.0.0.1", token_ttl: float | None = None
    ) -> None:
        self.world = world
        creds = credentials(world.seed)
        ttl = {"token_ttl": token_ttl} if token_ttl else {}
        self.crm = AppThread(
            create_crm_app(world, creds["crm_client_id"], creds["crm_client_secret"], **ttl),
            host,
        )
        self.dingtalk = AppThread(
            create_dingtalk_app(
                world, creds["dingtalk_app_key"], creds["dingtalk_app_secret"], **ttl
            ),
            host,
        )
        self.endpoints = {
            "KPIHUB_CRM_BASE_URL": self.crm.url,
            "KPIHUB_CRM_CLIENT_ID": creds["crm_client_id"],
            "KPIHUB_CRM_CLIENT_SECRET": creds["crm_client_secret"],
            "KPIHUB_DINGTALK_BASE_URL": self.dingtalk.url,
            "KPIHUB_DINGTALK_APP_KEY": creds["dingtalk_app_key"],
            "KPIHUB_DINGTALK_APP_SECRET": creds["dingtalk_app_secret"],
        }

    def start(self) -> SandboxServer:
        self.crm.start()
        self.dingtalk.start()
        return self

    def stop(self) -> None:
        self.crm.stop()
        self.dingtalk.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
