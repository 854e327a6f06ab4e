"""Shared machinery every area uses: configuration, extensions, the database, time, errors
and their HTTP mapping, the outbox, files and their storage, audit and web helpers."""
