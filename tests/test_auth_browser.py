"""Sign-in end to end: a real OpenID Connect provider (panva's oidc-provider, run by node, set up like ProConnect),
the app started by its launcher, and Debian's chromium driven by playwright.

One provider and one app serve every case of the module; each case has its own browser context (its own cookies).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app_support import CHROMIUM, ROOT, build_index, chromium_browser, copy_kb, free_port, running

pytestmark = pytest.mark.browser

OIDC_DIR = ROOT / "tests" / "oidc"
CLIENT_ID = "assistant-france-services"
CLIENT_SECRET = "secret-de-test-du-client-oidc"
BUTTON = "Se connecter avec le fournisseur de test"


def missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} absent : la CI doit l'installer (make test s'en charge)")
    pytest.skip(f"{what} absent")


def secrets_toml(app_port: int, oidc_port: int) -> str:
    return f"""
[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "{secrets.token_urlsafe(32)}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "http://127.0.0.1:{oidc_port}/.well-known/openid-configuration"
expose_tokens = ["id", "access"]

[auth.client_kwargs]
scope = "openid email given_name usual_name siret"
prompt = "login"
token_endpoint_auth_method = "client_secret_post"

[access]
button = "{BUTTON}"
editors = ["dominique.redaction@anct.gouv.fr"]
agents = ["217 500 016 00019", "@mairie-test.fr"]
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    if not shutil.which("node") or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        missing("node ou tests/oidc/node_modules (npm ci --prefix tests/oidc)")
    tmp = tmp_path_factory.mktemp("signin")
    kb = copy_kb(tmp / "kb")
    build_index(kb, tmp / "index")
    app_port, oidc_port = free_port(), free_port()
    (tmp / "secrets.toml").write_text(secrets_toml(app_port, oidc_port), encoding="utf-8")
    provider_env = {"OIDC_PORT": str(oidc_port), "OIDC_REDIRECT_URI": f"http://127.0.0.1:{app_port}/oauth2callback",
                    "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET}
    app_env = {"INDEXER_INDEX": str(tmp / "index"), "INDEXER_KB": str(kb),
               "ASSISTANT_DB": str(tmp / "data" / "assistant.sqlite"), "ASSISTANT_SECRETS": str(tmp / "secrets.toml"),
               "ASSISTANT_ADDRESS": ""}  # the default address
    with running(["node", str(OIDC_DIR / "provider.js")], provider_env, tmp / "oidc.log",
                 f"http://127.0.0.1:{oidc_port}/.well-known/openid-configuration"), \
         running([sys.executable, "-m", "assistant.serve", "--port", str(app_port)], app_env, tmp / "app.log",
                 f"http://127.0.0.1:{app_port}/_stcore/health"):
        yield f"http://127.0.0.1:{app_port}"


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        missing(CHROMIUM)
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def page(chromium):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)  # a loaded 2-core machine: waiting, never a speed check
    try:
        yield page
    finally:
        context.close()
        expect.set_options(timeout=5_000)  # playwright's default, for the other browser tests


def sign_in(page, app_url: str, login: str) -> None:
    """Through the provider's own login page, as a person would."""
    from playwright.sync_api import expect

    page.goto(app_url)
    page.get_by_role("button", name=BUTTON).click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("mot-de-passe")
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(f"{app_url}/**")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on `port`, from the kernel's tables (Linux)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]  # each 32-bit word is host-order
                    found.add(str(ipaddress.ip_address(b"".join(words))) if width == 32 else
                              str(ipaddress.ip_address(raw[::-1])))
    return found


def test_the_launcher_listens_on_this_machine_only(app_url):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("pas de /proc/net/tcp")
    assert listening_addresses(int(app_url.rsplit(":", 1)[1])) == {"127.0.0.1"}


def test_not_signed_in_gets_no_search(app_url, page):
    from playwright.sync_api import expect

    page.goto(app_url)
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible()
    expect(page.get_by_text("Connectez-vous pour rechercher une démarche.")).to_be_visible()
    assert page.get_by_label("Rechercher une démarche").count() == 0
    page.goto(f"{app_url}/redaction")
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible()
    assert page.get_by_text("Rédaction des fiches").count() == 0


def test_agent_searches_and_is_refused_the_editors_page(app_url, page):
    from playwright.sync_api import expect

    sign_in(page, app_url, "agent")
    expect(page.get_by_text("Camille Agent · agent")).to_be_visible()
    box = page.get_by_label("Rechercher une démarche")
    box.fill("immatriculer un véhicule")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Immatriculer un véhicule d'occasion")).to_be_visible()
    assert page.get_by_role("link", name="Rédaction").count() == 0

    page.goto(f"{app_url}/redaction")  # typed by hand: the server never runs the editors' page for an agent
    expect(page.get_by_label("Rechercher une démarche")).to_be_visible()
    expect(page.get_by_text("Camille Agent · agent")).to_be_visible()
    assert page.get_by_text("Rédaction des fiches").count() == 0
    assert page.get_by_role("button", name="Reconstruire l'index").count() == 0


def test_editor_sees_the_editors_page(app_url, page):
    from playwright.sync_api import expect

    sign_in(page, app_url, "redacteur")
    expect(page.get_by_text("Dominique Rédaction · rédacteur")).to_be_visible()
    page.get_by_role("link", name="Rédaction").click()
    expect(page.get_by_role("heading", name="Rédaction des fiches")).to_be_visible()
    expect(page.get_by_role("button", name="Reconstruire l'index")).to_be_visible()


def test_a_person_with_no_role_is_refused(app_url, page):
    from playwright.sync_api import expect

    sign_in(page, app_url, "inconnu")
    expect(page.get_by_text("Accès refusé : claude.inconnu@ailleurs.example, SIRET 99999999999999")).to_be_visible()
    assert page.get_by_label("Rechercher une démarche").count() == 0

    page.get_by_role("button", name="Se déconnecter").click()  # the app's cookie goes, whatever the provider says
    page.wait_for_url(lambda url: not url.startswith(app_url))
    page.goto(app_url)
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible()
