"""Bank details: IBAN checksum (ISO 13616, mod 97) and BIC format (ISO 9362). Pure."""

from __future__ import annotations

import re

# Lengths of the SEPA countries' IBANs (the ones a SEPA credit transfer reaches).
IBAN_LENGTHS = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GI": 23,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "VA": 22,
}
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def normalise(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def iban_valid(value: str) -> bool:
    iban = normalise(value)
    if not _IBAN.match(iban) or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def bic_valid(value: str) -> bool:
    return bool(_BIC.match(normalise(value)))


def make_iban(country: str, bban: str) -> str:
    """The IBAN of a national account number (its check digits computed)."""
    digits = "".join(str(int(ch, 36)) for ch in (bban + country + "00").upper())
    return f"{country.upper()}{98 - int(digits) % 97:02d}{bban.upper()}"
