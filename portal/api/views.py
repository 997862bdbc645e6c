"""Open311 GeoReport v2 endpoints (``/open311/v2/…``), JSON or XML by the file extension.

Machines are not people: no CSRF (the blueprint is exempt; POST needs an API key), no
session, no HTML. Every error is an Open311 error array in the requested format.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Blueprint, Response, abort, current_app, flash, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role
from portal.accounts.services import staff_required
from portal.api import services
from portal.api.forms import ApiClientForm
from portal.api.openapi import openapi_document
from portal.api.services import ApiError
from portal.extensions import db, limiter
from portal.units.services import current_ward
from portal.web import render, see_other

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
# The admin's pages for clients and keys: people with a session, so CSRF applies.
admin_bp = Blueprint("api_admin", __name__, url_prefix="/quan-ly/khoa-api")

FORMAT = "<any(json,xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+07:00"


def _post_limit() -> str:
    return current_app.config["PETITION_RATE_LIMIT"]


def _form():
    """A POST body as form fields or a JSON object."""
    if request.form:
        return request.form
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _client():
    """The client whose api_key this POST carries, once per request (None if unknown)."""
    if "api_client" not in g:
        g.api_client = services.client_for_key(_form().get("api_key"))
    return g.api_client


def _client_limit() -> str:
    client = _client()
    return client.rate_limit if client else _post_limit()


def _client_scope() -> str:
    client = _client()
    return f"open311-client-{client.id}" if client else "open311-no-client"


# --- rendering --------------------------------------------------------------------------


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(parent: ET.Element, tag: str, value) -> ET.Element:
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list):
        # <formats><format>…</format></formats>, <endpoints><endpoint>…
        child = tag[:-1] if tag.endswith("s") else "item"
        for item in value:
            _element(node, child, item)
    else:
        node.text = _text(value)
    return node


def _xml(root_tag: str, item_tag: str | None, data) -> bytes:
    root = ET.Element(root_tag)
    if item_tag is None:
        for key, value in data.items():
            _element(root, key, value)
    else:
        for item in data:
            _element(root, item_tag, item)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root_tag: str, item_tag: str | None, data, status: int = 200) -> Response:
    if fmt == "xml":
        response = Response(_xml(root_tag, item_tag, data), status=status)
        response.content_type = "text/xml; charset=utf-8"
    else:
        response = jsonify(data)
        response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def error_response(fmt: str, status: int, description) -> Response:
    errors = [{"code": status, "description": str(description)}]
    return respond(fmt, "errors", "error", errors, status)


def _format() -> str:
    return "xml" if (request.view_args or {}).get("fmt") == "xml" else "json"


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    db.session.rollback()
    return error_response(_format(), error.status, error.description)


@bp.errorhandler(404)
def not_found(error):
    return error_response(_format(), 404, _("Không tìm thấy."))


@bp.errorhandler(429)
def too_many(error):
    return error_response(_format(), 429, _("Quá nhiều yêu cầu; hãy thử lại sau."))


@bp.errorhandler(400)
def bad_request(error):
    return error_response(_format(), 400, _("Yêu cầu không hợp lệ."))


def _ward():
    ward = current_ward()
    if ward is None:
        raise ApiError(503, _("Cổng chưa được cấu hình phường."))
    services.check_jurisdiction(request.values.get("jurisdiction_id"), ward)
    return ward


# --- endpoints --------------------------------------------------------------------------


@bp.get(f"/discovery.{FORMAT}")
def discovery(fmt: str):
    ward = current_ward()
    data = {
        "changeset": CHANGESET,
        "contact": ward.name if ward else "",
        "key_service": _("Liên hệ quản trị viên của cổng để được cấp api_key."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.host_url.rstrip("/") + bp.url_prefix,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return respond(fmt, "discovery", None, data)


@bp.get(f"/services.{FORMAT}")
def service_list(fmt: str):
    ward = _ward()
    data = [services.service(c, ward) for c in services.categories()]
    return respond(fmt, "services", "service", data)


@bp.get(f"/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str):
    _ward()
    category = services.category_by_code(code)
    if category is None:
        raise ApiError(
            404, _("service_code “%(code)s” không tồn tại.", code=services.safe_code(code))
        )
    return respond(fmt, "service_definition", None, services.service_definition(category))


@bp.get(f"/requests.{FORMAT}")
def request_list(fmt: str):
    ward = _ward()
    data = [services.request_dict(p) for p in services.find_requests(ward, request.args)]
    return respond(fmt, "service_requests", "request", data)


@bp.get(f"/requests/<code>.{FORMAT}")
def request_detail(code: str, fmt: str):
    ward = _ward()
    data = [services.request_dict(services.get_request(ward, code))]
    return respond(fmt, "service_requests", "request", data)


@bp.post(f"/requests.{FORMAT}")
@limiter.limit(_post_limit)
@limiter.limit(_client_limit, key_func=_client_scope, exempt_when=lambda: _client() is None)
def create_request(fmt: str):
    form = _form()
    client = services.check_api_key(form.get("api_key"))
    ward = _ward()
    submission = services.parse_submission(form)
    petition = services.file_request(ward, submission, client)
    if client.requires_acceptance:
        token = services.issue_token(client, petition)
        db.session.commit()
        notice = _(
            "Đã nhận; mã kiến nghị được cấp khi cán bộ tiếp nhận. Hỏi lại bằng token %(token)s.",
            token=token.token,
        )
        data = [{"token": token.token, "service_notice": notice, "account_id": None}]
        return respond(fmt, "service_requests", "request", data, 201)
    db.session.commit()
    from portal.notifications.services import external_url

    notice = _(
        "Đã tiếp nhận kiến nghị %(code)s. Theo dõi tại %(url)s",
        code=petition.code,
        url=external_url("petitions.public_page", code=petition.code),
    )
    data = [{"service_request_id": petition.code, "service_notice": notice, "account_id": None}]
    return respond(fmt, "service_requests", "request", data, 201)


@bp.get(f"/tokens/<token>.{FORMAT}")
def token_detail(token: str, fmt: str):
    ward = _ward()
    return respond(fmt, "service_requests", "request", [services.token_dict(ward, token)])


@bp.get("/openapi.json")
def openapi():
    response = jsonify(openapi_document(request.host_url.rstrip("/") + bp.url_prefix))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- the admin's pages ------------------------------------------------------------------


@admin_bp.route("/", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def clients():
    """Clients allowed to file through Open311, and issuing a new key.

    The key is shown once, in the answer to the POST that issued it: only its hash is
    stored, so it cannot be shown again and must not sit in a redirect or a cookie.
    """
    form = ApiClientForm()
    issued = None
    status = 200
    if form.validate_on_submit():
        client, key = services.issue_key(
            form.name.data,
            contact=form.contact.data,
            rate_limit=form.rate_limit.data,
            requires_acceptance=form.requires_acceptance.data,
            by=current_user,
        )
        db.session.commit()
        issued = (client, key)
        form = ApiClientForm(formdata=None)
    elif request.method == "POST":
        status = 422
    response = render(
        "api/clients.html",
        form=form,
        issued=issued,
        clients=services.clients(),
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_bp.post("/<int:client_id>/thu-hoi")
@staff_required(Role.ADMIN)
def revoke(client_id: int):
    client = services.get_client(client_id)
    if client is None:
        abort(404)  # another ward's client is not found here, and keeps its key
    services.revoke(client)
    db.session.commit()
    flash(
        _("Đã thu hồi khóa của %(name)s; mọi yêu cầu dùng khóa này bị từ chối.", name=client.name),
        "success",
    )
    return see_other(url_for("api_admin.clients"))
