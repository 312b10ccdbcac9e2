"""Yardstick core: everything but the Streamlit layer. Never imports streamlit.

One package per question, imports running one way (a package imports only those below it):

    bench                       the benchmark (`python -m core bench`)
    commands, cli               the headless interface (`python -m core …`)
    report                      what a person downloads: PDF, Excel, the charts they hold
    narrate, sftp, demo         narratives and the insight feed; files delivered overnight; the demo
    alerts, districts           what needs attention; districts against their state
    compare                     cohort vs cohort: prior cohorts, matched growth, subgroup gaps
    standards                   cohort vs standard: norms, cut scores, targets
    catalog, words              what a reader can pick from; numbers in plain English
    stats                       tests from sufficient statistics, and small-cell suppression
    backup                      backups that restore (beside stats: needs only the warehouse)
    cohorts, ingest             which students a question is about; files becoming rows
    access                      who may see what (users, scope, audit)
    warehouse, exports          the DuckDB file, its schema and settings; files leaving it

docs/architecture.md walks through the flow and each package's public face.
"""

__version__ = "0.1.0"
