"""The receiver's FastAPI application (imported only when an app is built).

No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations at
run time to know that ``request`` is the raw request.
"""

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from orchlab.events._receiver import EventReceiver


def build_app(receiver: "EventReceiver") -> FastAPI:
    """``POST /events`` takes CloudEvents (either mode); ``GET /healthz`` lists the routes."""
    api = FastAPI(title="orchlab CloudEvents receiver", docs_url="/docs")

    @api.post("/events")
    async def receive(request: Request) -> JSONResponse:
        outcome = await receiver.handle(dict(request.headers), await request.body())
        return JSONResponse(outcome.body(), status_code=outcome.status)

    @api.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"ok": True, "routes": sorted(receiver.routes)}

    return api
