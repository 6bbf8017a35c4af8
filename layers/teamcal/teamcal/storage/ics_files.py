"""The snapshots bucket: iCalendar snapshots (exports) and uploaded files to import.

Object keys (the only place that knows them):

* ``snapshots/<calendarId>/<YYYYMMDDTHHMMSSZ>-<snapshotId>.ics`` — an export (``text/calendar``),
  expired by the bucket's lifecycle rule after ``SnapshotRetentionDays``;
* ``imports/<calendarId>/<jobId>.ics`` — a file uploaded through a presigned POST form; its arrival
  triggers the import function (the template's S3 event on the ``imports/`` prefix); expired by
  the lifecycle rule after a week.

Presigned URLs are signed by the function's role with SigV4 and expire after the given seconds.
The upload form's policy makes S3 enforce the size and content type; still, the object can be
replaced while its form is valid, so the worker streams it once with a hard byte cap (:meth:`IcsFiles.read`) and
deletes a rejected upload at once (:meth:`IcsFiles.delete`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from teamcal.errors import NotFoundError, RetryableError

SNAPSHOTS = "snapshots/"
IMPORTS = "imports/"
CONTENT_TYPE = "text/calendar; charset=utf-8"
#: The Content-Type an upload form requires (a condition of its policy).
UPLOAD_CONTENT_TYPE = "text/calendar"
_UPLOAD = re.compile(r"^imports/(\d{1,16})/(\d{1,16})\.ics$")
_RETRYABLE = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503"}
_CHUNK = 1024 * 1024


class TooLargeError(ValueError):
    """An object proved longer than the cap while it was read; ``max_bytes`` is the cap."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the object holds more than {max_bytes} bytes")
        self.max_bytes = max_bytes


def _translate(e: ClientError) -> Exception:
    code = str(e.response.get("Error", {}).get("Code", ""))
    if code in ("NoSuchKey", "404", "NotFound"):
        return NotFoundError("the file is not in the bucket (not uploaded yet, or expired)")
    if code in _RETRYABLE:
        return RetryableError("the file store is busy; retry")
    return e


def snapshot_key(calendar_id: int, snapshot_id: int, at_ms: int) -> str:
    """``snapshots/<calendarId>/<UTC time>-<snapshotId>.ics``."""
    stamp = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{SNAPSHOTS}{calendar_id}/{stamp}-{snapshot_id}.ics"


def upload_key(calendar_id: int, job_id: int) -> str:
    """``imports/<calendarId>/<jobId>.ics``: where the file of an upload job goes."""
    return f"{IMPORTS}{calendar_id}/{job_id}.ics"


def parse_upload_key(key: str) -> tuple[int, int] | None:
    """``(calendarId, jobId)`` of an upload key as an S3 event names it (URL-encoded), else None."""
    match = _UPLOAD.match(unquote_plus(key))
    return (int(match.group(1)), int(match.group(2))) if match else None


class IcsFiles:
    """Reads and writes the bucket. ``client`` is a boto3 S3 client, ``bucket`` its name."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def put(self, key: str, text: str) -> None:
        """Store ``text`` (UTF-8, ``text/calendar``) under ``key``."""
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=text.encode("utf-8"), ContentType=CONTENT_TYPE)
        except ClientError as e:
            raise _translate(e) from e

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` as it is (an uploaded .ics in any encoding, ``text/calendar``) under ``key``."""
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=CONTENT_TYPE)
        except ClientError as e:
            raise _translate(e) from e

    def download_url(self, key: str, filename: str, expires_seconds: int) -> str:
        """A presigned GET URL of ``key`` served as an ``attachment`` named ``filename``."""
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": CONTENT_TYPE,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_seconds,
        )
        return url

    def upload_form(self, key: str, max_bytes: int, expires_seconds: int) -> tuple[str, dict[str, str]]:
        """A presigned POST (S3 "POST Object" with a policy) for ``key``: ``(url, fields)``. The
        caller sends ``fields`` then the file as ``multipart/form-data``; S3 itself refuses a file
        of 0 or more than ``max_bytes`` bytes (``content-length-range``), another key, or a
        ``Content-Type`` other than ``text/calendar``, and the form after ``expires_seconds``.
        Signed with the client's signature version (SigV4: :func:`teamcal.aws.s3_client`)."""
        out = self._client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": UPLOAD_CONTENT_TYPE},
            Conditions=[{"Content-Type": UPLOAD_CONTENT_TYPE}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_seconds,
        )
        return str(out["url"]), {str(k): str(v) for k, v in out["fields"].items()}

    def size(self, key: str) -> int:
        """The object's size in bytes.

        Raises:
            NotFoundError: no such object.
        """
        try:
            out = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            raise _translate(e) from e
        return int(out["ContentLength"])

    def read(self, key: str, max_bytes: int | None = None) -> bytes:
        """The object's bytes, streamed in chunks of 1 MiB; with ``max_bytes``, reading stops as
        soon as the object proves longer (whatever its size said before: it may have been
        replaced since).

        Raises:
            NotFoundError: no such object.
            TooLargeError: the object holds more than ``max_bytes`` bytes.
        """
        chunks: list[bytes] = []
        total = 0
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                while chunk := body.read(_CHUNK):
                    total += len(chunk)
                    if max_bytes is not None and total > max_bytes:
                        raise TooLargeError(max_bytes)
                    chunks.append(chunk)
            finally:
                body.close()
        except ClientError as e:
            raise _translate(e) from e
        return b"".join(chunks)

    def delete(self, key: str) -> None:
        """Delete ``key`` (a rejected upload is not kept for the lifecycle rule); absent is fine."""
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            raise _translate(e) from e

    def touch(self, key: str) -> None:
        """Copy ``key`` onto itself: a new ``ObjectCreated`` event re-triggers the import worker
        (how an interrupted import continues in a fresh invocation)."""
        try:
            self._client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType=CONTENT_TYPE,
            )
        except ClientError as e:
            raise _translate(e) from e
