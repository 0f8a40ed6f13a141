"""After a demo run with distinctive secrets, none of them is found anywhere the hub writes.

The secrets are every credential the run holds: the sources' (CRM client secret, DingTalk app
secret, QMS API key, terminal password, handed out by the sandbox), the alert sinks' (robot
access token and signing secret, webhook token, SMTP password), the portal's cookie key and
the HR store's database password, in its URL. The places scanned are every byte of every file
in the home (the hub's SQLite store, Dagster's run storage, event logs and compute logs, the
schedules), every row of the HR store in PostgreSQL, and what the command printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from sandbox.serving import credentials
from tests.conftest import _drop_postgres_schema, _fresh_postgres_schema
from tests.reliability.figures import note

KPIHUB = str(Path(sys.executable).with_name("kpihub"))
SEED = 23
SANDBOX_SECRETS = (
    "crm_client_secret",
    "dingtalk_app_secret",
    "qms_api_key",
    "attendance_password",
    "robot_access_token",
    "robot_secret",
    "webhook_token",
)


def _with_password(url: str, password: str) -> str:
    """The admin URL with a password: the test server trusts local connections, so any
    password is accepted, and the hub must keep it to itself all the same."""
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def _rows_as_text(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            assert "scores" in tables
            rows = [
                repr(tuple(row))
                for table in tables
                for row in conn.execute(text(f'SELECT * FROM "{table}"'))
            ]
            return "\n".join(rows)
    finally:
        engine.dispose()


def test_no_secret_is_found_in_any_store_log_or_output(tmp_path: Path, postgres_admin: str) -> None:
    tag = uuid.uuid4().hex[:12]
    own = {
        "KPIHUB_ALERT_SMTP_USER": "kpihub-alerts",
        "KPIHUB_ALERT_SMTP_PASSWORD": f"smtp-password-{tag}",
        "KPIHUB_PORTAL_SECRET": f"portal-cookie-key-{tag}",
    }
    db_password = f"hr-db-password-{tag}"
    schema, hr_url = _fresh_postgres_schema(_with_password(postgres_admin, db_password))
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIHUB_", "DAGSTER_"))}
    env.update(own, KPIHUB_HOME=str(home), KPIHUB_HR_STORE_URL=hr_url)
    env["KPIHUB_SANDBOX_NOW"] = datetime.now(UTC).isoformat()
    try:
        run = subprocess.run(
            [KPIHUB, "demo", "--seed", str(SEED), "--employees", "12", "--periods", "1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
        assert "Published 12 new score version(s)." in run.stdout
        hr_rows = _rows_as_text(hr_url)
    finally:
        _drop_postgres_schema(postgres_admin, schema)

    sandbox = credentials(SEED)
    secrets = {
        **{name: sandbox[name] for name in SANDBOX_SECRETS},
        **{name: own[name] for name in own if name != "KPIHUB_ALERT_SMTP_USER"},
        "HR store password": db_password,
    }
    assert all(len(value) >= 12 for value in secrets.values())  # too long to occur by chance
    files = [p for p in home.rglob("*") if p.is_file()]
    names = {p.relative_to(home).parts[0] for p in files}
    assert {"hub.db", "dagster"} <= names
    dagster = [p for p in files if p.is_relative_to(home / "dagster")]
    assert any(p.suffix == ".db" and p.parent.name == "runs" for p in dagster)  # event logs
    assert any(p.parent.name == "compute_logs" for p in dagster)
    places = {str(p.relative_to(home)): p.read_bytes() for p in files}
    places["HR store rows"] = hr_rows.encode()
    places["output"] = (run.stdout + run.stderr).encode()
    # The scan reads what is there: the people's job numbers are in the stores and the output.
    assert all(b"E00001" in places[p] for p in ("hub.db", "HR store rows"))
    assert b"E000" in places["output"]
    found = [
        f"{name} in {place}"
        for name, value in secrets.items()
        for place, content in places.items()
        if value.encode() in content
    ]
    assert found == []
    assert len(places) > 10
    note(f"secrets: 0 of {len(secrets)} secret values found in {len(places)} places scanned")
