"""CSRF everywhere: with protection on, every POST route refuses a form without its token.

Exempt, each for a reason, and nothing else:
- the Open311 blueprint: machines authenticate with an ``api_key``, not a session cookie;
- the one-click unsubscribe (RFC 8058): mail providers POST there without a form of ours;
  it acts only on a signed token from the e-mail, which a forger does not have.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from tests import factories

EXEMPT_BLUEPRINTS = {"open311": "api_key instead of a session"}
EXEMPT_ENDPOINTS = {"notifications.unsubscribe": "RFC 8058 one-click, signed token"}
CSRF_MESSAGE = "Phiên làm việc đã hết hạn"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _value(converter):
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "x"


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            values = {name: _value(conv) for name, conv in rule._converters.items()}
            yield rule, rule.build(values)[1]


def exempt(endpoint: str) -> bool:
    return endpoint.split(".")[0] in EXEMPT_BLUEPRINTS or endpoint in EXEMPT_ENDPOINTS


def _logged_in_admin(client, world):
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/dang-nhap",
        data={
            "email": world.users["admin"].email,
            "password": factories.PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    # Logging in starts a new session, with a token of its own.
    page = client.get("/hoi-nghi/moi").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_every_post_route_refuses_a_form_without_its_token(app, client, world):
    _logged_in_admin(client, world)
    checked, accepted = [], []
    for rule, url in post_routes(app):
        if exempt(rule.endpoint):
            continue
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(url, data=data)
            refused = response.status_code == 400 and CSRF_MESSAGE in response.get_data(
                as_text=True
            )
            if not refused:
                accepted.append(f"{rule.rule} ({rule.endpoint}): {response.status_code}")
        checked.append(rule.rule)
    assert not accepted, "POST routes that take a form without a valid CSRF token: " + (
        "; ".join(accepted)
    )
    assert len(checked) > 30


def test_an_htmx_post_without_the_token_is_refused_too(client, world):
    petition = factories.file(world)
    response = client.post(
        f"/kien-nghi/{petition.code}/dong-y",
        data={"cosign-name": "An"},
        headers={"HX-Request": "true", "HX-Target": "cosign-box"},
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)


def test_the_exemptions_are_the_ones_listed(app, client, world):
    """The exempt routes do answer without a token, for their own reasons."""
    exempted = [(rule, url) for rule, url in post_routes(app) if exempt(rule.endpoint)]
    assert {rule.endpoint.split(".")[0] for rule, _ in exempted} <= {
        *EXEMPT_BLUEPRINTS,
        "notifications",
    }
    for rule, url in exempted:
        response = client.post(url, data={})
        assert CSRF_MESSAGE not in response.get_data(as_text=True), rule.rule
    # Open311 without a key, the unsubscribe link without a valid signature: refused.
    assert client.post("/open311/v2/requests.json", data={}).status_code == 403
    assert client.post("/theo-doi/huy/gia-mao", data={}).status_code == 400


def test_a_form_with_its_token_goes_through(client, world):
    token = _logged_in_admin(client, world)
    response = client.post("/hoi-nghi/moi", data={"csrf_token": token})
    assert response.status_code == 422  # the form's own checks, not CSRF
    assert CSRF_MESSAGE not in response.get_data(as_text=True)
