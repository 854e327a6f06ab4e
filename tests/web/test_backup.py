"""`portal backup` and `portal restore`: an archive taken while requests are being written is
one consistent moment, and restores exactly; a damaged archive or a non-empty target is
refused with exit code 1 and nothing changed.

How the round trip is compared exactly although the writer goes on after the snapshot: the
writer is the only one writing, and after each of its commits it reads every table in one
transaction. Those reads are every state the database has had. The restored database must be
equal, row for row in every table, to one of them: the one with as many requests as it has.
A backup mixing two moments (rows of one, counters of another) matches none of them.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import FileStorage

from portal.core.database import write_intent
from portal.core.extensions import db
from portal.core.files import stage_files
from portal.core.storage import LocalFileStore, file_store
from portal.models import CatalogItem, ServiceRequest, User
from portal.requests import services as requests
from tests.conftest import GERID_VALUES, TEST_DATABASE_URL, make_app
from tests.files import png_bytes

Rows = dict[str, list[tuple[Any, ...]]]


def _restore_url(tmp_path: Path) -> str:
    """SQLite: a file that does not exist yet. PostgreSQL: a second database beside the test
    one (PORTAL_TEST_RESTORE_DATABASE_URL, else <test database>_restore), emptied here."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / 'restaurado.db'}"
    url = sa.make_url(
        os.environ.get("PORTAL_TEST_RESTORE_DATABASE_URL")
        or sa.make_url(TEST_DATABASE_URL).set(
            database=f"{sa.make_url(TEST_DATABASE_URL).database}_restore"
        )
    )
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    target = sa.create_engine(url)
    with target.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    target.dispose()
    return url.render_as_string(hide_password=False)


@pytest.fixture
def restore_app(app_config: dict[str, Any], tmp_path: Path) -> Flask:
    """The portal configured on an empty place: a new database and a new upload folder."""
    return make_app(
        {
            **app_config,
            "SQLALCHEMY_DATABASE_URI": _restore_url(tmp_path),
            "UPLOAD_DIR": tmp_path / "anexos-restaurados",
        }
    )


def _cli(application: Flask, *args: str) -> Any:
    # A fresh context: with_appcontext would otherwise reuse the test's app (the source).
    runner = application.test_cli_runner()
    return contextvars.Context().run(runner.invoke, args=["portal", *args])


def _dump(engine: sa.Engine) -> Rows:
    """Every row of every table, ordered, read in one transaction (one moment)."""
    options = {} if engine.dialect.name == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as conn:
        rows = {
            table.name: [
                tuple(row)
                for row in conn.execute(
                    sa.select(table).order_by(*(table.primary_key.columns or table.columns))
                )
            ]
            for table in db.metadata.sorted_tables
        }
        conn.rollback()
    return rows


def _target_is_empty(application: Flask) -> bool:
    def check() -> bool:
        with application.app_context():
            engine = db.engine
            if engine.dialect.name == "sqlite" and not Path(engine.url.database or "").exists():
                tables: list[str] = []
            else:
                tables = sa.inspect(engine).get_table_names()
            upload_dir = Path(application.config["UPLOAD_DIR"])
            files = [p for p in upload_dir.rglob("*") if p.is_file()] if upload_dir.exists() else []
            leftovers = list(upload_dir.parent.glob(".portal-restore-*"))
            return not tables and not files and not leftovers

    return contextvars.Context().run(check)


def _stage(user: User, name: str, data: bytes) -> list[Any]:
    pending, refused = stage_files(db.session, user, [FileStorage(io.BytesIO(data), name)])
    assert not refused
    return pending


def _open_request(user: User, item: CatalogItem, number: int) -> ServiceRequest:
    uploads = _stage(user, f"registro-{number}.txt", f"Registro {number} do escritor\n".encode())
    return requests.create_request(
        db.session,
        actor=user,
        item=item,
        requested_for=user,
        description=f"Pedido {number} aberto durante a cópia.",
        values=GERID_VALUES,
        uploads=uploads,
    )


@pytest.fixture
def seeded(app: Flask, make_user, make_request, catalog) -> User:
    """A request with a screenshot, and a file staged but not sent (pending_uploads)."""
    user = make_user("Joana Backup")
    make_user("Ana Atendente", role="agent", groups=["Suporte GERID"])
    screenshot = _stage(user, "print da tela.png", png_bytes())
    requests.create_request(
        db.session,
        actor=user,
        item=catalog["gerid"],
        requested_for=user,
        description="Pedido com anexo.",
        values=GERID_VALUES,
        uploads=screenshot,
    )
    _stage(user, "rascunho.txt", b"ainda nao enviado\n")
    db.session.commit()
    make_request(user, description="Pedido sem anexo.")
    return user


def _stored_files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_backup_during_writes_restores_one_exact_moment(
    app: Flask, seeded: User, catalog: dict[str, CatalogItem], restore_app: Flask, tmp_path: Path
) -> None:
    # Ids read here: touching the test's objects from the thread would load them through the
    # test's session, whose transaction the writer would then wait for.
    user_id, item_id = seeded.id, catalog["gerid"].id
    states: list[Rows] = [_dump(db.engine)]
    db.session.commit()
    started, backup_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        with app.app_context(), write_intent():
            try:
                user = db.session.get(User, user_id)
                item = db.session.get(CatalogItem, item_id)
                assert user is not None and item is not None
                after_backup = 0
                # Goes on until the backup has finished and one more request is in, so the
                # live database surely holds rows the archive must not have.
                while after_backup < 1 and len(states) < 200:
                    done = backup_done.is_set()
                    _open_request(user, item, len(states))
                    db.session.commit()
                    states.append(_dump(db.engine))
                    started.set()
                    after_backup += done
            except BaseException as exc:
                errors.append(exc)
                started.set()
            finally:
                db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(timeout=60)
        archive = tmp_path / "copia.tar.gz"
        result = _cli(app, "backup", "--output", str(archive))
    finally:
        backup_done.set()
        thread.join(timeout=120)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert "Cópia criada" in result.output

    restored_result = _cli(restore_app, "restore", str(archive), "--yes")
    assert restored_result.exit_code == 0, restored_result.output
    with restore_app.app_context():
        restored = _dump(db.engine)
        db.session.remove()

    # The writer's first commit came before the backup and its last one after it.
    assert 1 <= len(restored["service_requests"]) - 2 < len(states) - 1
    moment = states[len(restored["service_requests"]) - 2]
    for table, rows in moment.items():
        assert restored[table] == rows, f"table {table} differs from the snapshot's moment"

    # Files: exactly those the restored rows name, byte for byte, with their recorded hash.
    source_files = _stored_files(Path(app.config["UPLOAD_DIR"]))
    restored_root = Path(restore_app.config["UPLOAD_DIR"])
    restored_files = _stored_files(restored_root)
    names = {row.stored_name: row.sha256 for row in _file_rows(restore_app)}
    assert set(restored_files) == set(names)
    for key, sha in names.items():
        assert restored_files[key] == source_files[key]
        assert hashlib.sha256(restored_files[key]).hexdigest() == sha
        assert (restored_root / key[:2] / key).is_file()  # the store's own layout
    assert len(source_files) > len(restored_files)  # later files were left out

    # The restored portal goes on: its counters, sequences and triggers came along.
    def one_more() -> tuple[str, set[str]]:
        with restore_app.app_context():
            taken = set(db.session.scalars(sa.select(ServiceRequest.number)))
            user = db.session.scalar(sa.select(User).where(User.full_name == "Joana Backup"))
            item = db.session.scalar(sa.select(CatalogItem).where(CatalogItem.slug == "gerid"))
            assert user is not None and item is not None
            number = _open_request(user, item, 999).number
            db.session.commit()
            db.session.remove()
            return number, taken

    number, taken = contextvars.Context().run(one_more)
    assert number not in taken


def _file_rows(application: Flask) -> list[Any]:
    def read() -> list[Any]:
        with application.app_context():
            rows = db.session.execute(
                sa.text(
                    "SELECT stored_name, sha256 FROM attachments "
                    "UNION ALL SELECT stored_name, sha256 FROM pending_uploads"
                )
            ).all()
            db.session.remove()
            return list(rows)

    return contextvars.Context().run(read)


@pytest.fixture
def archive(app: Flask, seeded: User, tmp_path: Path) -> Path:
    path = tmp_path / "boa.tar.gz"
    result = _cli(app, "backup", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


def _members(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    with tarfile.open(path, "r:gz") as tar:
        data = {}
        for info in tar:
            handle = tar.extractfile(info)
            assert handle is not None
            with handle:
                data[info.name] = handle.read()
    return json.loads(data.pop("manifest.json")), data


def _repack(out: Path, manifest: dict[str, Any], data: dict[str, bytes]) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        for name, content in [*data.items(), ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return out


def _flip_database_byte(manifest: dict[str, Any], data: dict[str, bytes]) -> str:
    member = manifest["database"]["member"]
    content = bytearray(data[member])
    content[len(content) // 2] ^= 0x01
    data[member] = bytes(content)
    return "SHA-256 diferente"


def _remove_a_file(manifest: dict[str, Any], data: dict[str, bytes]) -> str:
    name = next(n for n in data if n.startswith("files/"))
    del data[name]
    return f"falta {name}"


def _edit_manifest_checksum(manifest: dict[str, Any], data: dict[str, bytes]) -> str:
    entry = next(m for m in manifest["members"] if m["path"].startswith("files/"))
    entry["sha256"] = "0" * 64
    return "não confere com o manifesto"


def _climb_out(manifest: dict[str, Any], data: dict[str, bytes]) -> str:
    data["../fora.txt"] = b"escapou"
    manifest["members"].append(
        {"path": "../fora.txt", "size": 7, "sha256": hashlib.sha256(b"escapou").hexdigest()}
    )
    return "caminho inseguro"


def _absolute(manifest: dict[str, Any], data: dict[str, bytes]) -> str:
    data["/tmp/portal-restore-absoluto.txt"] = b"x"
    return "caminho inseguro"


def _extra_member(manifest: dict[str, Any], data: dict[str, bytes]) -> str:
    data["files/ab/abcdef"] = b"intruso"
    return "files/ab/abcdef não está no manifesto"


DAMAGES: dict[str, Callable[[dict[str, Any], dict[str, bytes]], str]] = {
    "byte trocado no banco": _flip_database_byte,
    "arquivo removido": _remove_a_file,
    "checksum do manifesto editado": _edit_manifest_checksum,
    "membro com ../": _climb_out,
    "membro absoluto": _absolute,
    "membro fora do manifesto": _extra_member,
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_a_damaged_archive_is_refused_and_nothing_changes(
    archive: Path, restore_app: Flask, tmp_path: Path, damage: str
) -> None:
    manifest, data = _members(archive)
    expected = DAMAGES[damage](manifest, data)
    damaged = _repack(tmp_path / "danificada.tar.gz", manifest, data)
    assert _target_is_empty(restore_app)
    result = _cli(restore_app, "restore", str(damaged), "--yes")
    assert result.exit_code == 1, result.output
    assert expected in result.output and "Nada foi alterado" in result.output
    assert _target_is_empty(restore_app)
    assert not (Path(restore_app.config["UPLOAD_DIR"]).parent / "fora.txt").exists()
    assert not Path("/tmp/portal-restore-absoluto.txt").exists()


def test_a_truncated_archive_is_refused(archive: Path, restore_app: Flask, tmp_path: Path) -> None:
    cut = tmp_path / "cortada.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    result = _cli(restore_app, "restore", str(cut), "--yes")
    assert result.exit_code == 1 and "Cópia danificada" in result.output, result.output
    assert _target_is_empty(restore_app)


def test_the_untouched_archive_restores(archive: Path, restore_app: Flask) -> None:
    """The damaged cases above differ from this one only by their damage."""
    result = _cli(restore_app, "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    assert "2 arquivo(s)" in result.output
    assert not _target_is_empty(restore_app)


def test_restore_into_a_non_empty_database_is_refused(app: Flask, archive: Path) -> None:
    before = _dump(db.engine)
    db.session.commit()
    result = _cli(app, "restore", str(archive), "--yes")
    assert result.exit_code == 1
    assert "não está vazio" in result.output and "PORTAL_DATABASE_URL" in result.output
    assert _dump(db.engine) == before


def test_restore_into_a_non_empty_file_store_is_refused(archive: Path, restore_app: Flask) -> None:
    upload_dir = Path(restore_app.config["UPLOAD_DIR"])
    LocalFileStore(upload_dir).save(b"de outro portal")
    result = _cli(restore_app, "restore", str(archive), "--yes")
    assert result.exit_code == 1
    assert "pasta de anexos" in result.output and "PORTAL_UPLOAD_DIR" in result.output
    with restore_app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            assert not Path(engine.url.database or "").exists()
        else:
            assert sa.inspect(engine).get_table_names() == []
    assert len(_stored_files(upload_dir)) == 1


def test_backup_refuses_to_overwrite_and_manifest_lists_every_member(
    app: Flask, archive: Path
) -> None:
    again = _cli(app, "backup", "--output", str(archive))
    assert again.exit_code == 1 and "já existe" in again.output
    manifest, data = _members(archive)
    assert manifest["format"] == "portal-backup" and manifest["format_version"] == 1
    assert manifest["database"]["dialect"] == db.engine.dialect.name
    assert manifest["alembic_revision"] and manifest["created_at"].endswith("Z")
    listed = {m["path"]: m for m in manifest["members"]}
    assert set(listed) == set(data)
    for name, content in data.items():
        assert listed[name]["size"] == len(content)
        assert listed[name]["sha256"] == hashlib.sha256(content).hexdigest()
    assert oct(archive.stat().st_mode & 0o777) == oct(0o600)
    assert not list(archive.parent.glob("*.partial"))


def test_a_file_missing_from_the_store_is_a_warning(
    app: Flask, seeded: User, tmp_path: Path
) -> None:
    key = db.session.scalar(sa.text("SELECT stored_name FROM pending_uploads"))
    db.session.commit()
    file_store().delete(key)
    path = tmp_path / "com-aviso.tar.gz"
    result = _cli(app, "backup", "--output", str(path))
    assert result.exit_code == 0, result.output
    manifest, data = _members(path)
    assert any(key in w and "ausente" in w for w in manifest["warnings"])
    assert f"files/{key[:2]}/{key}" not in data


def test_backup_into_a_folder_names_the_archive_by_time(app: Flask, tmp_path: Path) -> None:
    result = _cli(app, "backup", "--output", f"{tmp_path / 'copias'}/")
    assert result.exit_code == 0, result.output
    [made] = (tmp_path / "copias").iterdir()
    assert made.name.startswith("portal-backup-") and made.name.endswith("Z.tar.gz")
