"""Attachment files: what they are from their bytes (``kinds``), thumbnails, where their bytes live
(``store``: a folder or an S3-compatible bucket) and signed links that expire (``links``). No
database here: ``engine.service.attachments`` records them and decides who may read them."""

from engine.files import links
from engine.files.kinds import ALLOWED, Checked, FileRefused, check, clean_name
from engine.files.store import FileMissing, FileStore, FolderStore, S3Store, store_from_settings
from engine.files.thumbnails import thumbnail

__all__ = ["ALLOWED", "Checked", "FileMissing", "FileRefused", "FileStore", "FolderStore",
           "S3Store", "check", "clean_name", "links", "store_from_settings", "thumbnail"]
