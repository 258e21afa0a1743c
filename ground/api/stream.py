"""``/api/v1/stream``: the live WebSocket (protocol in ``ground.stream.protocol``).

Each connection runs two tasks: this handler reads the client's operations, and the session's
sender drains its bounded queue to the socket. Whichever ends first (the client leaves, the
server shuts down) ends the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ground.api.deps import GroundServices
from ground.security import Role, authenticate_websocket, token_store
from ground.stream.protocol import (
    PingOp,
    ProtocolProblem,
    SubscribeOp,
    UnsubscribeOp,
    parse_client_message,
)
from ground.stream.session import ClientSession

log = logging.getLogger("lupex.ground.stream")

router = APIRouter(tags=["stream"])


async def _receive(websocket: WebSocket, services: GroundServices, session: ClientSession) -> None:
    hub = services.hub
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            raw = message.get("bytes") or b""
            text = raw.decode("utf-8", errors="replace")
        op = parse_client_message(text)
        if isinstance(op, ProtocolProblem):
            session.enqueue_control(op.to_message())
        elif isinstance(op, SubscribeOp):
            hub.subscribe(session, op)
        elif isinstance(op, UnsubscribeOp):
            hub.unsubscribe(session, op)
        elif isinstance(op, PingOp):
            session.enqueue_control({"type": "pong", "time": time.time()})
            session.enqueue_stats()


def _is_disconnect(exc: BaseException) -> bool:
    """A client that went away (the normal end of a connection, from either task)."""
    # uvicorn's ClientDisconnected is an OSError; Starlette refuses to send after a close.
    if isinstance(exc, WebSocketDisconnect | OSError | asyncio.CancelledError):
        return True
    # Starlette's wording, then uvicorn's sans-I/O protocol's (a connection the server closed,
    # e.g. on a ping time-out, while the sender still had a message to write).
    return isinstance(exc, RuntimeError) and any(
        text in str(exc)
        for text in ("close message has been sent", "after sending 'websocket.close'")
    )


@router.websocket("/stream", name="stream")
async def stream(websocket: WebSocket) -> None:
    """The live stream; see ``ground.stream.protocol`` for the messages."""
    request_services = getattr(websocket.app.state, "services", None)
    store = token_store(websocket)
    principal = await authenticate_websocket(websocket, store, Role.VIEWER)
    if principal is None:
        return
    if not isinstance(request_services, GroundServices):
        await websocket.accept()
        await websocket.close(1013, "service starting")
        return
    services = request_services
    await websocket.accept()
    session = services.hub.connect(principal.name)
    sender = asyncio.create_task(session.run_sender(websocket.send_text), name="ws-sender")
    receiver = asyncio.create_task(_receive(websocket, services, session), name="ws-receiver")
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if sender in done and not sender.cancelled() and sender.exception() is None:
            code, reason = sender.result()
            with contextlib.suppress(Exception):
                if websocket.application_state is WebSocketState.CONNECTED:
                    await websocket.close(code, reason)
    finally:
        for task in (sender, receiver):
            task.cancel()
        results = await asyncio.gather(sender, receiver, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not _is_disconnect(result):
                log.error("stream client %d failed", session.id, exc_info=result)
        services.hub.disconnect(session)
