"""Two-factor sign-in (TOTP): set-up with a QR and a confirming code, the code step after the
password (replay refused, shared throttle, recovery codes single-use and hashed), staff kept on
the set-up page until done, the pending state's five minutes, and the admin's reset."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.accounts import two_factor
from portal.accounts.models import RecoveryCode, SignInEvent, User, UserSession
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.core.secretbox import SecretUnreadable, open_sealed, seal
from portal.core.timeutil import utcnow
from tests.conftest import PASSWORD, TOTP_SECRETS, AuthActions, csrf_token_from, next_totp_code

CODE_PAGE = "/login/codigo"
SETUP_PAGE = "/perfil/dois-fatores"


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _reload(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def _password_step(auth: AuthActions, user: User) -> TestResponse:
    """Only the password step: the answer redirects to the code page."""
    token = auth.csrf("/login")
    response = auth.client.post(
        "/login", data={"cpf": user.cpf, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(CODE_PAGE)
    return response


def _send_code(auth: AuthActions, code: str) -> TestResponse:
    return auth.post(CODE_PAGE, {"code": code})


def _sessions_of(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _signed_in(client: FlaskClient) -> bool:
    with client.get("/perfil") as response:
        return response.status_code == 200


# ---------------------------------------------------------------- set-up


def test_setup_shows_a_qr_and_enables_only_with_a_valid_code(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    user = make_user("Felipe Solicitante")
    auth.login(user)
    page = _html(auth.client.get(SETUP_PAGE))
    assert re.search(r'<img class="two-factor-qr" src="data:image/svg\+xml', page)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert len(secret) == 32
    # The same secret until it is confirmed (the page can be reloaded while scanning).
    assert secret in _html(auth.client.get(SETUP_PAGE)).replace(" ", "")

    wrong = auth.post(
        SETUP_PAGE, {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    assert "Código incorreto" in _html(wrong)
    assert _reload(user).totp_enabled_at is None

    done = auth.post(SETUP_PAGE, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2})</code></li>", _html(done))
    assert len(set(codes)) == 10
    user = _reload(user)
    assert user.totp_enabled_at is not None
    # Stored sealed, never as typed; readable back with the app's key.
    assert secret not in (user.totp_secret or "")
    assert open_sealed(user.totp_secret or "", two_factor.PURPOSE) == secret
    entries = _audit("user.enable_two_factor")
    assert len(entries) == 1
    assert secret not in str(entries[0].after) and codes[0] not in str(entries[0].after)
    # Shown once: the management page has no codes, only how many remain.
    page = _html(auth.client.get(SETUP_PAGE))
    assert codes[0] not in page and "<strong>10</strong> de 10" in page


def test_recovery_codes_are_stored_hashed_only(app, make_user: Callable[..., User]) -> None:
    user = make_user(two_factor=False)
    secret = two_factor.new_secret()
    codes = two_factor.enable(db.session, user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
        assert hashlib.sha256(code.replace("-", "").encode()).hexdigest() in stored


def test_secretbox_refuses_another_key_or_purpose(app) -> None:
    sealed = seal("JBSWY3DPEHPK3PXP", "totp-secret")
    assert open_sealed(sealed, "totp-secret") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(SecretUnreadable):
        open_sealed(sealed, "totp-setup")
    with pytest.raises(SecretUnreadable):
        open_sealed(sealed, "totp-secret", secret_key="outra-chave")


# ---------------------------------------------------------------- the code step


def test_the_password_alone_never_opens_a_session(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    agent = make_user("Ana Atendente", role="agent")
    _password_step(auth, agent)
    assert _sessions_of(agent) == 0
    assert not _signed_in(auth.client)
    page = _html(auth.client.get(CODE_PAGE))
    assert "Código de verificação" in page and "Usar um código de recuperação" in page
    assert _reload(agent).last_login_at is None


def test_totp_sign_in_then_a_replayed_code_is_refused(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    agent = make_user("Ana Atendente", role="agent")
    _password_step(auth, agent)
    code = next_totp_code(agent.cpf)
    response = _send_code(auth, code)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _sessions_of(agent) == 1 and _signed_in(auth.client)
    outcomes = db.session.scalars(
        select(SignInEvent.outcome).where(SignInEvent.user_id == agent.id)
    )
    assert list(outcomes) == ["success"]
    auth.logout()

    _password_step(auth, agent)
    again = _send_code(auth, code)
    assert again.status_code == 400
    assert two_factor.WRONG_CODE in _html(again)
    assert _sessions_of(agent) == 1 and not _signed_in(auth.client)


def test_a_wrong_code_is_refused_and_counted(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    agent = make_user("Ana Atendente", role="agent")
    _password_step(auth, agent)
    right = next_totp_code(agent.cpf)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = _send_code(auth, wrong)
    assert response.status_code == 400 and two_factor.WRONG_CODE in _html(response)
    assert not _signed_in(auth.client) and _sessions_of(agent) == 0
    outcomes = db.session.scalars(
        select(SignInEvent.outcome).where(SignInEvent.user_id == agent.id)
    )
    assert list(outcomes) == ["wrong_code"]
    # The right code still works after one mistake.
    assert _send_code(auth, right).status_code == 302
    assert _signed_in(auth.client)


def test_five_wrong_codes_throttle_even_the_right_one(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    agent = make_user("Ana Atendente", role="agent")
    _password_step(auth, agent)
    right = next_totp_code(agent.cpf)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    # A new password step between mistakes must not reset the count (only a full sign-in does).
    for attempt in range(5):
        if attempt == 3:
            _password_step(auth, agent)
        assert _send_code(auth, wrong).status_code == 400
    throttled = _send_code(auth, right)
    assert throttled.status_code == 429
    assert "Muitas tentativas" in _html(throttled)
    assert not _signed_in(auth.client) and _sessions_of(agent) == 0


def test_recovery_codes_are_single_use(auth: AuthActions, make_user: Callable[..., User]) -> None:
    user = make_user("Felipe Solicitante", two_factor=False)
    secret = two_factor.new_secret()
    codes = two_factor.enable(db.session, user, secret, pyotp.TOTP(secret).now())
    db.session.commit()

    _password_step(auth, user)
    response = _send_code(auth, codes[3].upper().replace("-", " "))  # as people type it
    assert response.status_code == 302
    home = _html(auth.client.get("/"))
    assert "Restam 9 códigos" in home
    outcomes = db.session.scalars(select(SignInEvent.outcome).where(SignInEvent.user_id == user.id))
    assert list(outcomes) == ["recovery_code"]
    auth.logout()

    _password_step(auth, user)
    assert _send_code(auth, codes[3]).status_code == 400
    assert not _signed_in(auth.client)
    assert _send_code(auth, codes[4]).status_code == 302
    assert two_factor.recovery_codes_left(db.session, _reload(user)) == 8


def test_regenerated_codes_replace_the_old_ones(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    user = make_user("Felipe Solicitante", two_factor=False)
    secret = two_factor.new_secret()
    old = two_factor.enable(db.session, user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    TOTP_SECRETS[user.cpf] = secret
    auth.login(user)
    response = auth.post(f"{SETUP_PAGE}/codigos", page=SETUP_PAGE)
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", _html(response))
    assert len(new) == 10 and not set(new) & set(old)
    assert len(_audit("user.regenerate_recovery_codes")) == 1
    auth.logout()
    _password_step(auth, user)
    assert _send_code(auth, old[0]).status_code == 400
    assert _send_code(auth, new[0]).status_code == 302


def test_the_pending_state_expires_after_five_minutes(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    agent = make_user("Ana Atendente", role="agent")
    with time_machine.travel(utcnow(), tick=True) as clock:
        _password_step(auth, agent)
        clock.shift(timedelta(minutes=4, seconds=50))
        assert auth.client.get(CODE_PAGE).status_code == 200
        clock.shift(timedelta(seconds=15))
        response = auth.client.get(CODE_PAGE)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        assert "O tempo para informar o código acabou" in _html(auth.client.get("/login"))
        # The page does not come back: the password is asked again.
        assert auth.client.get(CODE_PAGE).headers["Location"].startswith("/login")
    assert _sessions_of(agent) == 0


def test_the_code_page_without_a_password_step_goes_to_login(client: FlaskClient) -> None:
    response = client.get(CODE_PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# ---------------------------------------------------------------- who must have it


STAFF_PAGES = ["/", "/atendimento", "/perfil", "/base-de-conhecimento", "/clientes", "/admin/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_without_a_second_factor_are_sent_to_setup(
    auth: AuthActions, make_user: Callable[..., User], path: str
) -> None:
    admin = make_user("Carla Administradora", role="admin", two_factor=False)
    response = auth.login(admin)
    assert response.headers["Location"] == "/"  # no code step: there is no second factor yet
    with auth.client.get(path) as page:
        assert page.status_code == 302
        assert page.headers["Location"] == SETUP_PAGE
    # A POST elsewhere is not done either (the redirect comes before the view).
    token = csrf_token_from(_html(auth.client.get(SETUP_PAGE)))
    posted = auth.client.post("/perfil/telefone", data={"extra_phone": "", "csrf_token": token})
    assert posted.status_code == 302 and posted.headers["Location"] == SETUP_PAGE
    setup = auth.client.get(SETUP_PAGE)
    assert setup.status_code == 200 and "Atendentes e administradores precisam" in _html(setup)
    assert auth.post("/logout", page=SETUP_PAGE).headers["Location"].startswith("/login")


def test_staff_reach_everything_once_set_up(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    agent = make_user("Ana Atendente", role="agent", two_factor=False)
    auth.login(agent)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', _html(auth.client.get(SETUP_PAGE)))
    code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
    assert auth.post(SETUP_PAGE, {"code": code}).status_code == 200
    assert auth.client.get("/atendimento").status_code == 200
    # Staff cannot turn it off.
    page = _html(auth.client.get(SETUP_PAGE))
    assert "não podem desativar" in page
    response = auth.post(f"{SETUP_PAGE}/desativar", {"password": PASSWORD}, page=SETUP_PAGE)
    assert response.status_code == 302
    assert _reload(agent).totp_enabled_at is not None


def test_requesters_are_not_forced_and_may_turn_it_off(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    user = make_user("Felipe Solicitante")
    assert auth.login(user).headers["Location"] == "/"
    assert auth.client.get("/solicitacoes").status_code == 200
    secret = two_factor.new_secret()
    two_factor.enable(db.session, _reload(user), secret, pyotp.TOTP(secret).now())
    db.session.commit()
    wrong = auth.post(
        f"{SETUP_PAGE}/desativar", {"password": "outra-senha-qualquer"}, page=SETUP_PAGE
    )
    assert wrong.status_code == 400 and "A senha não confere." in _html(wrong)
    assert _reload(user).totp_enabled_at is not None
    done = auth.post(f"{SETUP_PAGE}/desativar", {"password": PASSWORD}, page=SETUP_PAGE)
    assert done.status_code == 302
    user = _reload(user)
    assert user.totp_enabled_at is None and user.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert len(_audit("user.disable_two_factor")) == 1


# ---------------------------------------------------------------- the admin's reset


def test_admin_reset_is_audited_ends_sessions_and_forces_setup(
    app, auth: AuthActions, make_user: Callable[..., User]
) -> None:
    admin = make_user("Carla Administradora", role="admin")
    agent = make_user("Ana Atendente", role="agent")
    agent_client = app.test_client()
    agent_auth = AuthActions(agent_client)
    agent_auth.login(agent)
    assert _signed_in(agent_client)

    auth.login(admin)
    page = _html(auth.client.get(f"/admin/usuarios/{agent.id}"))
    assert "Redefinir segundo fator" in page
    confirm = auth.client.get(f"/admin/usuarios/{agent.id}/segundo-fator")
    assert confirm.status_code == 200 and "sessões abertas dela são encerradas" in _html(confirm)
    response = auth.post(f"/admin/usuarios/{agent.id}/segundo-fator")
    assert response.status_code == 302
    assert "Segundo fator redefinido" in _html(auth.client.get(response.headers["Location"]))

    agent = _reload(agent)
    assert agent.totp_secret is None and agent.totp_enabled_at is None
    assert agent.totp_last_step is None
    assert (
        db.session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == agent.id)
        )
        == 0
    )
    entries = _audit("user.reset_two_factor")
    assert [(e.actor_id, e.object_id) for e in entries] == [(admin.id, agent.id)]
    assert not _signed_in(agent_client)

    # The agent signs in with the password alone and lands on the set-up.
    assert agent_auth.login(agent).headers["Location"] == "/"
    assert agent_client.get("/atendimento").headers["Location"] == SETUP_PAGE


def test_only_admins_reset(auth: AuthActions, make_user: Callable[..., User]) -> None:
    agent = make_user("Ana Atendente", role="agent")
    other = make_user("Bruno Atendente", role="agent")
    auth.login(agent)
    assert auth.client.get(f"/admin/usuarios/{other.id}/segundo-fator").status_code == 404
    token = auth.csrf("/perfil")
    response = auth.client.post(
        f"/admin/usuarios/{other.id}/segundo-fator", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert _reload(other).totp_enabled_at is not None


def test_the_code_step_keeps_where_the_person_was_going(
    auth: AuthActions, make_user: Callable[..., User]
) -> None:
    agent = make_user("Ana Atendente", role="agent")
    token = auth.csrf("/login")
    response = auth.client.post(
        "/login?next=/atendimento",
        data={"cpf": agent.cpf, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == f"{CODE_PAGE}?next=/atendimento"
    code = {
        "code": next_totp_code(agent.cpf),
        "csrf_token": auth.csrf(response.headers["Location"]),
    }
    done = auth.client.post(response.headers["Location"], data=code)
    assert done.headers["Location"] == "/atendimento"
