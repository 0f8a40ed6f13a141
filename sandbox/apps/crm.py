"""The simulated CRM: OAuth2 client credentials, cursor paging, 10 requests/s, as specs/sources.md.

The control route ``POST /_sandbox/orders/{id}/cancel`` cancels an order now, so a correction after
a month closed can be staged; ``POST /_sandbox/tokens/expire`` expires every token.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.apps.limits import SlidingWindowLimiter, TokenTable
from sandbox.crm_data import CrmUser, Customer, Lead, Order, Survey
from sandbox.model import World, iso_local, since_slice

Renderer = Callable[[Any], dict[str, Any]]
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def order_payload(order: Order) -> dict[str, Any]:
    if order.utc_rendering:
        signed = order.signed_at.astimezone(UTC).isoformat(timespec="seconds")
        signed = signed.replace("+00:00", order.utc_rendering)
    else:
        signed = iso_local(order.signed_at)
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "owner_id": order.owner_id,
        "amount": f"{order.amount:.2f}",
        "currency": "CNY",
        "signed_at": signed,
        "status": order.status,
        "updated_at": iso_local(order.updated_at),
        "is_deleted": False,
    }


def user_payload(user: CrmUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "employee_no": user.employee_no,
        "updated_at": iso_local(user.updated_at),
        "is_deleted": False,
    }


def customer_payload(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "owner_id": customer.owner_id,
        "created_at": iso_local(customer.created_at),
        "first_order_at": iso_local(customer.first_order_at) if customer.first_order_at else None,
        "updated_at": iso_local(customer.updated_at or customer.created_at),
        "is_deleted": False,
    }


def lead_payload(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "owner_id": lead.owner_id,
        "created_at": iso_local(lead.created_at),
        "status": lead.status,
        "converted_order_id": lead.converted_order_id,
        "updated_at": iso_local(lead.updated_at),
        "is_deleted": False,
    }


def survey_payload(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "order_id": survey.order_id,
        "owner_id": survey.owner_id,
        "score": survey.score,
        "submitted_at": iso_local(survey.submitted_at),
        "updated_at": iso_local(survey.submitted_at),
        "is_deleted": False,
    }


class StaticResource:
    """Records that do not change while the server runs, ordered for stable cursor paging."""

    def __init__(self, rows: list[Any], updated: Callable[[Any], datetime], render: Renderer):
        ordered = sorted(rows, key=lambda r: (updated(r), r.id))
        self.rows = ordered
        self.keys = [(updated(r), r.id) for r in ordered]
        self.render = render

    def since(
        self, since: datetime | None, after: tuple[datetime, str] | None, now: datetime
    ) -> list[Any]:
        return self.rows[since_slice(self.keys, since, after, now)]


def encode_cursor(updated_at: datetime, key: str) -> str:
    raw = json.dumps([updated_at.isoformat(), key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    padded = cursor + "=" * (-len(cursor) % 4)
    stamp, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    return datetime.fromisoformat(stamp), str(key)


def _updated(record: Any) -> datetime:
    for name in ("updated_at", "submitted_at", "created_at"):
        value = getattr(record, name, None)
        if value is not None:
            return value  # type: ignore[no-any-return]
    raise ValueError(f"{record!r} has no time stamp")


def error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def create_crm_app(
    world: World, client_id: str, client_secret: str, token_ttl: float = 3600.0
) -> Starlette:
    tokens = TokenTable(token_ttl)
    limiter = SlidingWindowLimiter(10, 1.0)
    crm = world.crm
    static = {
        "users": StaticResource(crm.users, lambda u: u.updated_at, user_payload),
        "customers": StaticResource(
            crm.customers, lambda c: c.updated_at or c.created_at, customer_payload
        ),
        "leads": StaticResource(crm.leads, lambda lead: lead.updated_at, lead_payload),
        "surveys": StaticResource(crm.surveys, lambda v: v.submitted_at, survey_payload),
    }

    async def token(request: Request) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_id") != client_id or form.get("client_secret") != client_secret:
            return error(401, "invalid_client", "client authentication failed")
        return JSONResponse(
            {
                "access_token": tokens.issue(client_id),
                "token_type": "Bearer",
                "expires_in": int(token_ttl),
            }
        )

    async def listing(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        client = tokens.owner(header[7:] if header.startswith("Bearer ") else None)
        if client is None:
            return error(401, "invalid_token", "the access token is missing, unknown or expired")
        wait = limiter.check(client)
        if wait is not None:
            return error(
                429,
                "rate_limited",
                "10 requests per second",
                **{"Retry-After": limiter.header(wait)},
            )
        resource = request.path_params["resource"]
        params = request.query_params
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return error(400, "invalid_request", "limit must be an integer")
        if not 1 <= limit <= MAX_LIMIT:
            return error(400, "invalid_request", f"limit must be between 1 and {MAX_LIMIT}")
        since = None
        if params.get("updated_since"):
            try:
                since = datetime.fromisoformat(params["updated_since"].replace("Z", "+00:00"))
            except ValueError:
                return error(400, "invalid_request", "updated_since must be ISO 8601")
            if since.tzinfo is None:
                return error(400, "invalid_request", "updated_since needs an offset")
        after = None
        if params.get("cursor"):
            try:
                after = decode_cursor(params["cursor"])
            except (ValueError, binascii.Error, TypeError):
                return error(400, "invalid_cursor", "the cursor is not one this server issued")
        if resource == "orders":
            rows: list[Any] = world.orders_since(since, after)[: limit + 1]
            render: Renderer = order_payload
        elif resource in static:
            rows = static[resource].since(since, after, world.now())[: limit + 1]
            render = static[resource].render
        else:
            return error(404, "not_found", f"no resource {resource!r}")
        last = rows[limit - 1] if len(rows) > limit else None
        return JSONResponse(
            {
                "data": [render(r) for r in rows[:limit]],
                "next_cursor": encode_cursor(_updated(last), last.id) if last else None,
            }
        )

    async def cancel(request: Request) -> JSONResponse:
        order_id = request.path_params["order_id"]
        try:
            order = world.cancel_order(order_id, world.now())
        except KeyError:
            return error(404, "not_found", f"no order {order_id}")
        return JSONResponse(order_payload(order))

    async def expire(request: Request) -> JSONResponse:
        tokens.expire_all()
        return JSONResponse({"expired": True})

    app = Starlette(
        routes=[
            Route("/oauth/token", token, methods=["POST"]),
            Route("/api/v2/{resource}", listing, methods=["GET"]),
            Route("/_sandbox/orders/{order_id}/cancel", cancel, methods=["POST"]),
            Route("/_sandbox/tokens/expire", expire, methods=["POST"]),
        ]
    )
    app.state.tokens = tokens  # fault injection expires them mid-run
    return app
