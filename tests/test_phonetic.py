import pytest

from indexer.phonetic import sound


@pytest.mark.parametrize("heard, written", [
    ("chaumage", "chômage"), ("inpots", "impôts"), ("alocassion", "allocation"), ("rembourcemant", "remboursement"),
    ("declarassion", "déclaration"), ("seccu", "sécu"), ("pention", "pension"), ("enfent", "enfant"),
    ("vitalle", "Vitale"), ("quitanse", "quittance"), ("retrète", "retraite"), ("filosofie", "philosophie"),
])
def test_spellings_of_one_pronunciation_share_a_key(heard, written):
    assert sound(heard) == sound(written)


@pytest.mark.parametrize("a, b", [
    ("ministre", "sinistre"), ("permis", "parmi"), ("carte", "carton"), ("rsa", "aah"), ("caf", "cpam"),
    ("chomage", "fromage"), ("pension", "passion"),
])
def test_different_words_keep_different_keys(a, b):
    assert sound(a) != sound(b)
