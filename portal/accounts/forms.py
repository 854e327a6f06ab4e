from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.accounts.services import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from portal.core.cpf import is_valid_cpf

REQUIRED = "Campo obrigatório."


def _valid_cpf(_form: FlaskForm, field: StringField) -> None:
    if field.data and not is_valid_cpf(field.data):
        raise ValidationError("CPF inválido. Confira os números digitados.")


class LoginForm(FlaskForm):
    cpf = StringField("CPF", validators=[DataRequired(REQUIRED), _valid_cpf])
    password = PasswordField("Senha", validators=[DataRequired(REQUIRED)])


class ForgotPasswordForm(FlaskForm):
    corporate_email = EmailField("Email Corporativo", validators=[DataRequired(REQUIRED)])
    personal_email = EmailField("Email Particular", validators=[DataRequired(REQUIRED)])


class _NewPasswordMixin:
    password = PasswordField(
        "Nova senha",
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=f"Use de {PASSWORD_MIN_LENGTH} a {PASSWORD_MAX_LENGTH} caracteres.",
            ),
        ],
    )
    confirm = PasswordField(
        "Confirme a nova senha",
        validators=[DataRequired(REQUIRED), EqualTo("password", "As senhas não conferem.")],
    )


class ResetPasswordForm(_NewPasswordMixin, FlaskForm):
    pass


class ChangePasswordForm(_NewPasswordMixin, FlaskForm):
    current_password = PasswordField("Senha atual", validators=[DataRequired(REQUIRED)])


class ExtraPhoneForm(FlaskForm):
    extra_phone = StringField("Telefone Adicional")


class SignInCodeForm(FlaskForm):
    # One field takes either a 6-digit code or a recovery code, so it works without JavaScript.
    code = StringField("Código de verificação", validators=[DataRequired(REQUIRED), Length(max=40)])


class EnableTwoFactorForm(FlaskForm):
    code = StringField("Código do aplicativo", validators=[DataRequired(REQUIRED), Length(max=20)])


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField("Sua senha", validators=[DataRequired(REQUIRED)])
