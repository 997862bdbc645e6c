"""Search results are paged with their total from one query (``count(*) OVER ()``)."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.mark.parametrize("url", ["/kien-nghi", "/quan-ly/"])
def test_search_pages_count_all_matches(app, client, auth, world, url):
    """A search's page and its total come from one query: the total is still every match."""
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        factories.file(world, title=f"Cống thoát nước số {n} bị tắc")
    factories.file(world, title="Đèn đường hỏng")
    auth.as_role(world, "ward_staff")
    first = client.get(f"{url}?q=cong+thoat").get_data(as_text=True)
    assert "5 kiến nghị" in first and "Trang 1 / 3" in first
    last = client.get(f"{url}?q=cong+thoat&page=3").get_data(as_text=True)
    assert "5 kiến nghị" in last and last.count("Cống thoát nước số") == 1
    beyond = client.get(f"{url}?q=cong+thoat&page=9").get_data(as_text=True)
    assert "5 kiến nghị" in beyond
