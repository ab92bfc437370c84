"""docs/design.md §3 "Rules" as pure functions over plain data. Nothing here imports Flask or the database."""
