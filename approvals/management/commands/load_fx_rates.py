"""`manage.py load_fx_rates FILE`: load ECB reference rates (daily or history CSV, or zip)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from approvals.services.fx import FxFileError, fx_rates_load


class Command(BaseCommand):
    help = (
        "Load euro reference rates from an ECB CSV file (eurofxref.csv, eurofxref-hist.csv, "
        "or their .zip): units of each currency per 1 EUR. Re-loading updates in place."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="path of the ECB CSV (or .zip) file")
        parser.add_argument("--source", default="", help="source text stored with each rate")

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            result = fx_rates_load(path=path, source=options["source"])
        except FxFileError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        span = (
            str(result.first_date)
            if result.first_date == result.last_date
            else f"{result.first_date} to {result.last_date}"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rates} rates loaded for {result.currencies} currencies ({span})"
            )
        )
