"""One module per CLI command; each defines `register(subparsers)` (see core/cli.py)."""
