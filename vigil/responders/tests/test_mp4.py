"""Video metadata is neutralised in place: same size, same offsets, same media bytes."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from vigil.responders import mp4

GPS = b"+41.8575-087.6600/"
XMP_ID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # the XMP uuid
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>41,51.45N</exif:GPSLatitude>CanaryCam</x:xmpmeta>'
MEDIA = bytes(range(256)) * 8


def box(kind: bytes, payload: bytes = b"", *, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full(kind: bytes, payload: bytes) -> bytes:
    return box(kind, b"\0\0\0\0" + payload)


def sample_video(*, brand: bytes = b"isom", large_udta: bool = False, mdat_to_end: bool = False) -> bytes:
    """ftyp, uuid(XMP), moov(mvhd, trak(tkhd, meta, mdia(minf(stbl(stco))), udta), udta(©xyz, ©mak)), mdat.

    The stco entry points at the first media byte, whatever the layout before it."""
    ftyp = box(b"ftyp", brand + b"\0\0\0\0" + brand + b"mp41")
    xmp = box(b"uuid", XMP_ID + XMP)

    def moov(offset: int) -> bytes:
        stco = full(b"stco", struct.pack(">II", 1, offset))
        trak = box(
            b"trak",
            full(b"tkhd", b"\0" * 80)
            + full(b"meta", full(b"hdlr", b"\0" * 4 + b"mdta" + b"\0" * 12) + box(b"ilst", b"com.apple.location" + GPS))
            + box(b"mdia", box(b"minf", box(b"stbl", stco)))
            + box(b"udta", box(b"\xa9xyz", struct.pack(">HH", len(GPS), 0) + GPS)),
        )
        udta = box(
            b"udta",
            box(b"\xa9xyz", struct.pack(">HH", len(GPS), 0x15C7) + GPS) + box(b"\xa9mak", b"\0\x09\0\0CanaryCam"),
            large=large_udta,
        )
        return box(b"moov", full(b"mvhd", b"\0" * 96) + trak + udta)

    head = ftyp + xmp
    provisional = moov(0)
    media_offset = len(head) + len(provisional) + 8
    mdat = struct.pack(">I4s", 0 if mdat_to_end else 8 + len(MEDIA), b"mdat") + MEDIA
    return head + moov(media_offset) + mdat


def tree(data: bytes | bytearray, start: int = 0, end: int | None = None, depth: int = 0) -> list[tuple[int, bytes]]:
    found = []
    for item in mp4.boxes(data, start, end):
        found.append((depth, item.type))
        if item.type in mp4.CONTAINER_TYPES:
            found += tree(data, item.start + item.header, item.end, depth + 1)
    return found


def stco_offset(data: bytes | bytearray) -> int:
    at = bytes(data).index(b"\x00\x00\x00\x14stco") + 4
    return int(struct.unpack_from(">I", data, at + 12)[0])


@pytest.mark.parametrize(
    "options",
    [{}, {"large_udta": True}, {"mdat_to_end": True}, {"brand": b"qt  "}],
    ids=["mp4", "largesize", "size0", "mov"],
)
def test_gps_and_xmp_are_gone_and_nothing_moves(options: dict[str, object]) -> None:
    original = sample_video(**options)  # type: ignore[arg-type]
    assert GPS in original and b"CanaryCam" in original and b"xmpmeta" in original
    media_at = stco_offset(original)
    assert original[media_at : media_at + len(MEDIA)] == MEDIA

    data = bytearray(original)
    blanked = mp4.clean(data)

    assert blanked == 4  # uuid, trak/meta, trak/udta, moov/udta (with ©xyz and ©mak inside)
    assert len(data) == len(original)
    for marker in (GPS, b"CanaryCam", b"xmpmeta", XMP_ID, b"\xa9xyz", b"udta", b"uuid", b"com.apple"):
        assert marker not in data
    # The tree still parses, with the same boxes at the same places, metadata now `free`.
    before, after = tree(original), tree(data)
    assert len(before) == len(after)
    assert [kind for _, kind in after].count(b"free") == 4
    assert [item.start for item in mp4.boxes(data)] == [item.start for item in mp4.boxes(original)]
    # Media data and the chunk offset pointing at it are untouched.
    assert stco_offset(data) == media_at
    assert data[media_at : media_at + len(MEDIA)] == MEDIA
    assert data[-len(MEDIA) :] == MEDIA


def test_cleaning_twice_changes_nothing_more() -> None:
    data = bytearray(sample_video())
    mp4.clean(data)
    once = bytes(data)
    assert mp4.clean(data) == 0
    assert bytes(data) == once


def test_a_file_without_ftyp_first_is_refused_untouched() -> None:
    video = sample_video()
    moov_first = bytearray(video[video.index(b"moov") - 4 :])
    with pytest.raises(mp4.NotIsoBmff):
        mp4.clean(moov_first)
    with pytest.raises(mp4.NotIsoBmff):
        mp4.clean(bytearray(b"\xff\xd8\xff\xe0 a jpeg"))
    with pytest.raises(mp4.NotIsoBmff):
        mp4.clean(bytearray())


@pytest.mark.parametrize("cut", [3, 20, 200])
def test_a_truncated_or_damaged_video_is_refused_untouched(cut: int) -> None:
    video = sample_video()
    damaged = bytearray(video[:cut] if cut < 100 else video)
    if cut >= 100:
        struct.pack_into(">I", damaged, video.index(b"moov") - 4, 10**6)  # moov claims more than there is
    copy = bytes(damaged)
    with pytest.raises((mp4.BrokenVideo, mp4.NotIsoBmff)):
        mp4.clean(damaged)
    assert bytes(damaged) == copy


def test_a_video_without_moov_is_broken() -> None:
    data = bytearray(box(b"ftyp", b"isom\0\0\0\0isom") + box(b"mdat", MEDIA))
    with pytest.raises(mp4.BrokenVideo):
        mp4.clean(data)


def test_boxes_nested_too_deep_are_refused() -> None:
    inner = box(b"mdia", b"")
    for _ in range(40):
        inner = box(b"mdia", inner)
    with pytest.raises(mp4.BrokenVideo):
        mp4.clean(bytearray(box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", inner)))


def test_heif_is_a_photo_not_a_video() -> None:
    heic = box(b"ftyp", b"heic\0\0\0\0mif1heic") + box(b"meta", b"")
    assert mp4.is_still_image(heic)
    assert not mp4.is_still_image(sample_video())
    assert mp4.content_type(sample_video(brand=b"qt  ")) == "video/quicktime"
    assert mp4.content_type(sample_video()) == "video/mp4"


@pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None, reason="no ffmpeg here")
def test_a_real_video_still_plays_after_cleaning(tmp_path: Path) -> None:  # pragma: no cover - optional
    source = tmp_path / "in.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=64x64:rate=5",
            "-metadata",
            "location=+41.8575-087.6600/",
            "-y",
            str(source),
        ],  # fmt: skip
        check=True,
    )
    data = bytearray(source.read_bytes())
    mp4.clean(data)
    cleaned = tmp_path / "out.mp4"
    cleaned.write_bytes(data)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", str(cleaned)],
        check=True,
        capture_output=True,
    )
    assert b"41.8575" not in probe.stdout and b"codec_type=video" in probe.stdout
