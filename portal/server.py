"""``kpihub portal``: the portal on uvicorn, against the stores of ``KPIHUB_HOME``."""

from __future__ import annotations

import uvicorn

from pipelines.stores import Stores
from portal.app import create_app
from schemas.settings import Settings


def serve(
    settings: Settings,
    stores: Stores,
    host: str,
    port: int,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> None:
    https = ssl_certfile is not None
    app = create_app(settings, stores, https=https)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_level="info",
        proxy_headers=False,
    )
