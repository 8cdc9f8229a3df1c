from indexer.text import content_words, fold, tokens, words


def test_fold_drops_accents_case_and_ligatures():
    assert fold("Sécurité Sociale") == "securite sociale"
    assert fold("Œuvre ÉTÉ") == "oeuvre ete"


def test_accented_and_plain_spellings_meet_after_stemming():
    assert tokens("sécurité sociale") == tokens("securite sociale") == tokens("SECURITE SOCIALE")


def test_elisions_are_removed():
    assert words("l'usager d'identité qu'il jusqu'à") == ["usager", "identite", "il", "a"]
    assert words("l’acte") == ["acte"]  # typographic apostrophe


def test_stopwords_are_dropped_but_digits_kept():
    assert content_words("je voudrais le bulletin n°3 de mon casier") == ["bulletin", "3", "casier"]


def test_plural_and_singular_share_a_stem():
    assert tokens("allocations familiales") == tokens("allocation familiale")


def test_demonstrative_particles_are_not_words():
    assert words("ce mois-ci, celui-là, ma CI") == ["ce", "mois", "celui", "ma", "ci"]
