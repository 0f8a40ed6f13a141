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
