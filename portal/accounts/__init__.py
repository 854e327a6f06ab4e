"""Accounts: users, support groups, sign-in with its throttle, sessions, profile, password reset."""
