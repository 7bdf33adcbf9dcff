"""Automated screening of the PDFs counsel submit (PDF-SCREENING.md).

- `workflow`: the job's rules: screen a submission's files, store the results, send it to registry.
- `pdf_reading` and `pdf_probes/`: the facts of a document, read in sandboxed children (`sandbox`);
  `scan_reading`: its scanned pages read by OCR.
- `checks/`: one small pure function per check, judging those facts against the submission.
"""
