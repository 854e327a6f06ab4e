"""`portal backup`: one archive with the database, the stored files and a manifest.

The archive is a tar.gz: it is written as a stream (no second pass over the files), every
Unix machine can list it (`tar tzf`), and gzip's own CRC catches a truncated copy before our
checksums do. Its members:

    database/portal.sqlite3   SQLite: a copy made with the online backup API
    database/portal.pgdump    PostgreSQL: `pg_dump --format=custom`
    files/<ab>/<abcdef...>    the stored files, in the LocalFileStore layout
    manifest.json             format, when, revision, dialect, size and SHA-256 of each member

Consistency: the database is copied first, as one snapshot, and only then are the files it
names copied. A file is saved in the store before the row naming it commits (core/files), so
every row of the snapshot has its file, and files written later are left out. A file removed
between the snapshot and the copy is named in the manifest's warnings instead of failing.
Restoring (portal/core/restore.py) checks all of this before it writes anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any, BinaryIO

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine

from portal.core.storage import FileStore
from portal.core.timeutil import utcnow

FORMAT = "portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/portal.sqlite3"
POSTGRES_MEMBER = "database/portal.pgdump"
FILES_DIR = "files"
# Every column with this name holds a key of the file store (attachments, pending_uploads).
# The snapshot's own schema is read, so a future table following the convention is included.
FILE_COLUMN = "stored_name"
_KEY = re.compile(r"[0-9A-Za-z]{2,}")
_PG_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message (Portuguese) says what and why."""


@dataclass
class BackupResult:
    path: Path
    revision: str | None
    files: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Snapshot:
    """The database copied to a local file, with what was read from that same snapshot."""

    path: Path
    member: str
    revision: str | None
    keys: list[tuple[str, str]]  # (table, stored file key), ordered
    database: dict[str, Any]


def member_for_key(key: str) -> str:
    """The archive path of a stored file: the same two-level layout as LocalFileStore."""
    return f"{FILES_DIR}/{key[:2]}/{key}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_backup_path(directory: Path) -> Path:
    """instance/backups/portal-backup-20260131T235959Z.tar.gz (UTC, sorts by time)."""
    return directory / f"portal-backup-{utcnow():%Y%m%dT%H%M%SZ}.tar.gz"


def portal_version() -> str:
    try:
        return metadata.version("portal-atendimento")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "desconhecida"


def libpq_command(url: URL) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump/pg_restore/psql and the environment it needs.

    The password goes in PGPASSWORD, never on the command line where `ps` shows it.
    """
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str, server_major: int) -> str:
    """The path of a PostgreSQL client tool not older than the server (a pg_dump older than
    the server refuses to dump it, and a pg_restore older than the dump cannot read it)."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} não foi encontrado no PATH. Instale o cliente do PostgreSQL "
            f"{server_major} (Debian: apt-get install postgresql-client-{server_major})."
        )
    output = subprocess.run(  # noqa: S603 (a fixed tool found on PATH, no shell)
        [found, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = _PG_VERSION.search(output)
    major = int(match.group(1)) if match else 0
    if major < server_major:
        raise BackupError(
            f"{name} {major} é mais antigo que o servidor PostgreSQL {server_major}: "
            f"instale o cliente {server_major} ou mais novo."
        )
    return found


def run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-3:]
        raise BackupError(f"{what} falhou (código {done.returncode}): {' | '.join(detail)}")


# ------------------------------------------------------------------ the database snapshot


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("Só um banco SQLite em arquivo pode ser copiado.")
    return Path(database)


def _snapshot_sqlite(engine: Engine, workdir: Path) -> _Snapshot:
    source_path = _sqlite_path(engine)
    if not source_path.is_file():
        raise BackupError(f"O banco SQLite {source_path} não existe.")
    target = workdir / "portal.sqlite3"
    source = sqlite3.connect(source_path, timeout=15)
    copy = sqlite3.connect(target)
    try:
        # pages=-1: one step, under one read transaction, so the copy is one consistent
        # moment; with WAL the portal's writers go on meanwhile.
        source.backup(copy, pages=-1)
        # A self-contained file: no -wal beside it to lose.
        copy.execute("PRAGMA journal_mode=DELETE")
        tables = [
            row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        keys: list[tuple[str, str]] = []
        for table in sorted(tables):
            columns = {row[1] for row in copy.execute(f'PRAGMA table_info("{table}")')}
            if FILE_COLUMN in columns:
                rows = copy.execute(
                    f'SELECT {FILE_COLUMN} FROM "{table}" WHERE {FILE_COLUMN} IS NOT NULL'  # noqa: S608
                )
                keys.extend((table, row[0]) for row in rows)
        revision = None
        if "alembic_version" in tables:
            found = copy.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = found[0] if found else None
    finally:
        copy.close()
        source.close()
    return _Snapshot(
        target,
        SQLITE_MEMBER,
        revision,
        sorted(keys),
        {"dialect": "sqlite", "format": "sqlite3", "sqlite_version": sqlite3.sqlite_version},
    )


def _pg_server_major(conn: Connection) -> tuple[int, str]:
    version = str(conn.scalar(text("SHOW server_version")))
    match = _PG_VERSION.match(version)
    return (int(match.group(1)) if match else 0), version


def _snapshot_postgres(engine: Engine, workdir: Path) -> _Snapshot:
    target = workdir / "portal.pgdump"
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.execute(text("SET TRANSACTION READ ONLY"))
        major, version = _pg_server_major(conn)
        pg_dump = pg_tool("pg_dump", major)
        # pg_dump joins this transaction's snapshot, so the dump and the file names read
        # here are the same moment; the transaction stays open until pg_dump ends.
        snapshot_id = str(conn.scalar(text("SELECT pg_export_snapshot()")))
        tables = [
            str(name)
            for name in conn.scalars(
                text(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND column_name = :column "
                    "ORDER BY table_name"
                ),
                {"column": FILE_COLUMN},
            )
        ]
        keys: list[tuple[str, str]] = []
        for table in tables:
            query = f'SELECT {FILE_COLUMN} FROM "{table}" WHERE {FILE_COLUMN} IS NOT NULL'  # noqa: S608
            keys.extend((table, str(key)) for key in conn.scalars(text(query)))
        has_alembic = conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        revision = (
            conn.scalar(text("SELECT version_num FROM alembic_version")) if has_alembic else None
        )
        dsn, env = libpq_command(engine.url)
        run_tool(
            [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--file", str(target), dsn],
            env,
            "pg_dump",
        )
        conn.rollback()
    return _Snapshot(
        target,
        POSTGRES_MEMBER,
        revision,
        sorted(keys),
        {"dialect": "postgresql", "format": "pg_dump-custom", "server_version": version},
    )


# ------------------------------------------------------------------ the archive


class _HashingReader:
    """Hands tarfile the bytes of a file while adding them up, so each is read once."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, handle: IO[bytes], size: int, when: datetime) -> str:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(when.timestamp())
    reader = _HashingReader(handle)
    tar.addfile(info, reader)  # tarfile only calls read()
    return reader.digest.hexdigest()


def _size(handle: BinaryIO) -> int:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(0)
    return size


def create_backup(engine: Engine, store: FileStore, output: Path) -> BackupResult:
    """Write the archive to `output` (through a .partial file renamed at the end, so a copy
    that was interrupted is never taken for a whole one)."""
    if output.exists():
        raise BackupError(f"{output} já existe; escolha outro nome com --output.")
    output.parent.mkdir(parents=True, exist_ok=True)
    created_at = utcnow()
    partial = output.with_name(output.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="portal-backup-") as workdir:
        snap = (
            _snapshot_sqlite(engine, Path(workdir))
            if engine.dialect.name == "sqlite"
            else _snapshot_postgres(engine, Path(workdir))
        )
        members: list[dict[str, Any]] = []
        warnings: list[str] = []
        # Owner-only from the first byte: the archive holds personal data and password hashes.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                size = snap.path.stat().st_size
                with snap.path.open("rb") as handle:
                    digest = _add(tar, snap.member, handle, size, created_at)
                members.append({"path": snap.member, "size": size, "sha256": digest})
                for table, key in _unique(snap.keys):
                    entry = _add_stored_file(tar, store, table, key, created_at, warnings)
                    if entry is not None:
                        members.append(entry)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": created_at.isoformat().replace("+00:00", "Z"),
                    "portal_version": portal_version(),
                    "alembic_revision": snap.revision,
                    "database": {**snap.database, "member": snap.member},
                    "members": members,
                    "warnings": warnings,
                }
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                _add(tar, MANIFEST, io.BytesIO(data), len(data), created_at)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(output, snap.revision, len(members) - 1, warnings)


def _unique(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for table, key in keys:
        if key not in seen:
            seen.add(key)
            out.append((table, key))
    return out


def _add_stored_file(
    tar: tarfile.TarFile,
    store: FileStore,
    table: str,
    key: str,
    when: datetime,
    warnings: list[str],
) -> dict[str, Any] | None:
    if not _KEY.fullmatch(key):
        warnings.append(f"{table}.{FILE_COLUMN} com nome inválido ignorado: {key!r}")
        return None
    try:
        handle = store.open(key)
    except (FileNotFoundError, ValueError):
        warnings.append(f"{table}.{FILE_COLUMN} {key}: arquivo ausente do armazenamento")
        return None
    with handle:
        size = _size(handle)
        name = member_for_key(key)
        digest = _add(tar, name, handle, size, when)
    return {"path": name, "size": size, "sha256": digest}
