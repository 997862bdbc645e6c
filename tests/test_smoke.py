from tests import factories


def test_file_and_view(client, world):
    petition = factories.file(world)
    response = client.get(f"/kien-nghi/{petition.code}")
    assert response.status_code == 200
    assert "Điểm rác tự phát" in response.get_data(as_text=True)
