"""The audit log: who exported, imported, changed accounts or sessions, published protocols."""
