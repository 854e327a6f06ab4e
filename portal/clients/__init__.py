"""Clients: the organisations ("entes") that users belong to."""
