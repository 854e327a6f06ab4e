"""Upload checks by content, whatever the name says."""

from __future__ import annotations

import hashlib

import pytest

from portal.core.files import UploadRefused, inspect, safe_filename
from tests.files import (
    EXE,
    GIF_COMMENT_POLYGLOT,
    HTML,
    SVG,
    docx_bytes,
    jpeg_with_gps,
    ooxml_bytes,
    pdf_bytes,
    png_bytes,
    polyglot,
    zip_bytes,
)

LIMIT = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("print.png", png_bytes(), "image/png"),
        ("foto.jpg", png_bytes(), "image/png"),  # the content decides, not the name
        ("relatorio.pdf", pdf_bytes(), "application/pdf"),
        (
            "oficio.docx",
            docx_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("logs.zip", zip_bytes(), "application/zip"),
        ("dados.csv", "nome;cpf\nJoão;123\n".encode(), "text/csv"),
        ("nota.txt", "Olá, mundo".encode("cp1252"), "text/plain"),
    ],
)
def test_accepted_types(name: str, data: bytes, mime: str) -> None:
    assert inspect(name, data, LIMIT).content_type == mime


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("desenho.svg", SVG),
        ("imagem.png", SVG),  # SVG renamed: still refused
        ("pagina.html", HTML),
        ("relatorio.pdf", HTML),
        ("nota.txt", HTML),  # markup inside a .txt
        ("programa.exe", EXE),
        ("documento.pdf", EXE),
        ("binario.txt", b"abc\x00def"),
        ("sem-tipo.dat", b"just some bytes"),
        ("vazio.pdf", b""),
    ],
)
def test_refused_types_name_the_file(name: str, data: bytes) -> None:
    with pytest.raises(UploadRefused) as error:
        inspect(name, data, LIMIT)
    assert name in str(error.value)


def test_size_limit_names_the_file() -> None:
    with pytest.raises(UploadRefused, match=r"grande\.pdf.*limite de 1 MB"):
        inspect("grande.pdf", pdf_bytes() + b"0" * LIMIT, LIMIT)


def test_docx_is_confirmed_by_its_entry_list() -> None:
    """A zip that only looks like Word (no [Content_Types].xml) is not taken for a document."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/x.xml", "x")
    with pytest.raises(UploadRefused):
        inspect("a.docx", buffer.getvalue(), LIMIT)


def test_safe_filename_strips_paths_and_control_characters() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\relatório.pdf") == "relatório.pdf"
    assert safe_filename("a\x00b\nc.txt") == "abc.txt"
    assert safe_filename("") == "arquivo"
    assert len(safe_filename("x" * 400 + ".pdf")) <= 180
    assert safe_filename("x" * 400 + ".pdf").endswith(".pdf")


# ------------------------------------------------------------------ looking inside (issue 20)


@pytest.mark.parametrize(("fmt", "name"), [("GIF", "a.gif"), ("PNG", "b.png"), ("JPEG", "c.jpg")])
def test_polyglot_image_is_stored_rebuilt(fmt: str, name: str) -> None:
    """The bytes to store are the rebuilt image: no HTML, and size and sha256 are theirs."""
    found = inspect(name, polyglot(fmt), LIMIT)
    assert found.content_type == f"image/{fmt.lower()}"
    assert b"<script" not in found.data and b"<html" not in found.data
    assert found.size == len(found.data)
    assert found.sha256 == hashlib.sha256(found.data).hexdigest()


def test_stored_photo_has_no_exif() -> None:
    found = inspect("foto.jpg", jpeg_with_gps(), LIMIT)
    assert b"Exif" not in found.data


def test_clean_files_other_than_images_are_stored_as_sent() -> None:
    for name, data in [("a.pdf", pdf_bytes()), ("b.docx", docx_bytes()), ("c.txt", b"a < b")]:
        assert inspect(name, data, LIMIT).data == data


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("comentario.gif", GIF_COMMENT_POLYGLOT, "não é uma imagem válida"),
        ("cortada.png", png_bytes()[:47], "não é uma imagem válida"),
        ("relatorio.pdf", b"%PDF-1.4\n" + b"lixo " * 40, "não é um PDF válido"),
        ("macro.docx", ooxml_bytes(extra={"word/vbaProject.bin": b"VBA"}), "contém macros"),
        ("notas.txt", b"# comentario\n<script>alert(1)</script>", "contém marcação"),
        ("dados.csv", b"a;b\n" * 400 + b"1;<svg onload=alert(1)>", "contém marcação"),
    ],
)
def test_refused_after_looking_inside_names_the_file(name: str, data: bytes, why: str) -> None:
    with pytest.raises(UploadRefused) as error:
        inspect(name, data, LIMIT)
    assert f"O arquivo “{name}” {why}" in str(error.value)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("comentado.txt", b"<!-- c --><svg onload=alert(1)></svg>"),
        ("comentado.png", b"  <!-- c -->\n<svg onload=alert(1)></svg>"),
        ("declarado.csv", b'<?xml version="1.0"?><!-- c --><svg/>'),
        ("bom.txt", b"\xef\xbb\xbf\n<svg onload=alert(1)>"),
        ("x.svg", png_bytes()),  # a real PNG, but a name a browser would render as SVG
        ("x.SVGZ", png_bytes()),
        ("x.html", b"texto"),
        ("x.xml", pdf_bytes()),
        ("x.js", b"texto"),
    ],
)
def test_markup_and_active_names_are_refused(name: str, data: bytes) -> None:
    with pytest.raises(UploadRefused, match="não é de um tipo permitido") as error:
        inspect(name, data, LIMIT)
    assert name in str(error.value)
