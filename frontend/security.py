"""Browser protections and credentials: the Host check (DNS rebinding), refusal of
cross-site mutations (CSRF), security headers, and the login that turns a one-time token
into an HttpOnly session cookie.

Cross-site requests are told apart by the `Sec-Fetch-Site` and `Origin` headers that every
current browser sends, rather than by CSRF tokens: that needs no state shared between the
front end's processes and no token plumbing in the page, and the session cookie is
`SameSite=Strict` besides. Clients that are not browsers send neither header and must
carry a key in `Authorization`, which another site cannot make a browser send.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, redirect, request

from facerec.frontend.channel import credential
from facerec.frontend.config import FrontendConfig, allowed_hosts
from facerec.frontend.errors import ApiError
from facerec.frontend.state import state

SESSION_COOKIE = "facerec_session"
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
# Answered whatever the Host: load balancers probe by address.
ANY_HOST_PATHS = frozenset(("/healthz", "/readyz"))
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

bp = Blueprint("security", __name__)


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cross_site() -> str:
    """Why the request comes from another site ('' when it does not)."""
    site = request.headers.get("Sec-Fetch-Site", "")
    if site and site not in ("same-origin", "none"):
        return f"the browser says this request comes from a {site} page"
    origin = request.headers.get("Origin")
    if origin is None:
        return ""
    parts = urlsplit(origin)
    if origin == "null" or parts.netloc.lower() != request.host.lower():
        return f"the page at {origin} is not this front end"
    return ""


def request_credential() -> str:
    """The key in `Authorization: Bearer …`, else the session cookie, else ''."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE, "")


def install(app: Flask, cfg: FrontendConfig) -> None:
    hosts = allowed_hosts(cfg)

    @app.before_request
    def guard() -> None:
        credential.set(request_credential())
        if request.path not in ANY_HOST_PATHS and _host_name(request.host) not in hosts:
            raise ApiError(
                400,
                "HOST_NOT_ALLOWED",
                f"this front end does not answer to the host {request.host[:100]!r};"
                " an operator can add it with --allowed-hosts",
            )
        if request.method in UNSAFE_METHODS or request.path == "/login":
            why = _cross_site()
            if why:
                raise ApiError(403, "CROSS_SITE", f"refused: {why} (cross-site request)")

    @app.after_request
    def headers(resp: Response) -> Response:
        for name, value in HEADERS.items():
            resp.headers.setdefault(name, value)
        if request.path.startswith("/api/") or request.path == "/login":
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    app.register_blueprint(bp)


@bp.get("/login")
def login() -> Response:
    """Exchanges a one-time login token for a session cookie and goes to the page."""
    s = state()
    token = request.args.get("token", "")
    if not token:
        raise ApiError(400, "NO_TOKEN", "this link has no login token; ask for a new one")
    session = s.compute.redeem_login(token)
    resp = redirect("/", 303)
    max_age = 7 * 86400
    if session.session.HasField("expires_at"):
        max_age = max(0, int(session.session.expires_at.seconds - time.time()))
    resp.set_cookie(
        SESSION_COOKIE,
        session.secret,
        max_age=max_age,
        httponly=True,
        samesite="Strict",
        secure=s.cfg.secure_cookies,
        path="/",
    )
    return resp


@bp.post("/logout")
def logout() -> Response:
    resp = Response(status=204)
    resp.delete_cookie(SESSION_COOKIE, path="/", samesite="Strict", httponly=True)
    return resp
