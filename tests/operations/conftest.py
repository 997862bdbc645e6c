from __future__ import annotations

import pytest


@pytest.fixture
def world_ids(world) -> dict:
    """What a resident's browser needs to know of the world: plain ids, no ORM objects."""
    return {"category": world.categories["chieu-sang"].id, "ward": world.ward.id}
