"""`portal restore`: put an archive of `portal backup` back, only into an empty place.

Nothing is written until the whole archive has been read and checked against its manifest:
every member listed is there with its size and SHA-256, nothing else is there, and no path
could land outside the staging folder (absolute, `..`, links, devices). Then the targets must
be empty: a database without tables (SQLite: no file yet) and a file store without files.
Overwriting a live portal by mistake is the failure a restore must never have, so there is no
--force: point PORTAL_DATABASE_URL and PORTAL_UPLOAD_DIR at an empty place instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal.core.backup import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    libpq_command,
    pg_tool,
    run_tool,
)
from portal.core.storage import LocalFileStore

_FILE_MEMBER = re.compile(r"files/([0-9A-Za-z]{2})/([0-9A-Za-z]+)")
_DATABASE_MEMBERS = {"sqlite": SQLITE_MEMBER, "postgresql": POSTGRES_MEMBER}
_EMPTY_HINT = (
    "A restauração só grava num lugar vazio: aponte PORTAL_DATABASE_URL para um banco novo "
    "(SQLite: um arquivo que ainda não existe; PostgreSQL: um banco criado com createdb, sem "
    "tabelas) e PORTAL_UPLOAD_DIR para uma pasta vazia ou inexistente, e tente de novo."
)


@dataclass
class RestoreResult:
    revision: str | None
    files: int
    created_at: str
    warnings: list[str] = field(default_factory=list)


def check_member_name(name: str) -> None:
    """Refuse any member name that is not one we write: absolute, `..`, or unknown."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise BackupError(
            f"Cópia recusada: caminho inseguro {name!r} (absoluto ou com '..'). Nada foi alterado."
        )
    file_match = _FILE_MEMBER.fullmatch(name)
    known = name == MANIFEST or name in _DATABASE_MEMBERS.values()
    if not known and not (file_match and file_match.group(2)[:2] == file_match.group(1)):
        raise BackupError(f"Cópia recusada: membro inesperado {name!r}. Nada foi alterado.")


def _copy_hashed(source: IO[bytes], target: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _extract(archive: Path, staging: Path) -> dict[str, tuple[int, str]]:
    """Every member written under `staging`, with its size and SHA-256 as read."""
    seen: dict[str, tuple[int, str]] = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for info in tar:
                check_member_name(info.name)
                if not info.isreg():
                    raise BackupError(
                        f"Cópia recusada: {info.name!r} não é um arquivo comum "
                        "(link ou dispositivo). Nada foi alterado."
                    )
                if info.name in seen:
                    raise BackupError(f"Cópia recusada: {info.name!r} aparece duas vezes.")
                source = tar.extractfile(info)
                if source is None:  # pragma: no cover - isreg() members always have data
                    raise BackupError(f"Cópia recusada: {info.name!r} sem conteúdo.")
                target = staging / info.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with source:
                    seen[info.name] = _copy_hashed(source, target)
    except FileNotFoundError as exc:
        raise BackupError(f"Arquivo de cópia não encontrado: {archive}") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(
            f"Cópia danificada: {archive.name} não é um tar.gz legível ({exc}). Nada foi alterado."
        ) from exc
    return seen


def _check_manifest(seen: dict[str, tuple[int, str]], staging: Path) -> dict[str, Any]:
    if MANIFEST not in seen:
        raise BackupError(f"Cópia recusada: falta o {MANIFEST}. Nada foi alterado.")
    try:
        manifest = json.loads((staging / MANIFEST).read_text("utf-8"))
        members = {m["path"]: (int(m["size"]), str(m["sha256"])) for m in manifest["members"]}
        database = manifest["database"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"Cópia recusada: {MANIFEST} ilegível ({exc}).") from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"Cópia recusada: formato {manifest.get('format')!r} versão "
            f"{manifest.get('format_version')!r}; esta versão do portal lê {FORMAT} "
            f"versão {FORMAT_VERSION}."
        )
    problems: list[str] = []
    for path, (size, digest) in members.items():
        check_member_name(path)
        if path not in seen:
            problems.append(f"falta {path}")
        elif seen[path][0] != size:
            problems.append(f"{path} tem {seen[path][0]} bytes, o manifesto diz {size}")
        elif seen[path][1] != digest:
            problems.append(f"{path} não confere com o manifesto (SHA-256 diferente)")
    extra = sorted(set(seen) - set(members) - {MANIFEST})
    problems.extend(f"{path} não está no manifesto" for path in extra)
    dialect = database.get("dialect")
    if dialect not in _DATABASE_MEMBERS or database.get("member") != _DATABASE_MEMBERS[dialect]:
        problems.append("o manifesto não aponta um banco de dados conhecido")
    elif database["member"] not in members:
        problems.append("o manifesto não aponta um banco de dados da cópia")
    if problems:
        raise BackupError(
            "Cópia danificada, restauração recusada: "
            + "; ".join(problems[:10])
            + (f" (e mais {len(problems) - 10})" if len(problems) > 10 else "")
            + ". Nada foi alterado."
        )
    checked: dict[str, Any] = manifest
    return checked


# ------------------------------------------------------------------ the targets must be empty


def _sqlite_tables(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"O destino {path} não é um banco SQLite vazio ({exc}).") from exc


def _postgres_tables(engine: Engine) -> int:
    with engine.connect() as conn:
        count = conn.scalar(
            text(
                "SELECT count(*) FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
            )
        )
        conn.rollback()
    return int(count or 0)


def _check_targets_empty(engine: Engine, dialect: str, upload_dir: Path) -> None:
    if engine.dialect.name != dialect:
        raise BackupError(
            f"A cópia é de um banco {dialect} e PORTAL_DATABASE_URL aponta para um banco "
            f"{engine.dialect.name}: restaure num banco do mesmo tipo."
        )
    if dialect == "sqlite":
        path = Path(engine.url.database or "")
        tables = _sqlite_tables(path)
        where = str(path)
    else:
        tables = _postgres_tables(engine)
        where = engine.url.render_as_string(hide_password=True)
    if tables:
        raise BackupError(
            f"Restauração recusada: o banco de destino {where} não está vazio ({tables} "
            f"objetos). {_EMPTY_HINT}"
        )
    if upload_dir.exists() and any(p.is_file() for p in upload_dir.rglob("*")):
        raise BackupError(
            f"Restauração recusada: a pasta de anexos {upload_dir} não está vazia. {_EMPTY_HINT}"
        )


# ------------------------------------------------------------------ writing


def _restore_sqlite(snapshot: Path, engine: Engine) -> None:
    path = Path(engine.url.database or "")
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(snapshot)
    target = sqlite3.connect(path, timeout=15)
    try:
        source.backup(target, pages=-1)  # one transaction on the target: all or nothing
    except sqlite3.Error as exc:
        target.close()
        if not existed:
            path.unlink(missing_ok=True)
        raise BackupError(f"Falha ao gravar o banco SQLite {path}: {exc}") from exc
    finally:
        source.close()
    target.close()


def _restore_postgres(dump: Path, engine: Engine) -> None:
    with engine.connect() as conn:
        version = str(conn.scalar(text("SHOW server_version")))
        conn.rollback()
    match = re.match(r"\d+", version)
    pg_restore = pg_tool("pg_restore", int(match.group(0)) if match else 0)
    dsn, env = libpq_command(engine.url)
    run_tool(
        # One transaction: a failure leaves the database as empty as it was.
        [pg_restore, "--single-transaction", "--exit-on-error", "--no-owner",
         "--no-privileges", "--dbname", dsn, str(dump)],
        env,
        "pg_restore",
    )  # fmt: skip


def _place_files(staging: Path, members: list[str], store: LocalFileStore) -> int:
    count = 0
    for name in members:
        match = _FILE_MEMBER.fullmatch(name)
        if match is None:
            continue
        key = match.group(2)
        target = store.path(key)  # the store's own layout
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging / name, target)
        count += 1
    return count


def restore_backup(archive: Path, engine: Engine, store: LocalFileStore) -> RestoreResult:
    """Check the archive, then the targets, then write the database and the files."""
    upload_dir = store.root
    # Staged beside the file store, so the files are moved into place, not copied again.
    upload_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".portal-restore-", dir=upload_dir.parent) as tmp:
        staging = Path(tmp)
        seen = _extract(archive, staging)
        manifest = _check_manifest(seen, staging)
        database = manifest["database"]
        _check_targets_empty(engine, database["dialect"], upload_dir)
        snapshot = staging / database["member"]
        if database["dialect"] == "sqlite":
            _restore_sqlite(snapshot, engine)
        else:
            _restore_postgres(snapshot, engine)
        files = _place_files(staging, sorted(seen), store)
    return RestoreResult(
        revision=manifest.get("alembic_revision"),
        files=files,
        created_at=str(manifest.get("created_at")),
        warnings=list(manifest.get("warnings") or []),
    )
