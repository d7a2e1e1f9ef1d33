"""The document store: where the bytes of the family's file live, behind one small interface.

Two stores, one interface (`DocumentStore`):

- `LocalStore` — a directory (by default `instance/documents`): one server, no set-up.
  A file is spooled into `.incoming/` inside the store (mode 0600) and moved into place
  by a rename, so a reader never meets a half-written file and a failed upload leaves
  none behind.
- `S3Store` — an S3-compatible object store (boto3), for several app servers sharing one
  store: the spooled file is uploaded (multipart for a large one) once it is complete.

Keys are made by the store (`new_key`), never from a user's input: 32 random hex digits
under a two-digit folder. Nothing here knows who may read a file: the file route asks the
row scope and the health right first (admin_views/documents.py). A stored file is never
removed but for the one spooled by an upload that then failed (`remove`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Protocol

# How much of a file is read or written at a time: the most a file costs in memory.
CHUNK = 64 * 1024
KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")
# An S3 upload goes in parts of S3's least size, one at a time: a worker holds one part
# (5 MiB), whatever the file's size (boto3's default holds up to ten 8 MiB parts).
S3_PART = 5 * 1024 * 1024
# The settings of the S3 store (from the environment, or the app's configuration).
S3_SETTINGS = (
    "OPORA_S3_ENDPOINT",
    "OPORA_S3_BUCKET",
    "OPORA_S3_ACCESS_KEY",
    "OPORA_S3_SECRET_KEY",
    "OPORA_S3_REGION",
)


def new_key() -> str:
    name = secrets.token_hex(16)
    return f"{name[:2]}/{name}"


def checked_key(key: str) -> str:
    """A key as the store made it; anything else (a path, «..») names no file."""
    if not KEY.match(key):
        raise ValueError(f"not a document key: {key!r}")
    return key


class DocumentStore(Protocol):
    """Where document files are kept."""

    kind: str

    def spool(self) -> contextlib.AbstractContextManager[IO[bytes]]:
        """A private temporary file to write an upload into; gone when the block ends
        unless `keep` moved it into the store."""
        ...

    def keep(self, spooled: IO[bytes], key: str) -> None:
        """Store the complete spooled file under `key` (atomically: all or nothing)."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """The stored file for reading, a chunk at a time (the caller closes it)."""
        ...

    def remove(self, key: str) -> None:
        """Remove the file of an upload that failed after `keep` (never a document's)."""
        ...

    def exists(self, key: str) -> bool: ...


class LocalStore:
    """A directory: `<root>/<key>`, files 0600, directories 0700."""

    kind = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.incoming = self.root / ".incoming"

    def path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def _ensure(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    @contextlib.contextmanager
    def spool(self) -> Iterator[IO[bytes]]:
        self._ensure(self.incoming)
        fd, name = tempfile.mkstemp(dir=self.incoming, prefix="upload-")  # 0600
        file = open(name, "w+b", opener=lambda *_: fd)  # noqa: SIM115 - closed below
        try:
            yield file
        finally:
            file.close()
            Path(name).unlink(missing_ok=True)

    def keep(self, spooled: IO[bytes], key: str) -> None:
        target = self.path(key)
        self._ensure(target.parent)
        spooled.flush()
        os.fsync(spooled.fileno())
        os.chmod(spooled.name, 0o600)
        os.replace(spooled.name, target)  # same file system: the rename is atomic

    def open(self, key: str) -> IO[bytes]:
        return self.path(key).open("rb")

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def stored_keys(self) -> Iterator[str]:
        """Every stored file's key (the backup's list), without the spool."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/*")):
            key = f"{path.parent.name}/{path.name}"
            if path.is_file() and KEY.match(key):
                yield key


class _S3Body:
    """An S3 object's body as a file read a chunk at a time."""

    def __init__(self, body: Any):
        self._body = body

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._body.read(None if size is None or size < 0 else size)
        return data

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body.iter_chunks(CHUNK))

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _S3Body:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class S3Store:
    """A bucket of an S3-compatible object store; objects are private (no ACL, no URL)."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> S3Store:
        import boto3  # only a server configured for S3 loads the SDK

        client = boto3.client(
            "s3",
            endpoint_url=settings.get("OPORA_S3_ENDPOINT") or None,
            aws_access_key_id=settings.get("OPORA_S3_ACCESS_KEY") or None,
            aws_secret_access_key=settings.get("OPORA_S3_SECRET_KEY") or None,
            region_name=settings.get("OPORA_S3_REGION") or "us-east-1",
        )
        return cls(client, str(settings["OPORA_S3_BUCKET"]))

    @contextlib.contextmanager
    def spool(self) -> Iterator[IO[bytes]]:
        with tempfile.TemporaryFile(prefix="opora-upload-") as file:  # 0600, no name
            yield file

    def keep(self, spooled: IO[bytes], key: str) -> None:
        from boto3.s3.transfer import TransferConfig

        spooled.seek(0)
        config = TransferConfig(
            multipart_threshold=S3_PART,
            multipart_chunksize=S3_PART,
            max_concurrency=1,
            use_threads=False,
        )
        self.client.upload_fileobj(spooled, self.bucket, checked_key(key), Config=config)

    def open(self, key: str) -> IO[bytes]:
        answer = self.client.get_object(Bucket=self.bucket, Key=checked_key(key))
        return _S3Body(answer["Body"])  # type: ignore[return-value]

    def remove(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=checked_key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=checked_key(key))
        except ClientError:
            return False
        return True


def document_store(settings: Mapping[str, Any], default_root: str | Path) -> DocumentStore:
    """The S3 store when a bucket is configured, else the local directory."""
    if settings.get("OPORA_S3_BUCKET"):
        return S3Store.from_settings(settings)
    return LocalStore(settings.get("OPORA_DOCUMENTS_DIR") or default_root)
