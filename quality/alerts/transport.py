"""Sending one HTTP request straight through a transport. An httpx ``Client`` logs every request
URL, and the URLs alert sinks call carry secrets in their query (the robot's access token, an app
token, ``gettoken``'s app secret); going through the transport keeps them out of the log."""

from __future__ import annotations

import httpx

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def _exchange(transport: httpx.BaseTransport, request: httpx.Request) -> httpx.Response:
    request.extensions = {**request.extensions, "timeout": TIMEOUT.as_dict()}
    response = transport.handle_request(request)
    try:
        response.read()
    finally:
        response.close()
    return response


def send(
    transport: httpx.BaseTransport, request: httpx.Request, auth: httpx.Auth | None = None
) -> httpx.Response:
    """The final response to ``request``, after whatever exchanges ``auth`` needs (a token
    fetched, refreshed and the request retried), as an httpx client would make them."""
    if auth is None:
        return _exchange(transport, request)
    flow = auth.sync_auth_flow(request)
    outgoing = next(flow)
    while True:
        response = _exchange(transport, outgoing)
        try:
            outgoing = flow.send(response)
        except StopIteration:
            return response
