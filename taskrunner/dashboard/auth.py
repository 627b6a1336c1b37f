"""Who may use the dashboard: a bearer token beyond loopback, and no cross-site actions.

- A token (the variable ``dashboard.token_env`` names) is required when the dashboard
  listens beyond loopback, and checked whenever it is set. It comes as
  ``Authorization: Bearer <token>``, or once as ``?token=<token>`` in a link: that
  answer sets an HttpOnly cookie and sends the browser on to the same page without
  the token in its address (nor in its history).
- Without a token (loopback only) a request must name a loopback host: a page
  elsewhere cannot reach the dashboard through a DNS name it points at 127.0.0.1.
- Every action (POST) must come from the dashboard's own page: htmx sends
  ``HX-Request``, a header a cross-site form cannot send and a cross-site script
  cannot send without a CORS preflight, which the dashboard never answers.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from taskrunner.encryption.server import is_loopback
from taskrunner.errors import ConfigError
from taskrunner.settings import Settings

COOKIE = "taskrunner_dashboard"
"""The cookie a ``?token=`` link sets: a digest of the token, not the token itself."""
TOKEN_PARAM = "token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def dashboard_token(settings: Settings) -> str | None:
    """The token the dashboard requires (None: none is set); beyond loopback, one must be."""
    config = settings.dashboard
    token = os.environ.get(config.token_env) or None
    if token is None and not is_loopback(config.host):
        raise ConfigError(
            f"the dashboard would listen on {config.host}, beyond loopback, without a token; "
            f"set {config.token_env} to a long random secret, or set dashboard.host "
            "(TASKRUNNER_DASHBOARD__HOST) to 127.0.0.1"
        )
    return token


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"taskrunner dashboard cookie", hashlib.sha256).hexdigest()


class Gate:
    """ASGI middleware applying the rules above to every request, static files included."""

    def __init__(self, app: ASGIApp, token: str | None, token_env: str) -> None:
        self.app, self.token, self.token_env = app, token, token_env

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self._check(Request(scope))
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _check(self, request: Request) -> Response | None:
        if self.token is None:
            if not is_loopback(request.url.hostname or ""):
                return _refuse(421, "this dashboard answers loopback addresses only")
        else:
            given = request.query_params.get(TOKEN_PARAM)
            if given is not None:
                return self._token_link(request, given)
            if not self._authorized(request):
                return _refuse(
                    401,
                    "a token is needed: send Authorization: Bearer <token> (the value of "
                    f"{self.token_env}), or open the dashboard once with ?{TOKEN_PARAM}=<token>",
                )
        if request.method not in SAFE_METHODS and request.headers.get("HX-Request") != "true":
            return _refuse(403, "actions are sent by the dashboard's own pages (htmx) only")
        return None

    def _authorized(self, request: Request) -> bool:
        assert self.token is not None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and _same(given.strip(), self.token):
            return True
        return _same(request.cookies.get(COOKIE, ""), cookie_value(self.token))

    def _token_link(self, request: Request, given: str) -> Response:
        assert self.token is not None
        if request.method != "GET" or not _same(given, self.token):
            return _refuse(401, f"wrong token: the link's {TOKEN_PARAM} is not {self.token_env}")
        params = [(k, v) for k, v in request.query_params.multi_items() if k != TOKEN_PARAM]
        target = request.url.path + (f"?{urlencode(params)}" if params else "")
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(
            COOKIE,
            cookie_value(self.token),
            httponly=True,
            samesite="lax",  # sent when a link elsewhere opens the dashboard, not on its POSTs
            secure=request.url.scheme == "https",
        )
        answer.headers["Referrer-Policy"] = "no-referrer"
        return answer


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _refuse(status: int, line: str) -> Response:
    return PlainTextResponse(f"{line}\n", status_code=status)
