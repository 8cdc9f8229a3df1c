"""Sign-in settings, role mapping, network exposure and the launcher's refusals; userinfo JWT checks; the gate in
the app's pages (AppTest, nobody signed in). The flow itself, in a browser, is in test_auth_browser.py."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from streamlit.testing.v1 import AppTest

from app_support import APP, EDITORS_PAGE, ROOT, build_index, copy_kb, point_app_at
from assistant import auth, serve, signin
from assistant.auth import AGENT, EDITOR, AuthConfigError, Policy, parse_rule

COMPLETE = {
    "auth": {
        "redirect_uri": "https://assistant.example.fr/oauth2callback",
        "cookie_secret": "c" * 40,
        "client_id": "assistant",
        "client_secret": "s" * 40,
        "server_metadata_url": "https://idp.example.fr/api/v2/.well-known/openid-configuration",
        "expose_tokens": ["id", "access"],
    },
    "access": {"editors": ["dominique.redaction@anct.gouv.fr"], "agents": ["@mairie-exemple.fr", "13002603200016"]},
}


def policy(editors=(), agents=()) -> Policy:
    return auth.load_policy({"access": {"editors": list(editors), "agents": list(agents)}})


# --- role entries and role mapping -------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, kind, value", [
    ("Marie.Martin@ANCT.gouv.fr", "email", "marie.martin@anct.gouv.fr"),
    ("@france-services.gouv.fr", "domain", "@france-services.gouv.fr"),
    ("130 026 032 00016", "siret", "13002603200016"),
    ("13002603200016", "siret", "13002603200016"),
    ("130026032", "siren", "130026032"),
])
def test_role_entries_are_recognised_by_their_shape(entry, kind, value):
    assert parse_rule(entry, "[access] agents") == auth.Rule(kind, value)


@pytest.mark.parametrize("entry", ["", "gouv.fr", "marie@", "1300260320001", "siret", "*", 13002603200016, "@", "a@b"])
def test_unrecognised_role_entries_are_errors_naming_the_setting(entry):
    with pytest.raises(AuthConfigError, match=r"\[access\] agents : entrée .* non reconnue"):
        parse_rule(entry, "[access] agents")


def test_editor_by_email_agent_by_domain_and_by_siret():
    rules = policy(editors=["dominique.redaction@anct.gouv.fr"], agents=["@mairie-exemple.fr", "21750001600019"])
    assert rules.role({"email": "Dominique.Redaction@anct.gouv.fr"}) == EDITOR
    assert rules.role({"email": "camille@mairie-exemple.fr"}) == AGENT
    assert rules.role({"email": "camille@sous.mairie-exemple.fr"}) is None  # a domain is that domain only
    assert rules.role({"email": "x@ailleurs.fr", "siret": "217 500 016 00019"}) == AGENT
    assert rules.role({"email": "x@ailleurs.fr", "siret": "21750001600020"}) is None
    assert rules.role({}) is None


def test_siren_covers_every_establishment_and_editors_win():
    rules = policy(editors=["130026032"], agents=["@anct.gouv.fr"])
    assert rules.role({"email": "a@anct.gouv.fr", "siret": "13002603200016"}) == EDITOR
    assert rules.role({"email": "a@anct.gouv.fr", "siret": "13002603200099"}) == EDITOR
    assert rules.role({"email": "a@anct.gouv.fr", "siret": "21750001600019"}) == AGENT


def test_an_unverified_email_grants_nothing():
    rules = policy(editors=["dominique.redaction@anct.gouv.fr"], agents=["@anct.gouv.fr"])
    claims = {"email": "dominique.redaction@anct.gouv.fr", "email_verified": False}
    assert rules.role(claims) is None
    assert rules.role({**claims, "email_verified": True}) == EDITOR


def test_malformed_claims_grant_nothing():
    rules = policy(agents=["@anct.gouv.fr", "130026032"])
    assert rules.role({"email": ["a@anct.gouv.fr"], "siret": 13002603200016}) is None
    assert rules.role({"email": "a@anct.gouv.fr@evil.fr"}) is None
    assert rules.role({"siret": "1300260320001X"}) is None


def test_display_name_prefers_proconnect_names():
    assert auth.display_name({"given_name": "Camille", "usual_name": "Agent", "family_name": "X"}) == "Camille Agent"
    assert auth.display_name({"given_name": "Camille", "family_name": "Martin"}) == "Camille Martin"
    assert auth.display_name({"email": "c@x.fr"}) == "c@x.fr"


def test_a_sign_in_older_than_the_session_lifetime_has_expired():
    now = time.time()
    assert not auth.session_expired({"iat": now - 3600}, now, 12)
    assert auth.session_expired({"iat": now - 13 * 3600}, now, 12)
    assert auth.session_expired({"auth_time": now - 13 * 3600, "iat": now}, now, 12)
    assert auth.session_expired({}, now, 12)


# --- settings and network exposure --------------------------------------------------------------------------------

def test_complete_settings_have_no_problem():
    assert auth.configured(COMPLETE) and auth.problems(COMPLETE) == []
    assert not auth.configured({}) and not auth.configured({"access": COMPLETE["access"]})


@pytest.mark.parametrize("change, expected", [
    ({"auth": {**COMPLETE["auth"], "client_secret": ""}}, "[auth] client_secret manquant"),
    ({"auth": {**COMPLETE["auth"], "cookie_secret": "court"}}, "cookie_secret trop court"),
    ({"auth": {**COMPLETE["auth"], "redirect_uri": "https://a.fr/"}}, "finir par /oauth2callback"),
    ({"auth": {**COMPLETE["auth"], "expose_tokens": "id"}}, 'expose_tokens doit contenir "access"'),
    ({"access": None}, "section [access] absente"),
    ({"access": {"editors": [], "agents": []}}, "personne ne pourrait entrer"),
    ({"access": {"agents": ["mairie.fr"]}}, "[access] agents : entrée « mairie.fr » non reconnue"),
    ({"access": {"agents": ["@a.fr"], "session_hours": "toujours"}}, "[access] session_hours"),
])
def test_each_settings_problem_is_named(change, expected):
    settings = {**COMPLETE, **change}
    if settings["access"] is None:
        del settings["access"]
    assert any(expected in problem for problem in auth.problems(settings)), auth.problems(settings)


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("", False), (None, False), ("192.168.1.10", False), ("example.fr", False),
])
def test_loopback_addresses(address, loopback):
    assert auth.is_loopback(address) is loopback


@pytest.mark.parametrize("headers, direct", [
    ({"Host": "127.0.0.1:8501"}, True), ({"host": "localhost:8501"}, True), ({"Host": "[::1]:8501"}, True),
    ({"Host": "127.0.0.1"}, True),
    ({"Host": "assistant.example.fr"}, False), ({"Host": "10.0.0.5:8501"}, False), ({}, False),
    ({"Host": "127.0.0.1:8501", "X-Forwarded-For": "203.0.113.9"}, False),
    ({"Host": "127.0.0.1:8501", "Forwarded": "for=203.0.113.9"}, False),
    ({"Host": "127.0.0.1:8501", "X-Real-IP": "203.0.113.9"}, False),
])
def test_the_local_mode_serves_only_requests_straight_from_this_machine(headers, direct):
    assert auth.direct_local_request(headers) is direct


def test_the_network_needs_sign_in_and_https():
    assert auth.exposure_problems("127.0.0.1", {}) == []
    assert "n'est pas configurée" in auth.exposure_problems("0.0.0.0", {})[0]
    assert auth.exposure_problems("0.0.0.0", COMPLETE) == []
    plain_http = {**COMPLETE, "auth": {**COMPLETE["auth"], "redirect_uri": "http://10.0.0.5:8501/oauth2callback"}}
    assert any("https://" in p for p in auth.exposure_problems("0.0.0.0", plain_http))
    assert auth.exposure_problems("127.0.0.1", plain_http) == []
    broken = {**COMPLETE, "access": {"agents": ["?"]}}
    assert auth.exposure_problems("127.0.0.1", broken)  # configured but broken: refused even locally


# --- the launcher --------------------------------------------------------------------------------------------------

def launch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.serve", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env)


def test_refuses_to_serve_the_network_without_sign_in(tmp_path):
    result = launch("--address", "0.0.0.0", "--secrets", str(tmp_path / "absent.toml"))
    assert result.returncode == 2
    assert "Refus de démarrer l'assistant sur 0.0.0.0" in result.stderr
    assert "la connexion (OpenID Connect) n'est pas configurée" in result.stderr
    assert result.stdout == ""  # streamlit never started


def test_refuses_a_broken_secrets_file_naming_file_and_line(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nclient_id = "a"\nclient_secret = \n', encoding="utf-8")
    result = launch("--secrets", str(secrets))
    assert result.returncode == 2
    assert str(secrets) in result.stderr and "TOML invalide" in result.stderr and "line 3" in result.stderr


def test_refuses_incomplete_sign_in_even_on_this_machine(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nclient_id = "a"\n[access]\nagents = ["@mairie.fr"]\n', encoding="utf-8")
    result = launch("--secrets", str(secrets))
    assert result.returncode == 2
    assert f"{secrets} : [auth] client_secret manquant" in result.stderr


def test_streamlit_listens_where_told_and_reads_only_the_checked_secrets(tmp_path):
    command = serve.streamlit_command("127.0.0.1", 8501, tmp_path / "s.toml", ["--logger.level", "info"])
    assert command[1:5] == ["-m", "streamlit", "run", str(ROOT / "assistant_app.py")]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--secrets.files") + 1] == str(tmp_path / "s.toml")
    assert command[-2:] == ["--logger.level", "info"]


def test_makefile_run_listens_on_127_0_0_1_by_default():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "ADDRESS ?= 127.0.0.1" in makefile and "-m assistant.serve --address $(ADDRESS)" in makefile


# --- userinfo returned as a signed JWT (ProConnect) ----------------------------------------------------------------

METADATA = {"issuer": "https://idp.example.fr/api/v2"}


def signed(claims: dict, key, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": getattr(key, "kid", None)} if alg != "HS256" else {"alg": alg}, claims, key)


@pytest.fixture(scope="module")
def rsa():
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return key, {"keys": [key.as_dict(private=False)]}


def test_a_signed_userinfo_is_read_after_its_signature_is_checked(rsa):
    key, jwks = rsa
    claims = {"sub": "u1", "email": "a@b.fr", "siret": "13002603200016", "iss": METADATA["issuer"], "aud": "app"}
    assert signin.verify_jwt(signed(claims, key), METADATA, jwks, "app", "secret")["siret"] == "13002603200016"


def test_a_userinfo_signed_with_the_client_secret_is_accepted():
    secret = "s" * 40
    token = signed({"sub": "u1", "email": "a@b.fr"}, OctKey.import_key(secret), "HS256")
    assert signin.verify_jwt(token, METADATA, {"keys": []}, "app", secret)["email"] == "a@b.fr"


@pytest.mark.parametrize("claims, why", [
    ({"sub": "u1", "iss": "https://autre.example.fr"}, "autre émetteur"),
    ({"sub": "u1", "aud": "une-autre-application"}, "autre application"),
    ({"sub": "u1", "exp": 1_000_000_000}, "expirée"),
])
def test_a_userinfo_from_elsewhere_is_refused(rsa, claims, why):
    key, jwks = rsa
    with pytest.raises(signin.SignInError, match=why):
        signin.verify_jwt(signed(claims, key), METADATA, jwks, "app", "secret")


def test_a_forged_or_unsigned_userinfo_is_refused(rsa):
    key, jwks = rsa
    header, payload, signature = signed({"sub": "u1", "siret": "1"}, key).split(".")
    forged = signed({"sub": "u1", "siret": "13002603200016"}, key).split(".")[1]
    with pytest.raises(signin.SignInError, match="signature"):
        signin.verify_jwt(f"{header}.{forged}.{signature}", METADATA, jwks, "app", "secret")
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(signin.SignInError, match="signature"):
        signin.verify_jwt(signed({"sub": "u1"}, other), METADATA, jwks, "app", "secret")
    with pytest.raises(signin.SignInError, match="algorithme refusé"):
        signin.verify_jwt(f"eyJhbGciOiJub25lIn0.{payload}.", METADATA, jwks, "app", "secret")


# --- the gate in the pages (nobody signed in; the browser test signs in) -------------------------------------------

@pytest.fixture
def app_env(tmp_path, monkeypatch):
    kb = copy_kb(tmp_path / "kb")
    build_index(kb, tmp_path / "index")
    point_app_at(monkeypatch, tmp_path, kb, tmp_path / "index")


def run(page: str, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(page, default_timeout=30)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_without_sign_in_this_machine_works_as_before_and_says_so(app_env):
    at = run(APP)
    assert at.text_input(key="q") is not None
    assert any("Mode local, sans connexion" in c.value for c in at.sidebar.caption)


def test_with_sign_in_configured_a_visitor_gets_the_sign_in_button_and_no_search(app_env):
    at = run(APP, {**COMPLETE, "access": {**COMPLETE["access"], "button": "Se connecter avec ProConnect"}})
    assert [b.label for b in at.button] == ["Se connecter avec ProConnect"]
    assert not at.text_input


def test_the_editors_page_checks_on_its_own(app_env, monkeypatch):
    at = run(EDITORS_PAGE, COMPLETE)  # its URL typed by someone not signed in
    assert "Connectez-vous d'abord" in at.error[0].value and not at.title and not at.button

    monkeypatch.setattr(signin, "current_access", lambda: signin.Access(AGENT, "Camille Agent"))
    at = run(EDITORS_PAGE, COMPLETE)  # an agent
    assert "réservée aux rédacteurs" in at.error[0].value and not at.title
    assert [b.label for b in at.button] == ["Se déconnecter"]

    monkeypatch.setattr(signin, "current_access", lambda: signin.Access(EDITOR, "Dominique Rédaction"))
    at = run(EDITORS_PAGE, COMPLETE)
    assert at.title[0].value == "Rédaction des fiches"


def test_served_to_the_network_without_sign_in_the_app_serves_nobody(app_env, monkeypatch):
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option", lambda key: "0.0.0.0" if key == "server.address" else real(key))
    at = run(APP)  # as if started by `streamlit run --server.address 0.0.0.0`, bypassing the launcher
    assert "sans connexion configurée, cet assistant ne sert que le poste où il tourne" in at.error[0].value
    assert not at.text_input


class Context:
    def __init__(self, headers):
        self.headers = headers


def test_without_sign_in_a_request_through_a_proxy_gets_nothing(app_env, monkeypatch):
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option", lambda key: "127.0.0.1" if key == "server.address" else real(key))
    monkeypatch.setattr(streamlit, "context", Context({"Host": "127.0.0.1:8501"}))
    assert run(APP).text_input(key="q") is not None  # straight from this machine
    monkeypatch.setattr(streamlit, "context", Context({"Host": "127.0.0.1:8501", "X-Forwarded-For": "203.0.113.9"}))
    at = run(APP)
    assert "ne sert que le poste où il tourne" in at.error[0].value and not at.text_input
    monkeypatch.setattr(streamlit, "context", Context({"Host": "assistant.example.fr"}))
    assert not run(APP).text_input


def test_broken_sign_in_settings_close_the_app(app_env):
    at = run(APP, {**COMPLETE, "access": {"agents": ["mairie.fr"]}})
    assert "Connexion mal configurée, accès fermé" in at.error[0].value
    assert not at.text_input


def test_a_broken_secrets_file_closes_the_app_and_a_missing_one_does_not(monkeypatch):
    from streamlit.errors import StreamlitSecretNotFoundError

    class Secrets:
        def __init__(self, error_id):
            self.error_id = error_id

        def to_dict(self):
            raise StreamlitSecretNotFoundError("secrets.toml : {why}", why=self.error_id, error_id=self.error_id)

    monkeypatch.setattr(signin.st, "secrets", Secrets("no-secrets-found"))
    assert signin._secrets() == {}  # no file: sign-in not configured (the local mode, on 127.0.0.1 only)
    monkeypatch.setattr(signin.st, "secrets", Secrets("failed-parsing-secrets-file"))
    with pytest.raises(signin.Refused, match="Fichier des secrets illisible"):
        signin._secrets()
