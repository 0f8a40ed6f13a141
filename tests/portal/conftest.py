"""A demo company run once, then the portal served on it as an operator starts it
(``kpihub portal``), signing people in through the sandbox's DingTalk."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from filelock import FileLock
from pydantic import SecretStr

from pipelines.stores import Stores
from quality.alerts.deliver import deliver
from quality.alerts.notify import WorkNotificationSink
from sandbox.model import World, generate_world
from sandbox.serving import SandboxServer

SEED = 42
# The demo company at 60 people keeps `make test` quick; KPIHUB_PORTAL_TEST_EMPLOYEES=200 walks the
# demo's default company.
EMPLOYEES = int(os.environ.get("KPIHUB_PORTAL_TEST_EMPLOYEES", "60"))
PERIODS = 2  # the trend page needs more than one month
KPIHUB = str(Path(sys.executable).with_name("kpihub"))
DONE = ".demo-complete"


@dataclass
class Site:
    url: str
    home: Path
    env: dict[str, str]
    world: World
    sandbox: SandboxServer
    periods: list[str]

    @property
    def period(self) -> str:
        return self.periods[-1]

    def kpihub(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KPIHUB, *args], env=self.env, capture_output=True, text=True, timeout=120
        )

    def stores(self) -> Stores:
        url = f"sqlite:///{self.home / 'hub.db'}"
        return Stores.connect(url, url)

    def delivered_notices(self) -> list[tuple[list[str], str]]:
        """Deliver the outbox's work notifications to the sandbox's DingTalk, twice (the second
        must send nothing again), and return what DingTalk received: receivers and text."""
        env = self.sandbox.endpoints
        notify = WorkNotificationSink(
            env["KPIHUB_DINGTALK_BASE_URL"],
            env["KPIHUB_DINGTALK_APP_KEY"],
            SecretStr(env["KPIHUB_DINGTALK_APP_SECRET"]),
            env["KPIHUB_DINGTALK_AGENT_ID"],
        )
        stores = self.stores()
        for _ in range(2):
            deliver(stores.hub, [notify], datetime.now(UTC))
        stores.dispose()
        return [
            (m["userid_list"], json.dumps(m["msg"], ensure_ascii=False))
            for m in self.sandbox.dingtalk.server.config.app.state.notifications.sent
        ]

    def sign_in_url(self, client: httpx.Client, userid: str) -> str:
        """Where DingTalk sends the browser back once ``userid`` signed in: the portal's
        /login leads to DingTalk's login page, where ``login_as`` stands in for the QR scan."""
        start = client.get("/login")
        assert start.status_code == 303, start.text
        chosen = httpx.get(f"{start.headers['location']}&login_as={userid}", timeout=30)
        assert chosen.status_code == 302, chosen.text
        return chosen.headers["location"]

    @contextmanager
    def signed_in(self, userid: str) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            done = client.get(self.sign_in_url(client, userid))
            assert done.status_code == 303, done.text
            yield client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kpihub portal exited: {log.read_text()}")
        try:
            httpx.get(f"{url}/static/portal.css", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"kpihub portal did not answer within 60 s: {log.read_text()}")


def _demo_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KPIHUB_DATABASE_URL", "KPIHUB_HR_STORE_URL", "DAGSTER_HOME")
    }
    env["KPIHUB_HOME"] = str(home)
    return env


def _run_demo(home: Path) -> None:
    demo = subprocess.run(
        [KPIHUB, "demo", "--seed", str(SEED), "--employees", str(EMPLOYEES), "--periods", "2"],
        env=_demo_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The demo run once for the whole test session, however many workers share it: the first
    worker to get here runs it, the others wait for it and reuse its home."""
    if worker_id == "master":
        home = tmp_path_factory.mktemp("portal-demo") / "home"
        _run_demo(home)
        return home
    shared = tmp_path_factory.getbasetemp().parent
    home = shared / f"portal-demo-{SEED}-{EMPLOYEES}"
    with FileLock(f"{home}.lock"):
        if not (home / DONE).exists():
            shutil.rmtree(home, ignore_errors=True)
            _run_demo(home)
            (home / DONE).touch()
    return home


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo_home: Path) -> Iterator[Site]:
    """The portal on a copy of the demo's home of its own, so what one module's tests change
    (reviews, the audit log) no other module sees."""
    root = tmp_path_factory.mktemp("portal")
    home = root / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns(DONE))
    env = _demo_env(home)
    world = generate_world(SEED, EMPLOYEES)
    with SandboxServer(world, systems=("dingtalk",)) as sandbox:
        env.update(sandbox.endpoints)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = root / "portal.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [KPIHUB, "portal", "--port", str(port)], env=env, stdout=out, stderr=out
            )
        try:
            _wait_until_up(url, process, log)
            from orchestration.partitions import closed_periods

            yield Site(url, home, env, world, sandbox, closed_periods(PERIODS))
        finally:
            process.terminate()
            process.wait(timeout=20)
