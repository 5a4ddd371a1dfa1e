"""A9: photos keep no metadata, get a server-made name, and are encrypted at rest."""

import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms

from vigil.core import crypto
from vigil.intake import uploads
from vigil.intake.models import Report
from vigil.intake.tests.helpers import send_report

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="41,51.45N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def phone_photo(size: tuple[int, int] = (64, 32), orientation: int | None = None, fmt: str = "JPEG") -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.putpixel((0, 0), (0, 0, 255))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CanaryCam"
    exif[ExifTags.Base.BodySerialNumber] = "SN-778812"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (41.0, 51.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (87.0, 39.0, 36.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = BytesIO()
    extra = {"comment": b"canary-comment"} if fmt == "JPEG" else {}
    image.save(out, fmt, exif=exif, xmp=XMP, icc_profile=icc, **extra)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def upload(data: bytes, name: str = "IMG_0001 at Maria's house.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_photo_with_gps_is_stored_without_any_metadata_under_a_server_made_name(neighbour, db, media_root):
    original = phone_photo()
    assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    response = send_report(neighbour, photo=upload(original))

    assert response.status_code == 200
    report = Report.objects.get()
    assert uploads.NAME_PATTERN.fullmatch(report.photo_name)
    assert "IMG" not in report.photo_name and "Maria" not in report.photo_name
    [stored] = stored_files(media_root)
    assert stored == media_root / report.photo_name
    sealed = stored.read_bytes()
    assert sealed[:2] == b"V1" and b"\xff\xd8" not in sealed[:64]
    clean = uploads.read_photo(report)
    image = Image.open(BytesIO(clean))
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "icc_profile", "comment", "photoshop"} & set(image.info)
    for marker in (b"Exif", b"CanaryCam", b"SN-778812", b"adobe:ns:meta", b"canary-comment", b"ICC_PROFILE"):
        assert marker not in clean


def test_a_png_or_webp_photo_is_stored_as_a_clean_jpeg(neighbour, db):
    for fmt in ("PNG", "WEBP"):
        send_report(neighbour, photo=upload(phone_photo(fmt=fmt), name="x.bin", content_type="image/png"))

    for report in Report.objects.all():
        clean = Image.open(BytesIO(uploads.read_photo(report)))
        assert clean.format == "JPEG"
        assert len(clean.getexif()) == 0


def test_a_sideways_photo_is_stored_upright(neighbour, db):
    send_report(neighbour, photo=upload(phone_photo(size=(64, 32), orientation=6)))

    image = Image.open(BytesIO(uploads.read_photo(Report.objects.get())))
    assert image.size == (32, 64)


def test_a_photo_with_transparency_is_flattened():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = BytesIO()
    image.save(out, "PNG")

    clean = Image.open(BytesIO(uploads.sanitize_photo(out.getvalue())))

    assert clean.mode == "RGB"
    assert clean.getpixel((5, 5)) == (255, 255, 255)


def test_a_photo_cannot_be_read_as_another_reports(neighbour, db, media_root):
    send_report(neighbour, photo=upload(phone_photo()))
    report = Report.objects.get()
    sealed = (media_root / report.photo_name).read_bytes()

    with pytest.raises(crypto.TamperedCiphertext):
        crypto.decrypt(sealed, table="intake_report", column="photo", row="another-report")


def test_a_deleted_photo_is_gone_from_disk(neighbour, db, media_root):
    send_report(neighbour, photo=upload(phone_photo()))
    report = Report.objects.get()

    assert uploads.delete_photo(report.photo_name) is True

    assert stored_files(media_root) == []
    assert uploads.delete_photo(report.photo_name) is False
    with pytest.raises(FileNotFoundError):
        uploads.read_photo(report)


def test_a_photo_name_that_we_did_not_make_is_never_opened():
    with pytest.raises(ValueError):
        uploads.delete_photo("../../settings.py")
    with pytest.raises(ValueError):
        uploads.read_photo(Report(photo_name="reports/../../../etc/passwd"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >>", "not a photo we can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "not a photo we can read"),
        (b"GIF89a" + b"\0" * 40, "not a photo we can read"),
        (png_claiming(100_000, 100_000), "not a photo we can read"),
        (png_claiming(9_000, 9_000), "not a photo we can read"),
        (b"", "The submitted file is empty"),
    ],
    ids=["pdf", "svg", "gif", "decompression-bomb", "too-many-pixels", "empty"],
)
def test_a_file_that_is_not_a_usable_photo_is_refused_and_nothing_is_stored(neighbour, db, media_root, data, message):
    response = send_report(neighbour, photo=upload(data))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Report.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_truncated_photo_is_refused_and_nothing_is_stored(neighbour, db, media_root):
    image = Image.effect_noise((400, 300), 64).convert("RGB")
    out = BytesIO()
    image.save(out, "JPEG", quality=95)
    truncated = out.getvalue()[: len(out.getvalue()) // 2]

    response = send_report(neighbour, photo=upload(truncated))

    assert response.status_code == 400
    assert "damaged or incomplete" in response.content.decode()
    assert Report.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_photo_over_10_mb_is_refused_with_413(neighbour, db, media_root):
    too_big = phone_photo() + b"\0" * (uploads.MAX_PHOTO_BYTES + 1)

    response = send_report(neighbour, photo=upload(too_big))

    assert response.status_code == 413
    assert "at most 10 MB" in response.content.decode()
    assert Report.objects.count() == 0
    assert stored_files(media_root) == []


def test_files_in_other_fields_are_ignored(neighbour, db, media_root):
    response = send_report(neighbour, details=upload(phone_photo()), extra=upload(b"x"))

    assert response.status_code == 200
    assert Report.objects.get().photo_name == ""
    assert stored_files(media_root) == []


def test_when_the_form_comes_back_the_person_is_asked_to_choose_the_photo_again(neighbour, db, media_root):
    response = send_report(neighbour, photo=upload(phone_photo()), contact_phone="nope")

    assert response.status_code == 400
    assert "choose the photo again" in response.content.decode()
    assert stored_files(media_root) == []
