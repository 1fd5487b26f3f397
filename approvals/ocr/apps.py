from django.apps import AppConfig


class OcrConfig(AppConfig):
    name = "approvals.ocr"
    label = "ocr"
    verbose_name = "Receipt reading (OCR)"
    default_auto_field = "django.db.models.BigAutoField"
