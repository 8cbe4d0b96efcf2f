"""The S3 store against a real S3-compatible server: moto's, run as its own process on a local port
(``moto_server``), with boto3 speaking HTTP to it as to any MinIO or AWS endpoint. A server on the
bucket takes an upload and serves it back; the bytes are in the bucket under the configured prefix,
not on disk."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import boto3
import httpx
import pytest

from engine.files import FileMissing, S3Store
from engine.service.bot import Bot
from engine.settings import Settings
from tests.engine.attachments import files
from tests.engine.conftest import Server, free_port, run_server

BUCKET = "baton-files"
KEYS = {"attachment_s3_access_key": "test-key", "attachment_s3_secret_key": "test-secret"}


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")  # installed with moto[server] (the dev extra)
    server = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test-key",
                     aws_secret_access_key="test-secret").create_bucket(Bucket=BUCKET)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_settings(url: str, **extra: object) -> Settings:
    return Settings(environment="test", secret_key=secrets.token_urlsafe(32), attachment_storage="s3",
                    attachment_s3_bucket=BUCKET,
                    attachment_s3_endpoint_url=url, attachment_s3_prefix="test/", **KEYS, **extra)


def test_the_store_puts_gets_and_deletes_in_the_bucket(s3_url: str) -> None:
    store = S3Store(s3_settings(s3_url))

    async def scenario() -> None:
        await store.put("7/abc", b"hello", "text/plain")
        assert await store.get("7/abc") == b"hello"
        await store.delete("7/abc")
        with pytest.raises(FileMissing):
            await store.get("7/abc")

    anyio.run(scenario)


def test_a_server_on_the_bucket_stores_and_serves_uploads(s3_url: str, bot_settings: Settings, bot: Bot,
                                                         tmp_path: Path) -> None:
    settings = bot_settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 's3.db'}", "attachment_storage": "s3",
        "attachment_s3_bucket": BUCKET,
        "attachment_s3_endpoint_url": s3_url, "attachment_s3_prefix": "served/", **KEYS,
        "attachment_dir": tmp_path / "not-used"})
    shot = files.screenshot()
    for server in run_server(settings, bot):
        visitor = server.start_visitor()
        auth = {"Authorization": f"Bearer {visitor['token']}"}
        with server.http() as http:
            meta = http.post("/api/visitor/attachments", files={"file": ("a.png", shot)}, headers=auth)
            assert meta.status_code == 201, meta.text
            back = http.get(f"/api/visitor/attachments/{meta.json()['id']}", headers=auth)
            thumb = http.get(f"/api/visitor/attachments/{meta.json()['id']}/thumbnail", headers=auth)
        assert back.content == shot and thumb.status_code == 200
        assert_in_bucket(s3_url, shot, server)
    assert not (tmp_path / "not-used").exists()


def assert_in_bucket(url: str, data: bytes, server: Server) -> None:
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test-key",
                          aws_secret_access_key="test-secret")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="served/")["Contents"]]
    assert len(keys) == 2 and any(k.endswith("-thumb") for k in keys), keys
    original = next(k for k in keys if not k.endswith("-thumb"))
    stored = client.get_object(Bucket=BUCKET, Key=original)
    assert stored["Body"].read() == data and stored["ContentType"] == "image/png"
