"""Tables leaving the machine: CSV and Excel bytes with the filters written on top and every text
cell neutralised against formula injection.

Public face: `tables.csv_bytes`, `tables.xlsx_bytes`, `tables.xlsx_workbook`, `tables.neutralise`.
Every download (a page's table, the audit log, an import's error rows, a report's workbook) goes
through here. A leaf: imports nothing else from core.
"""
