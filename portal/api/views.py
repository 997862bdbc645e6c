"""Open311 GeoReport v2 endpoints (``/open311/v2/…``), JSON or XML by the file extension.

Machines are not people: no CSRF (the blueprint is exempt; POST needs an API key), no
session, no HTML. Every error is an Open311 error array in the requested format.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _

from portal.api import services
from portal.api.openapi import openapi_document
from portal.api.services import ApiError
from portal.extensions import db, limiter
from portal.units.services import current_ward

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMAT = "<any(json,xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+07:00"


def _post_limit() -> str:
    return current_app.config["PETITION_RATE_LIMIT"]


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
    services.check_jurisdiction(request.values.get("jurisdiction_id"), _default_jurisdiction())
    return ward


def _default_jurisdiction() -> str:
    return request.host.split(":")[0]


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
def create_request(fmt: str):
    form = request.form if request.form else (request.get_json(silent=True) or {})
    if not isinstance(form, dict) and not hasattr(form, "get"):
        raise ApiError(400, _("Yêu cầu không hợp lệ."))
    services.check_api_key(form.get("api_key"))
    ward = _ward()
    submission = services.parse_submission(form)
    petition = services.file_request(ward, submission)
    db.session.commit()
    from portal.notifications.services import external_url

    notice = _(
        "Đã tiếp nhận kiến nghị %(code)s. Theo dõi tại %(url)s",
        code=petition.code,
        url=external_url("petitions.public_page", code=petition.code),
    )
    data = [{"service_request_id": petition.code, "service_notice": notice, "account_id": None}]
    return respond(fmt, "service_requests", "request", data, 201)


@bp.get("/openapi.json")
def openapi():
    response = jsonify(openapi_document(request.host_url.rstrip("/") + bp.url_prefix))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
