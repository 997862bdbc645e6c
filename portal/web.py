"""One view, two renderings: the full page for a browser, a fragment for htmx.

This module is the only code that reads htmx request headers or writes htmx response
headers (through ``htmx-flask``). Views call :func:`render` and :func:`see_other`.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, redirect, render_template
from htmx_flask import make_response as htmx_response
from htmx_flask import request


def is_htmx() -> bool:
    """An htmx request that is not a boosted navigation (which wants a full page)."""
    return bool(request.htmx) and not request.htmx.boosted


def htmx_target() -> str | None:
    return request.htmx.target if is_htmx() else None


def htmx_trigger_name() -> str | None:
    """The ``name`` of the input that triggered an htmx request (inline validation)."""
    return request.htmx.trigger_name if is_htmx() else None


def rendering_key() -> tuple[bool, str | None]:
    """What, beyond the address, decides which rendering a view returns (page caches)."""
    return (is_htmx(), htmx_target())


def _vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def render(
    template: str,
    *,
    fragment: str | None = None,
    targets: Iterable[str] = (),
    status: int = 200,
    **context,
) -> Response:
    """Render ``template``, or ``fragment`` when htmx aims at one of ``targets``."""
    wanted = fragment if fragment and htmx_target() in set(targets) else template
    response = Response(render_template(wanted, **context), status=status)
    return _vary(response)


def see_other(location: str) -> Response:
    """After a successful POST: 303 for browsers, HX-Redirect for htmx."""
    if is_htmx():
        return _vary(htmx_response("", 204, redirect=location))
    return _vary(redirect(location, code=303))


def htmx_login_redirect(location: str) -> Response | None:
    """When a session expires during an htmx call, send the whole page to the login."""
    if bool(request.htmx):
        return _vary(htmx_response("", 204, redirect=location))
    return None
