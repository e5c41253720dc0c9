"""User accounts, roles, password hashing and login throttling."""
