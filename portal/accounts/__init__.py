"""Staff accounts, roles and login. Residents never need an account."""
