"""Administração: pages for admins over the areas' own services (catalog, accounts, home,
core audit). Each section is one blueprint under /admin; none repeats an area's rule."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

# One module per section, each with a Blueprint named `bp`.
SECTIONS = [
    "portal.admin.routes",
    "portal.admin.catalog_routes",
    "portal.admin.form_routes",
    "portal.admin.group_routes",
    "portal.admin.user_routes",
    "portal.admin.audit_routes",
    "portal.admin.announcement_routes",
    "portal.admin.webhook_routes",
]


def register(app: Flask) -> None:
    for name in SECTIONS:
        app.register_blueprint(import_module(name).bp)
