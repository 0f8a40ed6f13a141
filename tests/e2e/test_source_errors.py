"""Bad credentials fail clearly, name the source, and never echo the secret."""

from __future__ import annotations

import pytest

from connectors.registry import Connector
from connectors.sdk import AuthError
from pipelines.landing import land_stream
from pipelines.stores import Stores
from sandbox.serving import SandboxServer


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("crm", "crm: authentication failed: token endpoint answered HTTP 401"),
        (
            "dingtalk",
            "dingtalk: authentication failed: gettoken refused the app credentials (errcode 40096)",
        ),
    ],
)
def test_bad_credentials_name_the_source_and_hide_the_secret(
    stores: Stores,
    sandbox: SandboxServer,
    connectors: dict[str, Connector],
    name: str,
    message: str,
) -> None:
    connector = connectors[name]
    wrong = "wrong-secret-value-123"
    source = connector.connect({**sandbox.endpoints, str(connector.env.secret): wrong})
    with pytest.raises(AuthError) as caught:
        land_stream(stores.hub, source, connector.streams[0], "run-1")
    source.close()
    assert str(caught.value) == message
    assert wrong not in str(caught.value)


def test_expired_tokens_are_refreshed_mid_run(
    stores: Stores, own_sandbox: SandboxServer, connectors: dict[str, Connector]
) -> None:
    import httpx

    crm = connectors["crm"]
    endpoints = own_sandbox.endpoints
    source = crm.connect(endpoints)
    first = land_stream(stores.hub, source, crm.stream("users"), "run-1")
    httpx.post(f"{own_sandbox.crm.url}/_sandbox/tokens/expire").raise_for_status()
    orders = land_stream(stores.hub, source, crm.stream("orders"), "run-1")
    source.close()
    assert first.landed == 25
    assert orders.landed == len(own_sandbox.world.orders)

    dingtalk = connectors["dingtalk"]
    source = dingtalk.connect(endpoints)
    land_stream(stores.hub, source, dingtalk.stream("departments"), "run-1")
    httpx.post(f"{own_sandbox.dingtalk.url}/_sandbox/tokens/expire").raise_for_status()
    users = land_stream(stores.hub, source, dingtalk.stream("users"), "run-1")
    source.close()
    assert users.landed == 60


def test_a_source_that_does_not_answer_is_named_by_its_url(
    stores: Stores, connectors: dict[str, Connector], monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.sdk import StreamError

    monkeypatch.setenv("KPIHUB_RETRY_INITIAL_BACKOFF", "0")
    crm = connectors["crm"]
    closed = {
        "KPIHUB_CRM_BASE_URL": "http://127.0.0.1:9",
        "KPIHUB_CRM_CLIENT_ID": "id",
        "KPIHUB_CRM_CLIENT_SECRET": "a-secret-never-shown",
    }
    source = crm.connect(closed)
    with pytest.raises(StreamError) as caught:
        land_stream(stores.hub, source, crm.stream("orders"), "run-1")
    source.close()
    assert str(caught.value).startswith(
        "crm/orders page 1: connection to http://127.0.0.1:9/oauth/token failed after retries: "
        "ConnectError("
    )
    assert "a-secret-never-shown" not in str(caught.value)


def test_through_dagster_a_refused_credential_names_its_variables(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from orchestration.definitions import build_definitions
    from schemas.settings import get_settings

    for name, value in sandbox.endpoints.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KPIHUB_CRM_CLIENT_SECRET", "wrong-secret-value-123")
    get_settings.cache_clear()
    from orchestration.home import set_up

    set_up(get_settings())
    job = build_definitions().resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        asset_selection=[dg.AssetKey(["crm", "users"])],
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    assert error is not None
    message = error.cause.message if error.cause else error.message
    assert message.strip().endswith(
        "crm: authentication failed: token endpoint answered HTTP 401; "
        "check KPIHUB_CRM_CLIENT_ID, KPIHUB_CRM_CLIENT_SECRET"
    )
    assert "wrong-secret-value-123" not in message
