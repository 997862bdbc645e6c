"""The upload storage seam: a local folder, or an S3-compatible store (moto's server here)."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.petitions.models import Petition
from portal.storage import LocalStorage, S3Storage, StorageConfigError, check_name, make_storage
from tests import factories

S3_CREDENTIALS = {"aws_access_key_id": "thu-nghiem", "aws_secret_access_key": "thu-nghiem"}


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3 server of our own on loopback (moto in server mode); nothing leaves the machine."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **S3_CREDENTIALS)


@pytest.fixture
def bucket(s3_endpoint) -> str:
    name = f"kien-nghi-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads")
    endpoint = request.getfixturevalue("s3_endpoint")
    name = request.getfixturevalue("bucket")
    return S3Storage(name, prefix="uploads/", client=s3_client(endpoint))


def jpeg(colour="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    "name",
    ["../x", "..", "../../etc/passwd", "/etc/passwd", "a/b.jpg", "..\\x", ".hidden", "", "a b"],
)
def test_names_that_are_not_ours_are_refused(name):
    with pytest.raises(FileNotFoundError):
        check_name(name)


def test_a_local_name_stays_in_the_upload_folder(tmp_path):
    assert LocalStorage(tmp_path).path("abc.thumb.jpg") == tmp_path / "abc.thumb.jpg"


def test_save_read_list_delete(storage):
    assert list(storage.list()) == []
    storage.save("a1.jpg", b"first")
    storage.save("b2.thumb.jpg", b"second")
    storage.save("a1.jpg", b"first, again")  # a second save replaces the file whole
    assert storage.read("a1.jpg") == b"first, again"
    assert storage.exists("b2.thumb.jpg")
    listed = {item.name: item.size for item in storage.list()}
    assert listed == {"a1.jpg": len(b"first, again"), "b2.thumb.jpg": len(b"second")}
    storage.delete("a1.jpg")
    storage.delete("a1.jpg")  # already gone: not an error
    assert not storage.exists("a1.jpg")
    with pytest.raises(FileNotFoundError):
        storage.read("a1.jpg")
    with pytest.raises(FileNotFoundError):
        storage.read("../a1.jpg")
    with pytest.raises(FileNotFoundError):
        storage.save("../../escape.jpg", b"x")


def test_a_local_save_leaves_no_partial_file(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.save("photo.jpg", b"x" * 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg"]


def test_settings_choose_the_store(tmp_path, s3_endpoint, bucket, monkeypatch):
    local = make_storage({"UPLOAD_DIR": str(tmp_path)})
    assert isinstance(local, LocalStorage) and local.root == tmp_path
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_CREDENTIALS["aws_secret_access_key"])
    remote = make_storage(
        {
            "UPLOAD_STORAGE": "s3",
            "UPLOAD_DIR": str(tmp_path),
            "S3_BUCKET": bucket,
            "S3_PREFIX": "p/",
            "S3_ENDPOINT_URL": s3_endpoint,
            "S3_REGION": "us-east-1",
        }
    )
    remote.save("x1.jpg", b"abc")
    assert s3_client(s3_endpoint).get_object(Bucket=bucket, Key="p/x1.jpg")["Body"].read() == b"abc"
    with pytest.raises(StorageConfigError):
        make_storage({"UPLOAD_STORAGE": "s3", "UPLOAD_DIR": str(tmp_path)})
    with pytest.raises(StorageConfigError):
        make_storage({"UPLOAD_STORAGE": "ftp", "UPLOAD_DIR": str(tmp_path)})


def file_with_photo(client, world):
    lat, lon = factories.INSIDE_WEST
    response = client.post(
        "/kien-nghi/moi",
        data={
            "category_id": str(world.categories["ve-sinh-moi-truong"].id),
            "title": "Điểm rác tự phát đầu ngõ 12",
            "description": "Rác thải sinh hoạt đổ thành đống, bốc mùi.",
            "latitude": str(lat),
            "longitude": str(lon),
            "photos": [(io.BytesIO(jpeg("blue")), "anh.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    token = re.search(r"/cua-toi/([^?]+)", response.headers["Location"]).group(1)
    db.session.expire_all()
    return db.session.scalar(select(Petition).where(Petition.private_token == token))


@pytest.fixture
def app_config(request, tmp_path, monkeypatch):
    if "s3_endpoint" not in request.fixturenames:
        return {}
    endpoint = request.getfixturevalue("s3_endpoint")
    name = request.getfixturevalue("bucket")
    # boto3 reads credentials from the environment, as it would in production.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_CREDENTIALS["aws_secret_access_key"])
    return {
        "UPLOAD_STORAGE": "s3",
        "S3_BUCKET": name,
        "S3_PREFIX": "anh/",
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "UPLOAD_DIR": str(tmp_path / "must-stay-empty"),
    }


def test_photos_go_to_the_s3_bucket_and_are_served_from_it(
    app, client, world, s3_endpoint, bucket, tmp_path
):
    petition = file_with_photo(client, world)
    [photo] = petition.photos
    keys = {
        item["Key"]
        for item in s3_client(s3_endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])
    }
    assert keys == {f"anh/{photo.stored_name}", f"anh/{photo.thumb_name}"}
    assert not (tmp_path / "must-stay-empty").exists()

    response = client.get(f"/anh/{photo.id}/nho?t={petition.private_token}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert "no-store" in response.headers["Cache-Control"]
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (40, 30)
    assert client.get(f"/anh/{photo.id}").status_code == 404  # private until published

    s3_client(s3_endpoint).delete_object(Bucket=bucket, Key=f"anh/{photo.stored_name}")
    assert client.get(f"/anh/{photo.id}?t={petition.private_token}").status_code == 404


def test_photos_go_to_the_local_folder_by_default(app, client, world, tmp_path):
    petition = file_with_photo(client, world)
    [photo] = petition.photos
    folder = tmp_path / "uploads"
    assert sorted(p.name for p in folder.iterdir()) == sorted([photo.stored_name, photo.thumb_name])
    response = client.get(f"/anh/{photo.id}?t={petition.private_token}")
    assert response.status_code == 200
    assert response.data == (folder / photo.stored_name).read_bytes()
    response.close()
