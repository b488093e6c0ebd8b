"""Who may do what: accounts, roles, sessions, the audit log."""
