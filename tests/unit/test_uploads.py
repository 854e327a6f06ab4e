"""Upload checks by content, whatever the name says."""

from __future__ import annotations

import pytest

from portal.core.files import UploadRefused, inspect, safe_filename
from tests.files import EXE, HTML, SVG, docx_bytes, pdf_bytes, png_bytes, zip_bytes

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
