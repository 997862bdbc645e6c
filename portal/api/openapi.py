"""The OpenAPI 3.1 document of the Open311 GeoReport v2 endpoints, served as JSON."""

from __future__ import annotations

import copy

FORMAT = {
    "name": "format",
    "in": "path",
    "required": True,
    "description": "json or xml (the XML uses the GeoReport v2 element names)",
    "schema": {"type": "string", "enum": ["json", "xml"]},
}
# Text a person or a program typed never holds a NUL; every such parameter is a 400.
NO_NUL = "^[^\\x00]*$"
JURISDICTION = {
    "name": "jurisdiction_id",
    "in": "query",
    "required": False,
    "description": "Optional; when given it must be the ward's official code.",
    "schema": {"type": "string", "pattern": NO_NUL},
}


_WORD = "[ \\t]*(?:[Oo][Pp][Ee][Nn]|[Cc][Ll][Oo][Ss][Ee][Dd])[ \\t]*"
STATUS_PATTERN = f"^(?:{_WORD}(?:,{_WORD})*|[ \\t]*)$"


def _query(name: str, description: str, **schema) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "pattern": NO_NUL, **schema},
    }


def _ok(schema_ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": schema_ref}},
            "text/xml": {"schema": {"type": "string"}},
        },
    }


def _errors(*codes: int) -> dict:
    meaning = {
        400: "Invalid parameters (a NUL character in any of them, among others)",
        403: "Missing, wrong or revoked api_key",
        404: "Not found",
        429: "Too many requests",
    }
    return {
        str(code): {
            "description": meaning[code],
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Errors"}},
                "text/xml": {"schema": {"type": "string"}},
            },
        }
        for code in codes
    }


REQUEST_PROPERTIES = {
    "service_request_id": {"type": "string", "examples": ["KN-2026-00042"]},
    "status": {"type": "string", "enum": ["open", "closed"]},
    "status_notes": {"type": ["string", "null"], "description": "Latest public staff note"},
    "service_name": {"type": "string"},
    "service_code": {"type": "string"},
    "description": {"type": "string"},
    "agency_responsible": {"type": ["string", "null"], "description": "Lead unit"},
    "service_notice": {"type": ["string", "null"]},
    "requested_datetime": {"type": "string", "format": "date-time"},
    "updated_datetime": {"type": "string", "format": "date-time"},
    "expected_datetime": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "End of the due day (Asia/Ho_Chi_Minh); null once closed",
    },
    "address": {"type": ["string", "null"], "description": "Place of the problem"},
    "address_id": {"type": "null"},
    "zipcode": {"type": "null"},
    "lat": {"type": ["number", "null"]},
    "long": {"type": ["number", "null"]},
    "media_url": {"type": ["string", "null"], "format": "uri"},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Cổng kiến nghị — Open311 GeoReport v2",
        "version": "2.0.0",
        "description": (
            "Residents' petitions (kiến nghị) of one ward as Open311 service requests. "
            "Every path also answers with .xml instead of .json. Responses never carry "
            "the petitioner's personal data. Times are ISO 8601 in +07:00. "
            "Statuses resolved, closed, cannot_resolve, rejected and merged are 'closed'; "
            "the others 'open'. Error descriptions are in Vietnamese."
        ),
    },
    "servers": [{"url": "/open311/v2"}],
    "paths": {
        "/discovery.{format}": {
            "get": {
                "summary": "Discovery",
                "parameters": [FORMAT],
                "responses": {"200": _ok("#/components/schemas/Discovery", "Discovery")},
            }
        },
        "/services.{format}": {
            "get": {
                "summary": "Service list: one service per active category",
                "parameters": [FORMAT, JURISDICTION],
                "responses": {
                    "200": _ok("#/components/schemas/Services", "Services"),
                    **_errors(400, 404),
                },
            }
        },
        "/services/{service_code}.{format}": {
            "get": {
                "summary": "Service definition (no attributes: metadata is false)",
                "parameters": [
                    {
                        "name": "service_code",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": NO_NUL},
                    },
                    FORMAT,
                    JURISDICTION,
                ],
                "responses": {
                    "200": _ok("#/components/schemas/ServiceDefinition", "Definition"),
                    **_errors(400, 404),
                },
            }
        },
        "/requests.{format}": {
            "get": {
                "summary": "Service requests (at most 1000, newest first)",
                "parameters": [
                    FORMAT,
                    JURISDICTION,
                    _query(
                        "service_request_id",
                        "Comma-separated codes; when given, other filters are ignored",
                    ),
                    _query("service_code", "Comma-separated category slugs"),
                    _query(
                        "start_date",
                        "ISO 8601; default: end_date minus 90 days",
                        format="date-time",
                    ),
                    _query(
                        "end_date",
                        "ISO 8601; default: now, or start_date plus 90 days. "
                        "At most 90 days after start_date.",
                        format="date-time",
                    ),
                    _query(
                        "status",
                        "open, closed or both (comma-separated, any case)",
                        pattern=STATUS_PATTERN,
                    ),
                ],
                "responses": {
                    "200": _ok("#/components/schemas/ServiceRequests", "Requests"),
                    **_errors(400, 404),
                },
            },
            "post": {
                "summary": "File a petition (needs an api_key)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/NewRequest"}
                        },
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewRequest"}},
                    },
                },
                "parameters": [FORMAT],
                "responses": {
                    "201": _ok("#/components/schemas/Created", "Filed"),
                    **_errors(400, 403, 404, 429),
                },
            },
        },
        "/requests/{service_request_id}.{format}": {
            "get": {
                "summary": "One service request (a list of one)",
                "parameters": [
                    {
                        "name": "service_request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": NO_NUL},
                    },
                    FORMAT,
                    JURISDICTION,
                ],
                "responses": {
                    "200": _ok("#/components/schemas/ServiceRequests", "Request"),
                    **_errors(400, 404),
                },
            }
        },
        "/tokens/{token}.{format}": {
            "get": {
                "summary": "The service_request_id for a token (null until staff accept it)",
                "parameters": [
                    {
                        "name": "token",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": NO_NUL},
                    },
                    FORMAT,
                    JURISDICTION,
                ],
                "responses": {
                    "200": _ok("#/components/schemas/Tokens", "Token"),
                    **_errors(400, 404),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Discovery": {
                "type": "object",
                "properties": {
                    "changeset": {"type": "string"},
                    "contact": {"type": "string"},
                    "key_service": {"type": "string"},
                    "endpoints": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "specification": {"type": "string"},
                                "url": {"type": "string"},
                                "changeset": {"type": "string"},
                                "type": {"type": "string"},
                                "formats": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
            },
            "Service": {
                "type": "object",
                "required": ["service_code", "service_name", "metadata", "type"],
                "properties": {
                    "service_code": {"type": "string"},
                    "service_name": {"type": "string"},
                    "description": {"type": "string"},
                    "metadata": {"type": "boolean", "const": False},
                    "type": {"type": "string", "const": "realtime"},
                    "keywords": {"type": "string"},
                    "group": {"type": "string"},
                },
            },
            "Services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}},
            "ServiceDefinition": {
                "type": "object",
                "properties": {
                    "service_code": {"type": "string"},
                    "attributes": {"type": "array", "maxItems": 0},
                },
            },
            "ServiceRequest": {
                "type": "object",
                "required": ["service_request_id", "status", "service_code"],
                "properties": REQUEST_PROPERTIES,
            },
            "ServiceRequests": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ServiceRequest"},
            },
            "NewRequest": {
                "type": "object",
                "required": ["api_key", "service_code", "description"],
                "description": "lat and long together, or address_string, are required.",
                "properties": {
                    "api_key": {"type": "string"},
                    "jurisdiction_id": {"type": "string"},
                    "service_code": {"type": "string"},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "long": {"type": "number", "minimum": -180, "maximum": 180},
                    "address_string": {"type": "string", "maxLength": 300},
                    "description": {"type": "string", "minLength": 10, "maxLength": 5000},
                    "email": {"type": "string", "format": "email"},
                    "first_name": {"type": "string"},
                    "last_name": {"type": "string"},
                    "phone": {"type": "string", "description": "A Vietnamese number"},
                    "media_url": {"type": "string", "description": "Ignored; never fetched"},
                },
            },
            "Created": {
                "type": "array",
                "description": (
                    "service_request_id, or a token when the client's requests are accepted "
                    "by staff first"
                ),
                "items": {
                    "type": "object",
                    "properties": {
                        "service_request_id": {"type": "string"},
                        "token": {"type": "string"},
                        "service_notice": {"type": "string"},
                        "account_id": {"type": "null"},
                    },
                },
            },
            "Tokens": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["token", "service_request_id"],
                    "properties": {
                        "token": {"type": "string"},
                        "service_request_id": {"type": ["string", "null"]},
                    },
                },
            },
            "Errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "description"],
                    "properties": {
                        "code": {"type": "integer"},
                        "description": {"type": "string"},
                    },
                },
            },
        }
    },
}


def openapi_document(server_url: str | None = None) -> dict:
    document = copy.deepcopy(DOCUMENT)
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
