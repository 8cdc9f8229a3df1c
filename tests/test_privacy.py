"""Personal data never reaches the database nor the screen: what agents paste is masked first."""

import pytest

from assistant.privacy import PLACEHOLDERS, mask, redact

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize("text, expected", [
    # NIR (social security number), with or without its key, Corsica
    ("nir 1 85 05 78 006 084 36 perdu", "nir [NIR] perdu"),
    ("nir 185057800608436", "nir [NIR]"),
    ("né en Corse 2 85 05 2A 006 084 12", "né en Corse [NIR]"),
    (f"sécu 1{NBSP}85{NBSP}05{NBSP}78{NBSP}006{NBSP}084{NBSP}36", "sécu [NIR]"),
    (f"sécu 2{NNBSP}85{NNBSP}05{NNBSP}78{NNBSP}006{NNBSP}084{NNBSP}36", "sécu [NIR]"),
    # fiscal number
    ("numéro fiscal 0123456789012", "numéro fiscal [N° FISCAL]"),
    ("SPI 30 12 345 678 901", "SPI [N° FISCAL]"),
    (f"SPI 30{NBSP}12{NBSP}345{NBSP}678{NBSP}901", "SPI [N° FISCAL]"),
])
def test_masks_identifiers(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("appeler le 06 12 34 56 78 demain", "appeler le [TÉLÉPHONE] demain"),
    ("tel 0612345678", "tel [TÉLÉPHONE]"),
    ("tél. 01.23.45.67.89", "tél. [TÉLÉPHONE]"),
    ("tel 06-12-34-56-78", "tel [TÉLÉPHONE]"),
    (f"tel 06{NBSP}12{NBSP}34{NBSP}56{NBSP}78", "tel [TÉLÉPHONE]"),
    (f"tel 06{NNBSP}12{NNBSP}34{NNBSP}56{NNBSP}78", "tel [TÉLÉPHONE]"),
    ("tel 09 87 65 43 21", "tel [TÉLÉPHONE]"),
    ("+33 6 12 34 56 78", "[TÉLÉPHONE]"),
    ("+33612345678 ou 0033 1 23 45 67 89", "[TÉLÉPHONE] ou [TÉLÉPHONE]"),
    ("+33 (0)6 12 34 56 78", "[TÉLÉPHONE]"),
    ("fils à Londres : +44 20 7946 0958", "fils à Londres : [TÉLÉPHONE]"),
    ("Belgique (+32) 2 123 45 67", "Belgique [TÉLÉPHONE]"),
    ("USA +1 (555) 123-4567", "USA [TÉLÉPHONE]"),
    ("Maroc 00212 6 12 34 56 78", "Maroc [TÉLÉPHONE]"),
    (f"Suisse +41{NBSP}22{NBSP}123{NBSP}45{NBSP}67", "Suisse [TÉLÉPHONE]"),
])
def test_masks_phone_numbers(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("écrire à jean.dupont+caf@example.fr svp", "écrire à [EMAIL] svp"),
    ("MAIL: J_Dupont@sous.domaine.example.com.", "MAIL: [EMAIL]."),
])
def test_masks_email(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("rib FR76 3000 6000 0112 3456 7890 189", "rib [IBAN]"),
    ("rib fr7630006000011234567890189.", "rib [IBAN]."),
    ("rib FR76-3000-6000-0112-3456-7890-189 merci", "rib [IBAN] merci"),
    (f"rib FR76{NBSP}3000{NBSP}6000{NBSP}0112{NBSP}3456{NBSP}7890{NBSP}189", "rib [IBAN]"),
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [IBAN]"),
    ("iban de89370400440532013000 merci", "iban [IBAN] merci"),
    ("compte GB82-WEST-1234-5698-7654-32", "compte [IBAN]"),
    ("BE68 5390 0754 7034 pour le virement", "[IBAN] pour le virement"),
])
def test_masks_iban(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("payé avec 4111 1111 1111 1111", "payé avec [CARTE BANCAIRE]"),
    ("carte 5555-5555-5555-4444 refusée", "carte [CARTE BANCAIRE] refusée"),
    (f"carte 4970{NBSP}1012{NBSP}3456{NBSP}7893", "carte [CARTE BANCAIRE]"),
    ("cb 4111111111111111", "cb [CARTE BANCAIRE]"),
])
def test_masks_payment_cards(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    "dossier 4111 1111 1111 1112",  # fails the Luhn check: an ordinary reference
    "référence 5555 5555 5555 4445",
])
def test_numbers_that_fail_the_card_check_are_kept(text):
    assert mask(text) == text


@pytest.mark.parametrize("text, expected", [
    ("né le 12/03/1985", "né le [DATE DE NAISSANCE]"),
    ("née le 1er mars 1985 à Lyon", "née le [DATE DE NAISSANCE] à Lyon"),
    ("usager né(e) le 3 mai 1980, veut", "usager né(e) le [DATE DE NAISSANCE], veut"),
    ("né à Lyon le 03.05.1980", "né à Lyon le [DATE DE NAISSANCE]"),
    ("date de naissance : 12-03-1985", "date de naissance : [DATE DE NAISSANCE]"),
    ("DDN 12/03/85 retraite", "DDN [DATE DE NAISSANCE] retraite"),
    ("NÉE LE 7 AOÛT 1962", "NÉE LE [DATE DE NAISSANCE]"),
])
def test_masks_dates_of_birth(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("habite 12 rue de la Paix 75002 Paris", "habite [ADRESSE]"),
    ("3 bis avenue Jean Jaurès, 69007 Lyon", "[ADRESSE]"),
    ("au 15, allée des Tilleuls depuis mars", "au [ADRESSE] depuis mars"),
    ("12 rue de la paix besoin aide logement", "[ADRESSE] besoin aide logement"),
    ("déménage à 13200 Arles-sur-Rhône", "déménage à [ADRESSE]"),
    ("7 BD Victor Hugo", "[ADRESSE]"),
    ("2 cours Lafayette, 69003 Lyon", "[ADRESSE]"),
    ("1 place de la République", "[ADRESSE]"),
])
def test_masks_postal_addresses(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("allocataire 1234567", "allocataire [N° ALLOCATAIRE]"),
    ("n° allocataire : 1234567 A", "n° allocataire : [N° ALLOCATAIRE]"),
    ("numéro CAF 7654321 bloqué", "numéro CAF [N° ALLOCATAIRE] bloqué"),
    ("matricule MSA n° 12345678", "matricule MSA n° [N° ALLOCATAIRE]"),
])
def test_masks_allocataire_numbers(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("passeport 12AB34567 perdu", "passeport [N° PIÈCE D'IDENTITÉ] perdu"),
    ("le 18FR12345 expire", "le [N° PIÈCE D'IDENTITÉ] expire"),
    ("CNI 880692310285", "CNI [N° PIÈCE D'IDENTITÉ]"),
    ("carte d'identité n° X4RTBPFW4", "carte d'identité n° [N° PIÈCE D'IDENTITÉ]"),
    ("carte nationale d identité numéro T7X9K2L4P", "carte nationale d identité numéro [N° PIÈCE D'IDENTITÉ]"),
    ("titre de séjour 9912345678", "titre de séjour [N° PIÈCE D'IDENTITÉ]"),
])
def test_masks_identity_documents(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Madame Dupont veut renouveler", "Madame [NOM] veut renouveler"),
    ("M. Jean-Pierre DUPONT", "M. [NOM]"),
    ("Mme de la Fontaine, carte grise", "Mme [NOM], carte grise"),
    ("Mlle Nguyen", "Mlle [NOM]"),
    ("monsieur martin a perdu sa carte", "monsieur [NOM] a perdu sa carte"),
    ("je m'appelle jean dupont et je veux l'APL", "je m'appelle [NOM] et je veux l'APL"),
    ("mon nom est Martin", "mon nom est [NOM]"),
    ("nom : DUPONT prénom : Jean", "nom : [NOM] prénom : [NOM]"),
    ("nom de naissance: martin", "nom de naissance: [NOM]"),
    ("Mme X, 2 90 12 75 123 456 78, mail x@y.fr, tel 07 00 00 00 00",
     "Mme [NOM], [NIR], mail [EMAIL], tel [TÉLÉPHONE]"),
])
def test_masks_person_names(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    "carte grise d'occasion",
    "carte grise 2024",
    "APL 300 euros",
    "article L. 262-2",
    "cerfa 13750*07",
    "cerfa 13750 et cerfa 13757",
    "appeler le 34 00 ou le 39 60",
    "ligne 0 809 401 401",
    "APL 2026 pour 3 enfants",
    "aide de 150 euros",
    "prime de 15000 euros",
    "né en 1966, retraite à 62 ans",
    "courrier du 12/03/2025",
    "madame veut renouveler son passeport",
    "Monsieur a perdu sa carte d'identité",
    "M. le maire a signé",
    "carte d'identité 2024",
    "changer de nom d'usage après un divorce",
    "nom de famille de l'enfant",
    "caf 300 euros",
    "rue barrée",
    "RSA socle 607,75 €",
    "avis d'imposition 2025 sur les revenus 2024",
    "loi 2023-270 du 14 avril 2023",
    "2 cours de français par semaine",
    "1 place de parking",
    "3 route de nuit",
])
def test_leaves_procedure_words_alone(text):
    assert mask(text) == text


def test_redact_keeps_only_what_is_worth_searching():
    assert redact("carte grise pour 1 85 05 78 006 084 36, tel 06 12 34 56 78") == "carte grise pour , tel"
    assert redact("0612345678") == ""
    assert redact("Madame Dupont née le 12/03/1985 veut l'APL") == "Madame née le veut l'APL"


def test_every_placeholder_is_documented():
    masked = mask("x@y.fr FR7630006000011234567890189 1 85 05 78 006 084 36 0612345678 0123456789012 "
                  "4111111111111111 né le 1/2/1990 allocataire 1234567 12AB34567 Mme Roy, 3 rue Haute")
    found = {p for p in PLACEHOLDERS if p in masked}
    assert found == set(PLACEHOLDERS)



def test_masking_twice_changes_nothing():
    text = ("Mme Dupont née le 1/2/1990, 3 rue Haute 75002 Paris, allocataire 1234567, passeport 12AB34567, "
            "CNI 880692310285, tel +33 6 12 34 56 78, carte 4111 1111 1111 1111")
    once = mask(text)
    assert mask(once) == once
