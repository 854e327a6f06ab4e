"""The ceiling of our own stack, measured in the same run as the portal.

Two routes under the same gunicorn settings: a bare Flask route, and a route that renders a
25-row table from one indexed SQLAlchemy query on the same database. The portal's pages are
reported as a ratio to the second one.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask

TABLE = """<!doctype html><title>teto</title><table>
{% for row in rows %}<tr><td>{{ row.number }}</td><td>{{ row.state }}</td>
<td>{{ row.opened_at }}</td></tr>{% endfor %}</table>"""


def create_app() -> Flask:
    app = Flask(__name__)
    engine = sa.create_engine(os.environ["PORTAL_DATABASE_URL"], pool_pre_ping=True)
    user_id = int(os.environ.get("CEILING_USER_ID", "1"))
    query = sa.text(
        "SELECT number, state, opened_at FROM service_requests WHERE requested_for_id = :user "
        "ORDER BY opened_at DESC LIMIT 25"
    )
    # Compiled once, as Flask's render_template does through its cache.
    template = app.jinja_env.from_string(TABLE)

    @app.get("/")
    def bare() -> str:
        return "ok"

    @app.get("/table")
    def table() -> str:
        with engine.connect() as conn:
            rows = conn.execute(query, {"user": user_id}).all()
        return template.render(rows=rows)

    return app


app = create_app() if "PORTAL_DATABASE_URL" in os.environ else None
