"""Requests ("solicitações"): the state machine, services, notifications, queries, and the
requester and staff views."""
