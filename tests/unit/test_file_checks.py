"""What `portal.core.file_checks` finds inside a file: images rebuilt from their pixels (no
trailing HTML, no EXIF), PDFs that must open, office packages without macros or bombs, text
without markup anywhere."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfWriter

from portal.core import file_checks
from portal.core.file_checks import Refused
from tests.files import (
    GIF_COMMENT_POLYGLOT,
    SCRIPT,
    docx_bytes,
    image_bytes,
    jpeg_with_gps,
    odt_bytes,
    ooxml_bytes,
    pdf_bytes,
    png_bytes,
    png_header_bytes,
    polyglot,
)

MIME = {
    "GIF": "image/gif",
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
LOSSY = {"JPEG", "WEBP"}


def _pixels(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA")


# ------------------------------------------------------------------ images


@pytest.mark.parametrize("fmt", list(MIME))
def test_polyglot_image_is_rebuilt_without_what_trails_it(fmt: str) -> None:
    sent = polyglot(fmt)
    assert SCRIPT in sent
    stored = file_checks.rebuild_image(MIME[fmt], sent)
    assert b"<script" not in stored.lower() and b"<html" not in stored.lower()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == fmt  # the format is kept
    before, after = _pixels(image_bytes(fmt)), _pixels(stored)
    assert before.size == after.size
    if fmt in LOSSY:  # encoded again at quality 90: close, not equal
        assert max(ImageStat.Stat(ImageChops.difference(before, after)).mean) < 8
    else:
        assert before.tobytes() == after.tobytes()


def test_gif_header_with_a_script_in_place_of_an_image_is_refused() -> None:
    with pytest.raises(Refused, match="não é uma imagem válida"):
        file_checks.rebuild_image("image/gif", GIF_COMMENT_POLYGLOT)


@pytest.mark.parametrize(
    ("mime", "data"),
    [
        ("image/png", png_bytes()[:47]),  # cut inside its compressed pixels
        ("image/jpeg", image_bytes("JPEG", size=(64, 64))[:300]),
        ("image/gif", b"GIF89a" + b"\x00" * 40),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10),
    ],
)
def test_image_that_does_not_decode_is_refused(mime: str, data: bytes) -> None:
    with pytest.raises(Refused, match="não é uma imagem válida"):
        file_checks.rebuild_image(mime, data)


def test_photo_loses_its_exif_and_gps_position() -> None:
    sent = jpeg_with_gps()
    with Image.open(io.BytesIO(sent)) as original:
        assert original.getexif().get_ifd(0x8825)  # the fixture does carry a position
    stored = file_checks.rebuild_image("image/jpeg", sent)
    assert b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and image.format == "JPEG"


def test_exif_orientation_is_applied_before_the_exif_goes() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown rotated 90° clockwise
    sent = image_bytes("JPEG", size=(8, 4), exif=exif)
    with Image.open(io.BytesIO(file_checks.rebuild_image("image/jpeg", sent))) as image:
        assert image.size == (4, 8)


def test_animated_gif_keeps_its_frames_and_timing() -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (3, 2), colour).quantize(colors=2) for colour in colours]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=70, loop=0)
    stored = file_checks.rebuild_image("image/gif", buffer.getvalue() + SCRIPT)
    assert b"<script" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.n_frames == 3 and image.info.get("loop") == 0
        for index, colour in enumerate(colours):
            image.seek(index)
            assert image.convert("RGB").getpixel((1, 1)) == colour
            assert image.info["duration"] == 70


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_transparency_survives(fmt: str) -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.putpixel((1, 0), 1)
    buffer = io.BytesIO()
    image.save(buffer, fmt, transparency=1)
    stored = file_checks.rebuild_image(MIME[fmt], buffer.getvalue())
    rebuilt = _pixels(stored)
    assert rebuilt.getpixel((0, 0)) == (255, 0, 0, 255)
    assert rebuilt.getpixel((1, 0))[3] == 0


@pytest.mark.parametrize(("width", "height"), [(8000, 8000), (100_000, 100_000)])
def test_decompression_bomb_is_refused_before_decoding(width: int, height: int) -> None:
    """8000×8000 is over our 50 MP limit (under Pillow's); 10^10 pixels trips Pillow's own."""
    with pytest.raises(Refused, match="grande demais"):
        file_checks.rebuild_image("image/png", png_header_bytes(width, height))


# ------------------------------------------------------------------ PDF


def test_pdf_that_opens_with_a_page_passes() -> None:
    file_checks.check_pdf(pdf_bytes())


def test_pdf_locked_by_a_password_passes_if_it_opens() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    writer.encrypt("segredo", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    file_checks.check_pdf(buffer.getvalue())


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + b"garbage " * 50,
        b"%PDF-1.4\n" + SCRIPT,
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    ],
)
def test_pdf_that_does_not_open_is_refused(data: bytes) -> None:
    with pytest.raises(Refused, match="não é um PDF válido"):
        file_checks.check_pdf(data)


def test_pdf_without_pages_is_refused() -> None:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    with pytest.raises(Refused, match="não é um PDF válido"):
        file_checks.check_pdf(buffer.getvalue())


# ------------------------------------------------------------------ office packages

XLSX_PART = "xl/workbook.xml"
MACRO_TYPES = (
    '<?xml version="1.0"?><Types><Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>'
)


@pytest.mark.parametrize(
    ("data", "odf"),
    [
        (docx_bytes(), False),
        (ooxml_bytes(), False),
        (ooxml_bytes(XLSX_PART, extra={"xl/printerSettings/printerSettings1.bin": b"\0"}), False),
        (odt_bytes(), True),
        (odt_bytes(extra={"styles.xml": b"<x/>" * 500_000}), True),  # dense but small: fine
    ],
)
def test_clean_office_documents_pass(data: bytes, odf: bool) -> None:
    file_checks.check_office(data, odf=odf)


@pytest.mark.parametrize(
    ("data", "odf"),
    [
        (ooxml_bytes(extra={"word/vbaProject.bin": b"VBA"}), False),
        (ooxml_bytes(XLSX_PART, extra={"xl/VBAPROJECT.BIN": b"VBA"}), False),
        (ooxml_bytes(XLSX_PART, content_types=MACRO_TYPES), False),
        (ooxml_bytes(XLSX_PART, extra={"xl/macrosheets/sheet1.xml": b"<x/>"}), False),
        (odt_bytes(extra={"Basic/Standard/Module1.xml": b"<module/>"}), True),
        (odt_bytes(extra={"Scripts/python/m.py": b"import os"}), True),
        (
            odt_bytes(
                manifest='<manifest:file-entry manifest:full-path="x/m.py" '
                'manifest:media-type="text/x-python-script"/>'
            ),
            True,
        ),
    ],
)
def test_office_documents_with_macros_are_refused(data: bytes, odf: bool) -> None:
    with pytest.raises(Refused, match="contém macros"):
        file_checks.check_office(data, odf=odf)


def test_office_zip_bomb_is_refused_without_extracting() -> None:
    packed = ooxml_bytes(extra={"word/media/zeros.bin": b"\0" * (11 * 1024 * 1024)})
    assert len(packed) < 100_000  # over 10 MB unpacked, over 100:1
    with pytest.raises(Refused, match="grande demais"):
        file_checks.check_office(packed, odf=False)


def test_duplicate_content_types_entry_is_read_too() -> None:
    buffer = io.BytesIO(ooxml_bytes(XLSX_PART))
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(buffer, "a") as archive,
    ):
        archive.writestr("[Content_Types].xml", MACRO_TYPES)
    with pytest.raises(Refused, match="contém macros"):
        file_checks.check_office(buffer.getvalue(), odf=False)


# ------------------------------------------------------------------ text


@pytest.mark.parametrize(
    "text",
    [
        b"# comentario\n<script>alert(1)</script>",
        b"linha 1\nlinha 2\n" * 1000 + b"<SVG onload=alert(1)>",
        b"nome;valor\nx;<iframe src=//x>",
        b"a\n<!DOCTYPE html>",
        b"a\n<?xml version='1.0'?>",
    ],
)
def test_text_with_markup_anywhere_is_refused(text: bytes) -> None:
    with pytest.raises(Refused, match="marcação"):
        file_checks.check_text(text)


@pytest.mark.parametrize(
    "text", [b"a < b e b > c", b"<3 obrigado", b"valor <scripted> sem tag real", b"x<html5"]
)
def test_plain_text_with_angle_brackets_passes(text: bytes) -> None:
    file_checks.check_text(text)
