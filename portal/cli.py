"""Command line: `flask --app wsgi portal ...` or the `portal` console script."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_migrate import upgrade

from portal.accounts import services as accounts
from portal.clients import services as clients
from portal.core.actors import COMMAND_LINE
from portal.core.errors import ServiceError
from portal.core.extensions import db

portal_cli = AppGroup("portal", help="Administração do Portal de Atendimento.")
org_cli = AppGroup("org", help="Entes (organizações clientes).")
user_cli = AppGroup("user", help="Usuários.")
mail_cli = AppGroup("mail", help="E-mails que não puderam ser entregues.")
audit_cli = AppGroup("audit", help="Trilha de auditoria.")
portal_cli.add_command(org_cli)
portal_cli.add_command(user_cli)
portal_cli.add_command(mail_cli)
portal_cli.add_command(audit_cli)


def _fail(exc: Exception) -> None:
    db.session.rollback()
    raise click.ClickException(str(exc))


@portal_cli.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade()
    click.echo("Banco de dados atualizado.")


@portal_cli.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load the demo organisations, users, catalog and requests (safe to run again)."""
    from portal.demo import DEMO_PASSWORD, load_demo_data

    summary = load_demo_data(db.session)
    db.session.commit()
    click.echo(summary)
    click.echo(f"Senha de todas as contas de demonstração: {DEMO_PASSWORD}")


@org_cli.command("load-ibge")
@with_appcontext
def org_load_ibge() -> None:
    """Load the 27 UFs and 5,570 municípios (IBGE) as known organisations, and the clients'
    default reference data (company types, categories, occurrence categories)."""
    from portal.clients.reference import ensure_reference_data

    try:
        added = clients.load_ibge_organisations(db.session, COMMAND_LINE)
        ensure_reference_data(db.session)
        db.session.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Entes do IBGE adicionados: {added}.")


@org_cli.command("create")
@click.option("--identifier", required=True, help="Código IBGE ou CNPJ.")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["municipio", "estado", "outro"]), required=True)
@click.option("--uf", default=None)
@with_appcontext
def org_create(identifier: str, name: str, kind: str, uf: str | None) -> None:
    """Register an organisation ("ente")."""
    try:
        org = clients.create_organisation(
            db.session, COMMAND_LINE, identifier=identifier, name=name, kind=kind, uf=uf
        )
        db.session.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Ente criado: {org.identifier} {org.name}")


@user_cli.command("create")
@click.option("--cpf", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["requester", "agent", "admin"]), default="requester")
@click.option("--org", "org_identifier", required=True, help="Identificador do ente.")
@click.option("--password", default=None, help="Sem senha: o usuário usa “Esqueci minha senha”.")
@click.option("--phone", default=None)
@click.option("--group", "groups", multiple=True, help="Grupo de suporte (atendentes).")
@with_appcontext
def user_create(
    cpf: str,
    full_name: str,
    email: str,
    role: str,
    org_identifier: str,
    password: str | None,
    phone: str | None,
    groups: tuple[str, ...],
) -> None:
    """Create a user; agents may be put in support groups with --group."""
    try:
        org = clients.find_organisation(db.session, org_identifier)
        group_objs = [
            accounts.find_or_create_group(db.session, COMMAND_LINE, name) for name in groups
        ]
        user = accounts.create_user(
            db.session,
            COMMAND_LINE,
            cpf=cpf,
            full_name=full_name,
            email=email,
            role=role,
            organisation=org,
            password=password,
            phone=phone,
            groups=group_objs,
        )
        db.session.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Usuário criado: {user.full_name} ({user.role.value})")


@user_cli.command("set-password")
@click.option("--cpf", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def user_set_password(cpf: str, password: str) -> None:
    """Set a user's password (ends the user's sessions)."""
    from sqlalchemy import select

    from portal.accounts.models import User

    try:
        digits = accounts.parse_cpf(cpf)
        user = db.session.scalar(select(User).where(User.cpf == digits))
        if user is None:
            raise ServiceError("Usuário não encontrado.")
        accounts.set_password(db.session, COMMAND_LINE, user, password)
        db.session.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo("Senha alterada.")


@user_cli.command("cadastro")
@click.option("--cpf", required=True)
@click.option("--revoke", is_flag=True, help="Retirar a permissão.")
@with_appcontext
def user_cadastro(cpf: str, revoke: bool) -> None:
    """Give an agent the "cadastro" permission (register and edit clients), or take it."""
    from sqlalchemy import select

    from portal.accounts.models import User

    try:
        user = db.session.scalar(select(User).where(User.cpf == accounts.parse_cpf(cpf)))
        if user is None:
            raise ServiceError("Usuário não encontrado.")
        accounts.set_client_registration(db.session, COMMAND_LINE, user, not revoke)
        db.session.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo("Permissão de cadastro retirada." if revoke else "Permissão de cadastro dada.")


@mail_cli.command("failed")
@with_appcontext
def mail_failed() -> None:
    """List the messages given up after the last attempt (newest first)."""
    from portal.core.outbox import failed_messages

    rows = failed_messages(db.session)
    if not rows:
        click.echo("Nenhum e-mail com falha.")
        return
    for row in rows:
        click.echo(
            f"#{row.id}  {row.created_at:%d/%m/%Y %H:%M}  {row.recipient}  {row.subject}  "
            f"({row.attempts} tentativas: {row.last_error})"
        )


@mail_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
@with_appcontext
def mail_retry(ids: tuple[int, ...]) -> None:
    """Queue failed messages again (all of them, or the ids given) after fixing SMTP."""
    from portal.core.outbox import retry_failed

    count = retry_failed(db.session, list(ids) if ids else None)
    db.session.commit()
    click.echo(f"{count} e-mail(s) de volta à fila.")


@audit_cli.command("verify")
@click.option("--head", "expected_head", default=None, help="Hash da última entrada anotado antes.")
@with_appcontext
def audit_verify(expected_head: str | None) -> None:
    """Walk the audit chain: exit 0 when it is whole, 1 naming the first entry altered or
    removed. Removing the last entries leaves a whole chain: note the head it prints
    elsewhere, and pass it later with --head."""
    from portal.core.audit_chain import verify

    report = verify(db.session, expected_head=expected_head)
    db.session.rollback()
    if not report.ok:
        click.echo(report.summary, err=True)
        sys.exit(1)
    click.echo(report.summary)


@portal_cli.command("backup")
@click.option(
    "--output",
    default=None,
    help="Arquivo .tar.gz a criar, ou pasta (termine com /) onde criá-lo. "
    "Padrão: instance/backups/portal-backup-<data UTC>.tar.gz",
)
@with_appcontext
def backup_command(output: str | None) -> None:
    """Copy the database, the stored files and a manifest into one tar.gz archive."""
    from portal.core.backup import BackupError, create_backup, default_backup_path
    from portal.core.storage import file_store

    if output is None:
        path = default_backup_path(Path(current_app.instance_path) / "backups")
    elif output.endswith("/") or Path(output).is_dir():
        path = default_backup_path(Path(output))
    else:
        path = Path(output)
    try:
        result = create_backup(db.engine, file_store(), path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in result.warnings:
        click.echo(f"Aviso: {warning}", err=True)
    click.echo(
        f"Cópia criada: {result.path} (revisão {result.revision}, {result.files} arquivo(s))."
    )


@portal_cli.command("restore")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="Não pedir confirmação.")
@with_appcontext
def restore_command(archive: Path, yes: bool) -> None:
    """Check an archive of `portal backup` and restore it into an EMPTY database and file
    store; a damaged archive or a non-empty target is refused and nothing is changed."""
    from portal.core.backup import BackupError
    from portal.core.restore import restore_backup
    from portal.core.storage import LocalFileStore, file_store

    store = file_store()
    if not isinstance(store, LocalFileStore):
        raise click.ClickException("A restauração grava só no armazenamento local de arquivos.")
    target = db.engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Restaurar {archive} em {target} e {store.root}?", abort=True)
    try:
        result = restore_backup(archive, db.engine, store)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in result.warnings:
        click.echo(f"Aviso registrado na cópia: {warning}", err=True)
    click.echo(
        f"Restauração concluída: cópia de {result.created_at}, revisão {result.revision}, "
        f"{result.files} arquivo(s). Se este portal for mais novo, rode `portal init`."
    )


@portal_cli.command("run-jobs")
@click.option("--once", is_flag=True, help="Run each job once and exit (cron, tests).")
@with_appcontext
def run_jobs_command(once: bool) -> None:
    """Run the scheduled jobs once; the long-running scheduler is `python scheduler.py`."""
    from portal import jobs

    if not once:
        raise click.UsageError("Use --once, or run the scheduler process: python scheduler.py")
    for name, result in jobs.run_all_once(db.session).items():
        click.echo(f"{name}: {result}")


def register(app: Flask) -> None:
    app.cli.add_command(portal_cli)


def main() -> None:
    """The `portal` console script: the same commands without `flask --app wsgi portal`."""
    from portal import create_app

    cli = FlaskGroup(create_app=create_app, help="Portal de Atendimento.")
    for name, command in portal_cli.commands.items():
        cli.add_command(command, name)
    sys.exit(cli.main())
