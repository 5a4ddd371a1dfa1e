"""Photos sent with public reports: cleaned of every piece of metadata, then encrypted at rest.

A phone photo carries GPS coordinates, the camera's serial number and the time it was taken
(EXIF, XMP, maker notes), which could identify the person who took it. We decode the image,
turn it upright, copy only its pixels into a new image and encode that as a fresh JPEG, so
nothing from the original file survives but the picture. The result is encrypted with the
report's id as associated data and written under a server-made name.

Uploads are held in memory and refused past MAX_PHOTO_BYTES while they stream in, so a
photo with its metadata never reaches a temporary file on disk.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from vigil.core import crypto
from vigil.core.media import write_private_file
from vigil.intake.models import Report

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Beyond this many pixels a "photo" is more likely a decompression bomb than a picture.
MAX_PIXELS = 50_000_000
# Stored photos are scaled down to this longest edge: enough to read a vehicle or a uniform.
MAX_EDGE = 3072
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "HEIF")
PHOTO_DIR = "reports"
NAME_PATTERN = re.compile(r"^reports/[0-9a-f]{32}\.jpg\.enc$")
COLUMN = "photo"

NOT_AN_IMAGE = _("This file is not a photo we can read. Send a JPEG, PNG or WebP picture, or leave it out.")
TOO_LARGE = _("This photo is too large. Send a photo of at most 10 MB.")
BROKEN = _("This photo seems damaged or incomplete. Try taking or choosing it again.")


class PhotoRejected(ValueError):
    def __init__(self, message: StrPromise, *, too_large: bool = False) -> None:
        super().__init__(str(message))
        self.message = message
        self.too_large = too_large


def _openable_formats() -> list[str]:
    Image.init()
    return [name for name in ACCEPTED_FORMATS if name in Image.OPEN]


def accept_attribute() -> str:
    """The file input's `accept`. HEIC only when Pillow can open it: otherwise iPhones, seeing
    it is not accepted, convert their HEIC photos to JPEG before sending."""
    types = ["image/jpeg", "image/png", "image/webp"]
    if "HEIF" in _openable_formats():
        types += ["image/heic", "image/heif"]
    return ",".join(types)


def sanitize_photo(data: bytes) -> bytes:
    """A new JPEG holding only the pixels of `data` (upright), or PhotoRejected."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRejected(TOO_LARGE, too_large=True)
    if not data:
        raise PhotoRejected(NOT_AN_IMAGE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_openable_formats())
        except (Image.UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(NOT_AN_IMAGE) from None
        except Exception:  # noqa: BLE001 - Pillow's parsers raise many types on hostile headers
            raise PhotoRejected(NOT_AN_IMAGE) from None
        with image:
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoRejected(NOT_AN_IMAGE)
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise PhotoRejected(NOT_AN_IMAGE)
            try:
                # JPEGs decode straight to a smaller scale: far less memory for a 48 MP photo.
                image.draft("RGB", (MAX_EDGE, MAX_EDGE))
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = _flatten(upright)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise PhotoRejected(NOT_AN_IMAGE) from None
            except Exception:  # noqa: BLE001 - truncated or corrupt data fails in many ways
                raise PhotoRejected(BROKEN) from None
    rgb.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    # A new image from raw pixels has an empty `info`: no EXIF, XMP, ICC, comments or text.
    fresh = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    fresh.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _path(name: str) -> Path:
    # The name comes from the database; check it is one we made before touching the disk.
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError("not a stored photo name")
    return Path(settings.MEDIA_ROOT) / name


def _row(report_id: uuid.UUID | str) -> str:
    return str(report_id)


def store_photo(clean_jpeg: bytes, *, report_id: uuid.UUID) -> str:
    """Encrypt and write a sanitized photo; returns the server-made name to keep on the report."""
    name = f"{PHOTO_DIR}/{uuid.uuid4().hex}.jpg.enc"
    sealed = crypto.encrypt(clean_jpeg, table=Report._meta.db_table, column=COLUMN, row=_row(report_id))
    path = _path(name)
    write_private_file(path, sealed)
    return name


def read_photo(report: Report) -> bytes:
    """The decrypted JPEG of a report's photo. Raises FileNotFoundError, DataLocked or TamperedCiphertext."""
    if not report.photo_name:
        raise FileNotFoundError("this report has no photo")
    sealed = _path(report.photo_name).read_bytes()
    return crypto.decrypt(sealed, table=Report._meta.db_table, column=COLUMN, row=_row(report.pk))


def delete_photo(name: str) -> bool:
    """Remove a stored photo; False if it was already gone."""
    if not name:
        return False
    try:
        _path(name).unlink()
    except FileNotFoundError:
        return False
    return True


class PhotoUploadHandler(FileUploadHandler):
    """Keeps the one photo in memory and refuses it past MAX_PHOTO_BYTES (nothing hits the disk)."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.too_large = False
        self.files_seen = 0
        self.buffer = io.BytesIO()

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.files_seen += 1
        self.buffer = io.BytesIO()
        if field_name != "photo" or self.files_seen > 1:
            raise SkipFile()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > MAX_PHOTO_BYTES:
            self.too_large = True
            self.buffer = io.BytesIO()
            raise SkipFile()
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name="photo",
            content_type="application/octet-stream",
            size=file_size,
            charset=None,
            content_type_extra=None,
        )
