"""(placeholder: filled in by the issue 16 work)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clients", __name__)
