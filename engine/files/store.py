"""Where attachment bytes live: a folder (the default, under ``var/``) or an S3-compatible bucket
(AWS S3, MinIO, Ceph, R2...), behind one small interface. Blocking I/O runs in a worker thread.

Keys are made by the service (``<conversation>/<random>``), never from a name a sender chose, so no
upload can write outside its folder or over another file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread

from engine.settings import Settings


class FileMissing(Exception):
    """The store has no object under this key (deleted by hand, or another store configured)."""


class FileStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class FolderStore:
    """Files under ``root``; written to a temporary name and renamed, so a reader never sees half."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key {key!r} leaves the store's folder")
        return path

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise FileMissing(key) from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(self._put, key, data)

    async def get(self, key: str) -> bytes:
        return await anyio.to_thread.run_sync(self._get, key)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))


class S3Store:
    """Objects in ``bucket`` under ``prefix`` through boto3; ``endpoint_url`` names a non-AWS server.
    Credentials are the settings' when given, else boto3's usual chain (environment, profile, role)."""

    def __init__(self, settings: Settings) -> None:
        import boto3  # only when configured: importing it costs a few hundred milliseconds
        from botocore.config import Config

        if not settings.attachment_s3_bucket:
            raise ValueError("attachment_storage is 's3' but BATON_ATTACHMENT_S3_BUCKET is not set")
        self.bucket, self.prefix = settings.attachment_s3_bucket, settings.attachment_s3_prefix
        credentials: dict[str, Any] = {}
        if settings.attachment_s3_access_key:
            credentials = {"aws_access_key_id": settings.attachment_s3_access_key,
                           "aws_secret_access_key": settings.attachment_s3_secret_key}
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=settings.attachment_s3_endpoint_url, region_name=settings.attachment_s3_region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                          read_timeout=30),
            **credentials)
        self._missing = self.client.exceptions.NoSuchKey

    def _get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self._missing as exc:
            raise FileMissing(key) from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(lambda: self.client.put_object(
            Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type))

    async def get(self, key: str) -> bytes:
        return await anyio.to_thread.run_sync(self._get, key)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self.client.delete_object(Bucket=self.bucket,
                                                                         Key=self.prefix + key))


def store_from_settings(settings: Settings) -> FileStore:
    if settings.attachment_storage == "s3":
        return S3Store(settings)
    return FolderStore(settings.attachment_dir)
