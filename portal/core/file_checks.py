"""Looking inside a file: images rebuilt from their pixels, documents opened by their structure.

Pure functions, no Flask. `portal.core.files` decides what a file is (by content) and which of
these checks it gets, and turns a `Refused` into the form's message naming the file.

Why images are rebuilt rather than checked: a file can be a valid GIF and an HTML page at once
(markup after the image's end, or inside it), and no check of its first bytes tells. Decoding it
and encoding the pixels again keeps nothing but the picture, and also drops its metadata: a
photo's EXIF carries the GPS position where it was taken, which is personal data.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from PIL import Image, ImageOps
from pypdf import PasswordType, PdfReader

# Every frame together; at most ~200 MB decoded as RGBA, below Pillow's own bomb limit (89 MP)
# so that Pillow's warning never has to be relied on.
MAX_PIXELS = 50_000_000
MAX_FRAMES = 300
JPEG_QUALITY = 90
# Office packages: what they would unpack to, read from the zip's directory, never extracted.
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 10 * 1024 * 1024  # a small document can compress well; only a big ratio AND size
MAX_PART_READ = 1024 * 1024  # [Content_Types].xml and the ODF manifest are read this far at most

INVALID_IMAGE = "não é uma imagem válida."
IMAGE_TOO_LARGE = (
    f"é uma imagem grande demais: o limite é de {MAX_PIXELS // 1_000_000} megapixels "
    "(numa animação, somados todos os quadros)."
)
TOO_MANY_FRAMES = f"é uma animação com quadros demais: o limite é de {MAX_FRAMES} quadros."
INVALID_PDF = "não é um PDF válido (não foi possível abri-lo)."
HAS_MACROS = "contém macros, que não são aceitas. Salve-o sem macros e envie novamente."
TOO_BIG_UNPACKED = "descompactado ficaria grande demais; não é aceito."
INVALID_DOCUMENT = "não é um documento válido."
UNREADABLE_PART = "não pôde ser lido por inteiro, então não é possível conferir se tem macros."
HAS_MARKUP = "contém marcação HTML, SVG ou XML, que não é aceita em arquivos de texto."

# mime → (format written, formats Pillow may read it as). Reading with only the expected
# plugins means a PNG can never be decoded as something else. MPO is how Pillow opens a JPEG
# carrying several pictures (phones' depth maps); only the first is kept.
_FORMATS: dict[str, tuple[str, list[str]]] = {
    "image/jpeg": ("JPEG", ["JPEG", "MPO"]),
    "image/png": ("PNG", ["PNG"]),
    "image/gif": ("GIF", ["GIF"]),
    "image/webp": ("WEBP", ["WEBP"]),
    "image/bmp": ("BMP", ["BMP"]),
    "image/tiff": ("TIFF", ["TIFF"]),
}
_MULTI_FRAME = {"PNG", "GIF", "WEBP", "TIFF"}  # every frame kept (animations, TIFF pages)

_ACTIVE_MARKUP = re.compile(
    rb"<(?:script|html|svg|iframe|!doctype|\?xml|head|body)(?![a-z0-9_-])", re.IGNORECASE
)
_OOXML_MACRO_PART = re.compile(
    r"(?:^|/)(?:vbaproject\.bin|vbadata\.xml)$|(?:^|/)(?:intl)?macrosheets/", re.IGNORECASE
)
_OOXML_MACRO_TYPE = re.compile(rb"macroenabled|vbaproject|macrosheet", re.IGNORECASE)
_ODF_MACRO_PART = re.compile(r"^(?:basic|scripts)/", re.IGNORECASE)
_ODF_MACRO_MANIFEST = re.compile(
    rb'full-path="(?:basic|scripts)/|media-type="[^"]*(?:script|basic|python)', re.IGNORECASE
)


class Refused(ValueError):
    """Why a file is refused: the end of a Portuguese sentence that starts with its name."""


# ------------------------------------------------------------------ images


def rebuild_image(mime: str, data: bytes) -> bytes:
    """The image of this type re-encoded from its decoded pixels, in the same format.

    Whatever trails the image or hides in its metadata is gone; EXIF orientation is applied to
    the pixels first so the picture still stands the right way up without its EXIF.
    """
    target, readers = _FORMATS[mime]
    try:
        with Image.open(io.BytesIO(data), formats=readers) as image:
            frames = getattr(image, "n_frames", 1) if target in _MULTI_FRAME else 1
            if frames > MAX_FRAMES:
                raise Refused(TOO_MANY_FRAMES)
            if image.width * image.height * frames > MAX_PIXELS:
                raise Refused(IMAGE_TOO_LARGE)
            pictures, durations = _decode(image, frames)
            loop = image.info.get("loop")
        # a lossless WebP (VP8L) stays lossless; a lossy one is encoded like a JPEG
        lossless = target == "WEBP" and b"VP8L" in data
        return _encode(target, pictures, durations, loop, lossless)
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused(IMAGE_TOO_LARGE) from exc
    except Exception as exc:  # hostile input fails in many ways in a decoder: none is an image
        raise Refused(INVALID_IMAGE) from exc


def _decode(image: Image.Image, frames: int) -> tuple[list[Image.Image], list[int]]:
    if frames == 1:
        image.load()
        return [_pixels_only(_upright(image))], []
    pictures: list[Image.Image] = []
    durations: list[int] = []
    for index in range(frames):
        image.seek(index)
        image.load()  # Pillow composes each frame over the previous: full frames come out
        pictures.append(_pixels_only(image))
        durations.append(int(image.info.get("duration") or 100))
    return pictures, durations


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not refuse a good photo: keep it as stored
        return image


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding only the pixels (and the palette they index): empty `info`, so no
    EXIF, ICC profile, comments or text chunks can be written out again."""
    if "transparency" in image.info or image.mode == "PA":
        # transparency lives in `info`, which is dropped: carry it in the pixels instead
        image = image.convert("RGBA")
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    if image.mode == "P" and (palette := image.getpalette()) is not None:
        clean.putpalette(palette)
    return clean


def _encode(
    target: str, pictures: list[Image.Image], durations: list[int], loop: object, lossless: bool
) -> bytes:
    first, rest = pictures[0], pictures[1:]
    options: dict[str, Any] = {}
    if target == "JPEG":
        options["quality"] = JPEG_QUALITY
        if first.mode not in ("L", "RGB", "CMYK"):
            first = first.convert("RGB")
    elif target == "WEBP":
        options.update(quality=JPEG_QUALITY, lossless=lossless)
    elif target == "TIFF":
        options["compression"] = "tiff_deflate"  # uncompressed pages could pass the size limit
    if rest:
        options.update(save_all=True, append_images=rest)
        if target != "TIFF":
            options["duration"] = durations
            if isinstance(loop, int):
                options["loop"] = loop
    out = io.BytesIO()
    first.save(out, format=target, **options)
    return out.getvalue()


# ------------------------------------------------------------------ documents


def check_pdf(data: bytes) -> None:
    """A PDF must open and have a page; one locked by a password is taken if it opens."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return  # its structure parsed; its pages need a password we do not have
        pages = len(reader.pages)
    except Exception as exc:  # pypdf raises many kinds on broken files: all mean "not a PDF"
        raise Refused(INVALID_PDF) from exc
    if pages < 1:
        raise Refused(INVALID_PDF)


def check_office(data: bytes, odf: bool) -> None:
    """An OOXML or ODF package (already confirmed by its entry list) without macros and that
    would not unpack to something huge. Only the zip's directory and two small parts are read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Refused(INVALID_DOCUMENT) from exc
    with archive:
        entries = archive.infolist()
        unpacked = sum(entry.file_size for entry in entries)
        too_dense = unpacked > RATIO_FLOOR and unpacked > MAX_RATIO * len(data)
        if unpacked > MAX_UNPACKED or too_dense:
            raise Refused(TOO_BIG_UNPACKED)
        if _has_macros(archive, [entry.filename for entry in entries], odf):
            raise Refused(HAS_MACROS)


def _has_macros(archive: zipfile.ZipFile, names: list[str], odf: bool) -> bool:
    """OOXML: a VBA project or Excel 4 macro sheets, by part name or declared content type.
    ODF: Basic/ or Scripts/ parts, or script entries in the manifest."""
    if odf:
        return any(_ODF_MACRO_PART.match(name) for name in names) or bool(
            _ODF_MACRO_MANIFEST.search(_read_part(archive, "META-INF/manifest.xml"))
        )
    return any(_OOXML_MACRO_PART.search(name) for name in names) or bool(
        _OOXML_MACRO_TYPE.search(_read_part(archive, "[Content_Types].xml"))
    )


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """Every entry of this name (a zip may hold two), each no longer than MAX_PART_READ."""
    found = b""
    for entry in archive.infolist():
        if entry.filename != name:
            continue
        if entry.file_size > MAX_PART_READ:
            raise Refused(UNREADABLE_PART)
        try:
            with archive.open(entry) as part:
                found += part.read(MAX_PART_READ) + b"\n"
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            # bad CRC, encrypted, unknown compression: the macro check cannot be made
            raise Refused(UNREADABLE_PART) from exc
    return found


# ------------------------------------------------------------------ text


def check_text(data: bytes) -> None:
    """A text file anywhere holding a tag a browser would act on is refused, not just at its
    start: a leading comment line must not hide a `<script>` further down."""
    if _ACTIVE_MARKUP.search(data):
        raise Refused(HAS_MARKUP)
