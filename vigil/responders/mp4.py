"""Removing metadata from MP4 and QuickTime videos without re-encoding them.

A phone video carries where it was filmed (`©xyz` in `moov/udta`, Apple's
`com.apple.quicktime.location.ISO6709` in `moov/meta`), the phone's make and model, and XMP
(in `uuid` boxes). Re-encoding would drop all of that but costs minutes of CPU per video
and a codec dependency; instead we walk the ISO-BMFF box tree and overwrite each metadata
box IN PLACE with a `free` box of exactly the same size whose payload is zeros. No byte
moves, so the chunk offsets in `stco`/`co64` stay valid and the video still plays.

What this does not reach (documented limits): metadata carried as *samples* inside `mdat`
(a timed-metadata track with per-frame GPS, as some action cameras and recent iPhones
write). Removing those needs re-muxing; the working copy of such a video still holds them.

A box is `size:u32 type:4cc [largesize:u64 if size == 1] [usertype:16 if type == 'uuid']`;
size 0 means "to the end of the file" (only legal for the last top-level box).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

# Boxes whose whole content is metadata: overwritten with a zeroed `free` box.
METADATA_TYPES = frozenset({b"udta", b"meta", b"uuid", b"XMP_"})
# Boxes we already treat as padding: their payload is zeroed too (editors leave old
# metadata behind in them when they rewrite a file).
PADDING_TYPES = frozenset({b"free", b"skip"})
# Boxes that only hold other boxes: walked into.
CONTAINER_TYPES = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"moof", b"traf", b"mfra", b"tref"}
)
MAX_DEPTH = 12
# The brands that make an ISO-BMFF file a still image (HEIF/HEIC/AVIF), not a video.
IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif", b"avis"})
QUICKTIME_BRAND = b"qt  "


class NotIsoBmff(ValueError):
    """Not an MP4/MOV file at all (no `ftyp` box first)."""


class BrokenVideo(ValueError):
    """An MP4/MOV file whose box tree is damaged or incomplete."""


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int
    header: int  # header length: 8, or 16 with a 64-bit largesize
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def boxes(data: bytes | bytearray | memoryview, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in data[start:end]; BrokenVideo if they do not fit exactly."""
    view = memoryview(data)
    limit = len(view) if end is None else end
    offset = start
    while offset < limit:
        if limit - offset < 8:
            raise BrokenVideo("truncated box header")
        size, kind = struct.unpack_from(">I4s", view, offset)
        header = 8
        if size == 1:
            if limit - offset < 16:
                raise BrokenVideo("truncated large box header")
            (size,) = struct.unpack_from(">Q", view, offset + 8)
            header = 16
        elif size == 0:
            size = limit - offset
        if size < header or offset + size > limit:
            raise BrokenVideo("box size out of bounds")
        yield Box(type=bytes(kind), start=offset, header=header, end=offset + size)
        offset += size


def is_iso_bmff(data: bytes | bytearray | memoryview) -> bool:
    return len(data) >= 8 and bytes(data[4:8]) == b"ftyp"


def brands(data: bytes | bytearray | memoryview) -> set[bytes]:
    """The major and compatible brands of the `ftyp` box (empty if there is none)."""
    if not is_iso_bmff(data):
        return set()
    try:
        ftyp = next(boxes(data, 0, None))
    except (BrokenVideo, StopIteration):
        return set()
    payload = bytes(memoryview(data)[ftyp.start + ftyp.header : ftyp.end])
    found = {payload[0:4]} if len(payload) >= 4 else set()
    found.update(payload[i : i + 4] for i in range(8, len(payload) - 3, 4))
    return found


def is_still_image(data: bytes | bytearray | memoryview) -> bool:
    """HEIF/HEIC/AVIF: ISO-BMFF too, but a photo (handled by the photo sanitizer)."""
    found = brands(data)
    return bool(found & IMAGE_BRANDS) and not found & {b"isom", b"mp41", b"mp42", QUICKTIME_BRAND, b"iso2"}


def content_type(data: bytes | bytearray | memoryview) -> str:
    major = bytes(memoryview(data)[8:12]) if is_iso_bmff(data) else b""
    return "video/quicktime" if major == QUICKTIME_BRAND else "video/mp4"


def _is_metadata(kind: bytes) -> bool:
    # '©xyz', '©nam', '©mak'...: QuickTime's user-data items start with the byte 0xA9.
    return kind in METADATA_TYPES or kind[:1] == b"\xa9"


def _blank(view: memoryview, box: Box) -> None:
    """Turn `box` into a `free` box of the same size with a zeroed payload."""
    view[box.start + 4 : box.start + 8] = b"free"
    view[box.start + box.header : box.end] = bytes(box.end - box.start - box.header)


def _walk(view: memoryview, start: int, end: int, depth: int, found: list[Box]) -> None:
    if depth > MAX_DEPTH:
        raise BrokenVideo("boxes nested too deep")
    for box in boxes(view, start, end):
        if _is_metadata(box.type) or box.type in PADDING_TYPES:
            found.append(box)
        elif box.type in CONTAINER_TYPES:
            _walk(view, box.start + box.header, box.end, depth + 1, found)


def check(data: bytes | bytearray | memoryview) -> list[Box]:
    """Parse the box tree; the top-level boxes, or NotIsoBmff / BrokenVideo."""
    if not is_iso_bmff(data):
        raise NotIsoBmff("no ftyp box first")
    top = list(boxes(data))
    kinds = {box.type for box in top}
    if b"moov" not in kinds:
        # Without its index a video does not play: most often an upload cut short.
        raise BrokenVideo("no moov box")
    view = memoryview(data)
    _walk(view, 0, len(view), 0, [])
    return top


def clean(data: bytearray) -> int:
    """Neutralise every metadata box of `data` in place; returns how many boxes were blanked.

    Raises NotIsoBmff or BrokenVideo before changing anything. The size of `data`, every box
    offset and the media data are unchanged.
    """
    check(data)
    view = memoryview(data)
    found: list[Box] = []
    _walk(view, 0, len(view), 0, found)
    for box in found:
        _blank(view, box)
    return sum(1 for box in found if box.type not in PADDING_TYPES)
