"""IBAN and BIC exactly as pain.001.001.03 needs them: the XSD's own patterns (read from
the schema sepaxml validates against), the SEPA lengths and mod 97. Whatever sepaxml's
validated export refuses, accounts/bank.py refuses first (hypothesis)."""

from __future__ import annotations

import datetime
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError

from accounts import bank

COMPANY = {
    "name": "Co",
    "IBAN": "DE89370400440532013000",
    "BIC": "COBADEFFXXX",
    "batch": True,
    "currency": "EUR",
}


def schema_takes(*, iban: str = "DE02370400440532013001", bic: str = "COBADEFFXXX") -> bool:
    """Whether sepaxml's validated export takes one transfer to these details."""
    sepa = SepaTransfer(dict(COMPANY), schema=bank.SEPA_SCHEMA)
    sepa.add_payment(
        {
            "name": "Emma",
            "IBAN": iban,
            "BIC": bic,
            "amount": 100,
            "execution_date": datetime.date(2026, 1, 5),
            "description": "x",
        }
    )
    try:
        sepa.export(validate=True)
    except ValidationError:
        return False
    return True


def test_the_bic_pattern_is_the_xsd_one():
    assert bank.xsd_pattern("BICIdentifier").pattern == (
        "[A-Z]{6,6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3,3}){0,1}"
    )


@pytest.mark.parametrize(
    ("bic", "ok"),
    [
        ("COBADEFFXXX", True),
        ("COBADEFF", True),
        ("cobade ff", True),  # normalised: spaces out, upper case
        ("COBADE00", False),  # the BIC: 7th character 0 ([A-Z2-9] only)
        ("COBADE1F", False),
        ("COBADEFO", False),  # 8th character O is not allowed ([A-NP-Z0-9])
        ("COBADEFFXX", False),  # 10 characters
        ("C0BADEFF", False),  # a digit in the bank code
        ("XX", False),
    ],
)
def test_bic_examples_agree_with_the_schema(bic, ok):
    assert bank.bic_valid(bic) is ok
    assert schema_takes(bic=bank.normalise(bic)) is ok


BIC_CHARS = string.ascii_uppercase + string.digits


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(BIC_CHARS, min_size=8, max_size=8),
        st.text(BIC_CHARS, min_size=11, max_size=11),
        st.builds(
            lambda head, loc, branch: head + loc + branch,
            st.text(string.ascii_uppercase, min_size=6, max_size=6),
            st.text(BIC_CHARS, min_size=2, max_size=2),
            st.sampled_from(["", "XXX", "A1B"]),
        ),
    )
)
def test_every_bic_the_schema_refuses_the_form_refuses(bic):
    if not bank.bic_valid(bic):
        return  # refused first: nothing can reach the file
    assert schema_takes(bic=bic), f"{bic} passes the form but not the schema"


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(sorted(bank.IBAN_LENGTHS)),
    st.data(),
)
def test_an_iban_made_for_a_sepa_country_passes_and_a_typo_never_does(country, data):
    length = bank.IBAN_LENGTHS[country] - 4
    bban = data.draw(st.text(string.digits, min_size=length, max_size=length))
    iban = bank.make_iban(country, bban)
    assert bank.iban_valid(iban) and schema_takes(iban=iban)
    position = data.draw(st.integers(4, len(iban) - 1))
    digit = data.draw(st.sampled_from([d for d in string.digits if d != iban[position]]))
    typo = iban[:position] + digit + iban[position + 1 :]
    assert bank.iban_problem(typo) == bank.Problem.IBAN_CHECKSUM  # mod 97 sees every one


@settings(max_examples=60, deadline=None)
@given(st.text(string.ascii_letters + string.digits + " -", max_size=40))
def test_every_iban_the_form_takes_the_schema_takes(value):
    if bank.iban_valid(value):
        assert schema_takes(iban=bank.normalise(value))


@pytest.mark.parametrize(
    ("iban", "problem"),
    [
        ("DE89370400440532013000", None),
        ("DE89 3704 0044 0532 0130 00", None),
        ("DE89370400440532013001", bank.Problem.IBAN_CHECKSUM),
        ("DE8937040044053201300", bank.Problem.IBAN_LENGTH),
        ("US64SVBKUS6S3300958879", bank.Problem.IBAN_COUNTRY),
        ("DE89-3704", bank.Problem.IBAN_FORMAT),
        ("", bank.Problem.IBAN_FORMAT),
    ],
)
def test_iban_problems_name_what_is_wrong(iban, problem):
    assert bank.iban_problem(iban) == problem


def test_mask_shows_the_country_and_the_last_four_only():
    assert bank.mask("DE89 3704 0044 0532 0130 00") == "DE… 3000"
