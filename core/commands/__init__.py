"""One module per CLI command; each defines `register(subparsers)` (see core/cli.py). Every flag,
exit code and JSON field is written in docs/cli.md (tests/core/test_cli_docs.py keeps it so)."""
