"""Small real files for upload tests, built in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    """A real one-page PDF: uploads must open as a PDF with a page (file_checks.check_pdf)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><document/>')
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("leia-me.txt", "conteúdo")
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


# ---------------------------------------------------------------- polyglots and documents
# Built here with Pillow and zipfile, never committed as binary blobs.

SCRIPT = b"<html><script>alert(1)</script></html>"


def image_bytes(fmt: str, size: tuple[int, int] = (16, 8), **options: object) -> bytes:
    """A small real image in Pillow's format `fmt`: two 8-pixel blocks (so JPEG, which codes
    8×8 blocks, stays close to it) and one odd pixel."""
    from PIL import Image

    image = Image.new("RGB", size, (200, 30, 40))
    image.paste((10, 200, 30), (0, 0, size[0] // 2, size[1]))
    image.putpixel((size[0] - 1, size[1] - 1), (0, 0, 250))
    if fmt == "GIF":
        image = image.quantize(colors=4)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def polyglot(fmt: str) -> bytes:
    """A real image with an HTML document and a script appended after its end."""
    return image_bytes(fmt) + SCRIPT


GIF_COMMENT_POLYGLOT = b"GIF89a/*" + SCRIPT + b"*/=1;"


def jpeg_with_gps() -> bytes:
    """A JPEG photo whose EXIF says who made the camera and where the photo was taken."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Make"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (12.0, 58.0, 17.0)  # latitude 12°58'17" S: Salvador
    gps[3], gps[4] = "W", (38.0, 30.0, 39.0)
    return image_bytes("JPEG", size=(16, 16), exif=exif)


def png_header_bytes(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions in a few bytes (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def ooxml_bytes(
    part: str = "word/document.xml",
    content_types: str = '<?xml version="1.0"?><Types/>',
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A minimal OOXML package (docx by default, xlsx with part="xl/workbook.xml")."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr(part, '<?xml version="1.0"?><document/>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


ODT_MIME = "application/vnd.oasis.opendocument.text"


def odt_bytes(extra: dict[str, bytes] | None = None, manifest: str = "") -> bytes:
    """A minimal ODF text document: the stored `mimetype` entry first, as the standard says."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", ODT_MIME, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest>'
            '<manifest:file-entry manifest:full-path="/" '
            f'manifest:media-type="{ODT_MIME}"/>{manifest}</manifest:manifest>',
        )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()
