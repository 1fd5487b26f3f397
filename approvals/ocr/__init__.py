"""Receipts read by OCR (issue 26): a Django app of its own (label `ocr`) so its table
and migrations stay apart from the approval models.

- `parse`: the OCR text of a receipt -> ReceiptReading (pure, table-tested)
- `engine`: Pillow preprocessing + Tesseract (+ pdftoppm for PDFs), no Django
- `workflow`: ReadReceipt, one activity on the `ocr` task queue (no Django)
- `activities`: read_receipt / mark_receipt_unread (ORM, plain def)
- `models`: ReceiptUpload, a receipt uploaded to be read, owned by its uploader
- `samples`: receipts drawn with Pillow (tests, benchmark, fixtures)
"""
