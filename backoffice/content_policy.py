"""The Content-Security-Policy of the back office's pages: scripts only from this site, or inline with the
nonce of the response (Flask-Admin's few inline scripts carry it); no plugins; no framing by other sites.

Styles may be inline (the templates and the SVG charts use style attributes): a style cannot run code. A PDF
is framed only by the submission page, from this site, and is itself served with a sandbox of its own.
"""

import secrets

from flask import g

# Flask-Admin's pages hold two inline event handlers (its filter menu's items: `onclick="return false;"`, and
# the bulk delete of a list: `onclick="return modelActions.execute('delete');"`) and menus whose links are
# `href="javascript:void(0)"`, which its menu script lets the browser follow: all are allowed by their hashes
# alone, and nothing else inline.
FLASK_ADMIN_HANDLERS = "'unsafe-hashes' 'sha256-2rvfFrggTCtyF5WOiTri1gDS8Boibj4Njn0e+VCBmDI=' 'sha256-rRMdkshZyJlCmDX27XnL7g3zXaxv7ei6Sg+yt4R3svU=' 'sha256-ftmTNsdfRKq6ZNyHL+p7dI9xRqueDTpseN1IaUUgQW4='"
POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}' " + FLASK_ADMIN_HANDLERS + "; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def csp_nonce() -> str:
    """The nonce of the current response, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy() -> str:
    return POLICY.format(nonce=csp_nonce())
