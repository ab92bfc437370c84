"""The rules of DESIGN.md as pure functions over plain data. Nothing here imports Flask or the database."""
