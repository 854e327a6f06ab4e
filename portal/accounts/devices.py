"""A readable summary of a User-Agent header ("Chrome no Windows") for Sessões ativas and the
sign-in history. Deliberately tiny: people recognise their own browser, nothing more is needed,
and the full header is shown beside it for the curious.
"""

from __future__ import annotations

import re
from typing import Final

# Order matters: browsers built on Chrome also say "Chrome", and Chrome also says "Safari".
_BROWSERS: Final = (
    (re.compile(r"\bEdg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"\b(OPR|Opera)/"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\b(Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\b(HeadlessChrome|Chrome|CriOS|Chromium)/"), "Chrome"),
    (re.compile(r"\bVersion/[\d.]+.*\bSafari/"), "Safari"),
    (re.compile(r"\b(MSIE |Trident/)"), "Internet Explorer"),
    (re.compile(r"^curl/"), "curl"),
)

_SYSTEMS: Final = (
    (re.compile(r"\b(iPhone|iPad|iPod)\b"), "iOS"),
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\b(Macintosh|Mac OS X)\b"), "macOS"),
    (re.compile(r"\bLinux\b"), "Linux"),
)

UNKNOWN: Final = "Dispositivo desconhecido"


def _first(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str | None:
    return next((name for pattern, name in patterns if pattern.search(text)), None)


def describe(user_agent: str | None) -> str:
    """ "Chrome no Windows", "Safari no iOS", "Firefox", "Navegador no Linux" or
    "Dispositivo desconhecido"."""
    text = (user_agent or "").strip()
    browser = _first(_BROWSERS, text)
    system = _first(_SYSTEMS, text)
    if browser and system:
        return f"{browser} no {system}"
    if browser:
        return browser
    if system:
        return f"Navegador no {system}"
    return UNKNOWN
