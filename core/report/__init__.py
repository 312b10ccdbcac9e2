"""Reports: what a person downloads or prints.

- `data`: what a report holds (one cohort or a saved set) as plain data.
- `pdf`, `xlsx`: the writers (fpdf2; openpyxl through `core.exports`).
- `files`: a report as an audited download; `notices`: a short file saying why there is none.
- `charts`: pure Altair builders (no Streamlit) shared by pages and the PDF.

Public face: `data.build_report`, `files.report_file`, `pdf.report_pdf`, `xlsx.render_xlsx`,
the `charts.*` builders.
"""
