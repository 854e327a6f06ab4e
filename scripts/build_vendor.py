"""Copy what the portal serves from node_modules into static/vendor (git-ignored).

Only local files are served (no CDN): the gov.br Design System CSS, Font Awesome 5 (the icon
font gov.br DS expects), Raleway, the free font Rawline (gov.br's own) derives from, and
Swagger UI for the API's documentation page.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"
RALEWAY_WEIGHTS = ("400", "600", "700")


def copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def raleway_css() -> str:
    """One stylesheet with the Latin faces only, pointing at files we copy beside it."""
    package = MODULES / "@fontsource" / "raleway"
    blocks = []
    for weight in RALEWAY_WEIGHTS:
        css = (package / f"{weight}.css").read_text("utf-8")
        for block in re.findall(r"/\*[^*]*\*/\s*@font-face\s*{[^}]*}", css):
            if "-latin-" in block and "latin-ext" not in block:
                blocks.append(block.replace("./files/", "files/"))
                for name in re.findall(r"files/([\w.-]+\.woff2?)", block):
                    copy(package / "files" / name, VENDOR / "raleway" / "files" / name)
    return "\n".join(blocks) + "\n"


def main() -> int:
    if not MODULES.is_dir():
        print("node_modules is missing: run `npm ci` first", file=sys.stderr)
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    govbr = MODULES / "@govbr-ds" / "core" / "dist"
    copy(govbr / "core.min.css", VENDOR / "govbr" / "core.min.css")
    fontawesome = MODULES / "@fortawesome" / "fontawesome-free"
    copy(fontawesome / "css" / "all.min.css", VENDOR / "fontawesome" / "css" / "all.min.css")
    copy(fontawesome / "webfonts", VENDOR / "fontawesome" / "webfonts")
    # Swagger UI for /api/v1/docs (started by static/js/api-docs.js: no inline script).
    swagger = MODULES / "swagger-ui-dist"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        copy(swagger / name, VENDOR / "swagger-ui" / name)
    (VENDOR / "raleway").mkdir(parents=True, exist_ok=True)
    (VENDOR / "raleway" / "raleway.css").write_text(raleway_css(), "utf-8")
    remote = [
        str(p.relative_to(VENDOR))
        for p in VENDOR.rglob("*.css")
        if re.search(r"url\(\s*['\"]?(https?:)?//", p.read_text("utf-8"))
        or "@import" in p.read_text("utf-8")
    ]
    if remote:
        print(f"remote references in vendor CSS: {remote}", file=sys.stderr)
        return 1
    print(f"static/vendor built ({sum(1 for _ in VENDOR.rglob('*') if _.is_file())} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
