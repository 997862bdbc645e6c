from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.petitions.models import Petition, Status
from portal.units.models import Ward


def areas_geojson(ward: Ward | None) -> dict:
    features = []
    for area in ward.areas if ward else []:
        if not area.boundary:
            continue
        features.append(
            {
                "type": "Feature",
                "id": area.id,
                "geometry": area.boundary,
                "properties": {"id": area.id, "name": area.name, "demo": area.is_demo},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def petition_feature(petition: Petition, url: str) -> dict:
    """Only public fields: never the petitioner's name, phone, email or address."""
    return {
        "type": "Feature",
        "id": petition.code,
        "geometry": {"type": "Point", "coordinates": [petition.longitude, petition.latitude]},
        "properties": {
            "code": petition.code,
            "title": petition.title,
            "status": petition.status.value,
            "status_label": petition.status.label,
            "category": petition.category.label,
            "url": url,
        },
    }


def petitions_geojson(url_for_code, *, limit: int = 2000) -> dict:
    rows = db.session.scalars(
        select(Petition)
        .where(
            Petition.latitude.is_not(None),
            Petition.status.not_in([Status.MERGED, Status.REJECTED]),
        )
        .order_by(Petition.created_at.desc())
        .limit(limit)
    )
    return {
        "type": "FeatureCollection",
        "features": [petition_feature(p, url_for_code(p.code)) for p in rows],
    }
