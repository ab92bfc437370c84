"""Queries, transactions and calls into the domain rules; used by the views, the API and the CLI."""
