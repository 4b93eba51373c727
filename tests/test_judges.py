"""Judges' names in running text carry one title, whatever the court typed."""

import pytest

from app.judges import judge_label


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("Linda Okafor", "Judge Linda Okafor"),
        ("Judge Linda Okafor", "Judge Linda Okafor"),
        ("judge linda okafor", "judge linda okafor"),
        ("Hon. Linda Okafor", "Hon. Linda Okafor"),
        ("Honorable Linda Okafor", "Honorable Linda Okafor"),
        ("Magistrate Ruiz", "Magistrate Ruiz"),
        ("Judgeson Abel", "Judge Judgeson Abel"),
        ("  Linda Okafor ", "Judge Linda Okafor"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_title_is_added_only_when_the_name_has_none(stored, shown):
    assert judge_label(stored) == shown
