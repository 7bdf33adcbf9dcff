"""Programs that read an untrusted PDF, each run alone in a sandboxed child process (see `sandbox.py`).

They are scripts, not modules of the application: they import only the libraries they need (and
`probe_output.py`, what they share), write one JSON verdict to stdout and never write files. `structure.py`
(pikepdf) runs first; `pages.py` (PDFium) runs only on a file that the first one cleared, because PDFium reads
metadata while opening and may abort on a hostile file; `scans.py` (PDFium and OCR) reads the scanned pages
that `pages.py` found without a text layer; `form_fields.py` (pdfplumber) reads a returned registration form.
"""
