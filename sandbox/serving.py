"""Serve the simulated systems over real HTTP on loopback, each on its own ephemeral port, with
the alert receivers the hub's sinks deliver to, and faults injected as the plan says."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import uvicorn
from sqlalchemy import create_engine
from starlette.applications import Starlette
from starlette.types import ASGIApp

from sandbox.apps.crm import create_crm_app
from sandbox.apps.dingtalk import create_dingtalk_app
from sandbox.apps.dingtalk_login import HR_ROLE
from sandbox.apps.plant import create_attendance_app, create_qms_app
from sandbox.clock import period_bounds
from sandbox.erp_data import apply_erp_changes, write_erp_sqlite
from sandbox.evaluations_data import write_evaluation_files
from sandbox.faults import FaultInjector, FaultPlan, inject
from sandbox.model import World
from sandbox.receivers import MailReceiver, create_robot_app, create_webhook_app, new_robot_secret


class AppThread:
    """One ASGI app served by uvicorn in a thread, on a socket bound before the thread starts."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1") -> None:
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


FOLDER_PREFIX = "kpihub-sandbox-"


def remove_orphaned_folders() -> list[Path]:
    """Remove the temporary folders of sandboxes whose process is gone. A folder is named after
    the pid that made it; a process killed outright cannot remove its own, so the next sandbox
    on the machine does."""
    removed: list[Path] = []
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name[len(FOLDER_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def credentials(seed: int) -> dict[str, str]:
    """Deterministic sandbox credentials; they are not secrets, but are handled like ones."""
    digest = hashlib.sha256(f"kpihub-sandbox-credentials/{seed}".encode()).hexdigest()
    more = hashlib.sha256(f"kpihub-sandbox-credentials-2/{seed}".encode()).hexdigest()
    return {
        "crm_client_id": f"crm-client-{seed}",
        "crm_client_secret": digest[:32],
        "dingtalk_app_key": f"ding{digest[32:44]}",
        "dingtalk_app_secret": digest[44:],
        "dingtalk_agent_id": str(2_000_000_000 + int(more[:6], 16)),
        "qms_api_key": f"qms-{more[:28]}",
        "attendance_username": f"att-reader-{seed}",
        "attendance_password": more[28:52],
        "robot_access_token": more[52:],
        "robot_secret": new_robot_secret(seed),
        "webhook_token": f"hook-{digest[:24]}",
    }


# How often the ERP file takes in the rows the day has brought since it was last written.
ERP_TICK_SECONDS = 30.0
SYSTEMS = ("crm", "dingtalk", "qms", "attendance", "erp", "evaluations", "alerts")


class SandboxServer:
    """The simulated systems of one world, started together; ``endpoints`` are the hub's
    environment variables for them. The ERP is a SQLite file read through the ODBC driver.

    ``faults`` is a plan such as ``"hostile,crm=none"`` (see sandbox.faults); ``injectors`` holds
    the fault injector of each system that has one, with the faults it injected. ``"alerts"``
    serves the DingTalk robot, the webhook and the SMTP receivers; ``robot``, ``webhook`` and
    ``mail`` keep what they accepted, ``alerts_clock`` (epoch seconds) is the robot's clock."""

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        token_ttl: float | None = None,
        erp_dir: Path | None = None,
        systems: tuple[str, ...] = SYSTEMS,
        faults: FaultPlan | str = "none",
        alerts_clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.systems = systems
        self.plan = FaultPlan.parse(faults) if isinstance(faults, str) else faults
        self.injectors: dict[str, FaultInjector] = {}
        creds = credentials(world.seed)
        ttl = {"token_ttl": token_ttl} if token_ttl else {}
        self.apps: dict[str, AppThread] = {}
        self.endpoints: dict[str, str] = {}
        self.mail: MailReceiver | None = None
        if "crm" in systems:
            self.crm = self.apps["crm"] = AppThread(
                self._faulty(
                    "crm",
                    create_crm_app(
                        world, creds["crm_client_id"], creds["crm_client_secret"], **ttl
                    ),
                ),
                host,
            )
            self.endpoints.update(
                KPIHUB_CRM_BASE_URL=self.crm.url,
                KPIHUB_CRM_CLIENT_ID=creds["crm_client_id"],
                KPIHUB_CRM_CLIENT_SECRET=creds["crm_client_secret"],
            )
        if "dingtalk" in systems:
            self.dingtalk = self.apps["dingtalk"] = AppThread(
                self._faulty(
                    "dingtalk",
                    create_dingtalk_app(
                        world,
                        creds["dingtalk_app_key"],
                        creds["dingtalk_app_secret"],
                        agent_id=creds["dingtalk_agent_id"],
                        **ttl,
                    ),
                ),
                host,
            )
            self.endpoints.update(
                KPIHUB_DINGTALK_BASE_URL=self.dingtalk.url,
                KPIHUB_DINGTALK_APP_KEY=creds["dingtalk_app_key"],
                KPIHUB_DINGTALK_APP_SECRET=creds["dingtalk_app_secret"],
                KPIHUB_DINGTALK_AGENT_ID=creds["dingtalk_agent_id"],
                # The login page and the new API live on hosts of their own in DingTalk; the
                # sandbox serves them under the same base URL.
                KPIHUB_DINGTALK_LOGIN_URL=self.dingtalk.url,
                KPIHUB_DINGTALK_API_URL=self.dingtalk.url,
                KPIHUB_PORTAL_HR_ROLES=HR_ROLE,
            )
        if "qms" in systems:
            self.qms = self.apps["qms"] = AppThread(
                self._faulty("qms", create_qms_app(world, creds["qms_api_key"])), host
            )
            self.endpoints.update(
                KPIHUB_QMS_BASE_URL=self.qms.url, KPIHUB_QMS_API_KEY=creds["qms_api_key"]
            )
        if "attendance" in systems:
            self.attendance = self.apps["attendance"] = AppThread(
                self._faulty(
                    "attendance",
                    create_attendance_app(
                        world, creds["attendance_username"], creds["attendance_password"]
                    ),
                ),
                host,
            )
            self.endpoints.update(
                KPIHUB_ATTENDANCE_BASE_URL=self.attendance.url,
                KPIHUB_ATTENDANCE_USERNAME=creds["attendance_username"],
                KPIHUB_ATTENDANCE_PASSWORD=creds["attendance_password"],
            )
        self._stopped = threading.Event()
        self._erp_lock = threading.Lock()
        self._erp_written_at = world.now()
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        self.erp_path: Path | None = None
        self.evaluations_dir: Path | None = None
        remove_orphaned_folders()
        if ("erp" in systems or "evaluations" in systems) and erp_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
            erp_dir = Path(self._own_dir.name)
        if "erp" in systems:
            assert erp_dir is not None
            erp_dir.mkdir(parents=True, exist_ok=True)
            self.erp_path = erp_dir / f"erp-{world.seed}-{world.size}.db"
            self.endpoints["KPIHUB_ERP_ODBC"] = f"DRIVER=SQLite3;Database={self.erp_path}"
        if "evaluations" in systems:
            assert erp_dir is not None
            # HR's drop folder, holding the evaluation files of every closed month.
            self.evaluations_dir = erp_dir / "evaluations"
            self.endpoints["KPIHUB_EVALUATIONS_DIR"] = str(self.evaluations_dir)
        if "alerts" in systems:
            self._serve_receivers(creds, host, alerts_clock)

    def _faulty(self, system: str, app: Starlette) -> ASGIApp:
        wrapped, injector = inject(
            app, system, self.plan, self.world.seed, getattr(app.state, "tokens", None)
        )
        if injector is not None:
            self.injectors[system] = injector
        return wrapped

    def _serve_receivers(
        self, creds: dict[str, str], host: str, clock: Callable[[], float]
    ) -> None:
        """The robot on a port of its own (its URL carries the access token, as the one a
        DingTalk group shows does), the webhook with a bearer token, SMTP without auth.
        ``clock`` drives the robot's signature window and throttle, so tests move time."""
        self.robot = self.apps["robot"] = AppThread(
            create_robot_app(creds["robot_access_token"], creds["robot_secret"], clock=clock),
            host,
        )
        self.webhook = self.apps["webhook"] = AppThread(
            create_webhook_app(creds["webhook_token"]), host
        )
        self.mail = MailReceiver(host)
        self.endpoints.update(
            KPIHUB_ALERT_ROBOT_URL=(
                f"{self.robot.url}/robot/send?access_token={creds['robot_access_token']}"
            ),
            KPIHUB_ALERT_ROBOT_SECRET=creds["robot_secret"],
            KPIHUB_ALERT_WEBHOOK_URL=f"{self.webhook.url}/hooks/alerts",
            KPIHUB_ALERT_WEBHOOK_TOKEN=creds["webhook_token"],
            KPIHUB_ALERT_SMTP_HOST=str(self.mail.host),
            KPIHUB_ALERT_SMTP_PORT=str(self.mail.port),
        )

    def start(self) -> SandboxServer:
        if self.erp_path is not None:
            self.erp_path.unlink(missing_ok=True)
            self._erp_written_at = self.world.now()
            write_erp_sqlite(self.world.erp, str(self.erp_path), self._erp_written_at)
            if self._erp_written_at < self.world.end:
                threading.Thread(target=self._erp_ticker, name="sandbox-erp", daemon=True).start()
        if self.evaluations_dir is not None:
            shutil.rmtree(self.evaluations_dir, ignore_errors=True)
            self.evaluations_dir.mkdir(parents=True)
            write_evaluation_files(self.world, self.evaluations_dir, self.world.closed_periods)
        for app in self.apps.values():
            app.start()
        if self.mail is not None:
            self.mail.start()
        if "qms" in self.systems:
            threading.Thread(target=self._warm, name="sandbox-warm-up", daemon=True).start()
        return self

    def _warm(self) -> None:
        """Generate the QMS months, newest first, while the servers already answer: a
        10,000-person month takes seconds to generate, which a client's first page request
        would otherwise wait for (and time out on)."""
        for period in reversed(self.world.periods):
            self.world.plant.inspections_on(period_bounds(period)[0])

    def tick(self) -> int:
        """Bring the ERP file up to the sandbox's now: the rows changed since it was last
        written appear, as the day goes on. Returns how many rows were written."""
        if self.erp_path is None:
            return 0
        with self._erp_lock:
            now = self.world.now()
            if now <= self._erp_written_at:
                return 0
            engine = create_engine(f"sqlite:///{self.erp_path}")
            try:
                written = apply_erp_changes(self.world.erp, engine, self._erp_written_at, now)
            finally:
                engine.dispose()
            self._erp_written_at = now
            return written

    def change_records(self, fraction: float) -> dict[str, int]:
        """Change ``fraction`` of the records the systems let their users change, now (see
        sandbox.changes); by stream, how many."""
        from sandbox.changes import change_records

        with self._erp_lock:
            return change_records(self.world, self.erp_path, fraction, self.world.now())

    def _erp_ticker(self) -> None:
        while not self._stopped.wait(ERP_TICK_SECONDS):
            self.tick()
            if self._erp_written_at >= self.world.end:
                return

    def stop(self) -> None:
        self._stopped.set()
        for app in self.apps.values():
            app.stop()
        if self.mail is not None:
            self.mail.stop()
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
