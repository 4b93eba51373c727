"""The session cookie, backed by the sign_in_session table (replaces Starlette's signed-cookie
SessionMiddleware, whose cookie stayed valid for its whole max-age whatever happened).

The cookie `courtwatch_session` holds a random token. A signed-in browser's token names a live
row; a signed-out visitor's token usually names no row at all (its CSRF token is derived from
the token, see app/csrf.py) and gets one only while a flash message waits for it. Pages keep
using `request.session` (a dict saved to the row after the response is made) for flashes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import anyio.to_thread
from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import sign_in_sessions as store
from app.auth.models import SignInSession
from app.config import Settings
from app.db import utcnow
from app.proxies import client_address

COOKIE_NAME = "courtwatch_session"
STATE_KEY = "courtwatch.sign_in_session"


class SessionState:
    """What the request knows about its session; `data` is the dict behind request.session."""

    def __init__(self, token: str | None, record: SignInSession | None) -> None:
        self.token = token
        self.data: dict[str, Any] = {}
        self.send_cookie = False
        self.drop_cookie = False
        self._bind(record)

    def _bind(self, record: SignInSession | None) -> None:
        self.record_id = record.id if record else None
        self.user_id = record.user_id if record else None
        self.last_seen_at: datetime | None = record.last_seen_at if record else None
        self.data.clear()  # in place: request.session is this very dict
        self.data.update(dict(record.data) if record else {})
        self.saved_data = dict(self.data)

    def ensure_token(self) -> str:
        """The cookie token, made (and sent) on first need."""
        if self.token is None:
            self.token = store.new_token()
            self.send_cookie = True
            self.drop_cookie = False
        return self.token

    def adopt(self, record: SignInSession, token: str) -> None:
        """A new row and token replace the old ones (sign-in, password change)."""
        self.token = token
        self.send_cookie = True
        self.drop_cookie = False
        self._bind(record)

    def forget(self) -> None:
        """The session ended: no row, no token, the cookie is removed (or replaced if a
        flash message needs a new one)."""
        self.token = None
        self.send_cookie = False
        self.drop_cookie = True
        self._bind(None)


def session_state(request: Request) -> SessionState:
    return request.scope[STATE_KEY]


def begin_session(
    request: Request, *, session: Session, user_id: int, reason: str, keep_data: bool = False
) -> None:
    """Sign a user in on this browser with a fresh token (the old one, if any, ends with
    `reason`): a token planted before sign-in is worthless afterwards. Nothing from before
    carries over (another user's flashes) unless keep_data."""
    state = session_state(request)
    if state.record_id is not None:
        store.end(session=session, session_id=state.record_id, reason=reason, commit=False)
    token = store.new_token()
    record = store.start(
        session=session,
        user_id=user_id,
        token=token,
        data=state.data if keep_data else {},
        ip_address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    state.adopt(record, token)


def end_session(request: Request, *, session: Session, reason: str) -> None:
    """End this browser's session (logout)."""
    state = session_state(request)
    if state.record_id is not None:
        store.end(session=session, session_id=state.record_id, reason=reason)
    state.forget()


class ServerSessionMiddleware:
    def __init__(self, app: ASGIApp, *, engine: Engine, settings: Settings) -> None:
        self.app = app
        self.engine = engine
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = _cookie_token(scope)
        record, known = (
            await anyio.to_thread.run_sync(self._load, token) if token else (None, False)
        )
        if record is None and known:
            token = None  # an ended or expired session's cookie: start over with a new one
        state = SessionState(token, record)
        scope[STATE_KEY] = state
        scope["session"] = state.data

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                if self._needs_write(state):
                    await anyio.to_thread.run_sync(self._persist, state, scope)
                cookie = self._cookie_header(state, scope)
                if cookie is not None:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_wrapper)

    # --- database work (in a worker thread: the driver blocks) --------------------------------

    def _load(self, token: str) -> tuple[SignInSession | None, bool]:
        """(the live row the token names or None, whether any row has that token)."""
        with Session(self.engine, expire_on_commit=False) as session:
            record = store.find_by_token(session=session, token=token)
            if record is None:
                return None, False
            if not store.is_live(record, settings=self.settings):
                if record.ended_at is None:
                    store.end(session=session, session_id=record.id or 0, reason="expired")
                return None, True
            return record, True

    def _is_stale(self, state: SessionState) -> bool:
        return state.last_seen_at is not None and utcnow() - state.last_seen_at >= timedelta(
            seconds=store.touch_interval_seconds(self.settings)
        )

    def _needs_write(self, state: SessionState) -> bool:
        """Most requests change nothing: no thread, no query."""
        if state.record_id is None:
            return bool(state.data)
        return state.data != state.saved_data or self._is_stale(state)

    def _persist(self, state: SessionState, scope: Scope) -> None:
        changed = state.data != state.saved_data
        stale = self._is_stale(state)
        headers = dict(scope.get("headers") or [])
        user_agent = headers.get(b"user-agent", b"").decode("latin-1")
        with Session(self.engine, expire_on_commit=False) as session:
            if state.record_id is None:
                # A signed-out visitor with a flash message waiting: keep it in a row.
                record = store.start(
                    session=session,
                    user_id=None,
                    token=state.ensure_token(),
                    data=state.data,
                    ip_address=client_address(scope),
                    user_agent=user_agent,
                )
                state.record_id = record.id
            elif state.user_id is None and not state.data:
                store.discard(session=session, session_id=state.record_id)
            else:
                store.save(
                    session=session,
                    session_id=state.record_id,
                    data=dict(state.data) if changed else None,
                    seen=stale,
                    ip_address=client_address(scope),
                    user_agent=user_agent,
                )
        state.saved_data = dict(state.data)

    # --- the cookie ----------------------------------------------------------------------------

    def _cookie_header(self, state: SessionState, scope: Scope) -> bytes | None:
        if not (state.send_cookie or state.drop_cookie):
            return None
        cookie: SimpleCookie = SimpleCookie()
        if state.send_cookie and state.token:
            cookie[COOKIE_NAME] = state.token
            cookie[COOKIE_NAME]["max-age"] = self.settings.session_max_age_seconds
        else:
            cookie[COOKIE_NAME] = ""
            cookie[COOKIE_NAME]["max-age"] = 0
            cookie[COOKIE_NAME]["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        morsel = cookie[COOKIE_NAME]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "lax"
        if self.settings.session_cookie_secure or scope.get("scheme") in ("https", "wss"):
            morsel["secure"] = True
        return morsel.OutputString().encode("latin-1")


def _cookie_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, val = part.strip().partition("=")
            if key == COOKIE_NAME and 20 <= len(val) <= 100:
                return val
    return None
