"""Every operation that changes data. Services take the session and the acting user as
arguments, flush but never commit: the caller (a view, the CLI or a job) commits once."""
