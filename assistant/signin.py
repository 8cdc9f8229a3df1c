"""The sign-in gate of every page: who is there, with which role, checked on the server at each run.

Sign-in itself is Streamlit's OpenID Connect client (st.login / st.user, `[auth]` in the secrets, Authlib underneath):
authorization code flow, with PKCE when the provider offers it. Like ProConnect, many providers put the person's
e-mail and SIRET only in the userinfo answer, sometimes as a signed JWT: this module fetches it once per sign-in with
the access token, checks its signature against the provider's published keys, and keeps the claims in memory (keyed
by a hash of the access token, which lives in Streamlit's signed cookie) so that a reload needs no new call.

Without `[auth]`, and only while the server listens on this machine alone, the app works as before for its one
local user, with the editor's rights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from assistant import auth

log = logging.getLogger(__name__)
HTTP_TIMEOUT = 10
METADATA_TTL = 3600.0
CACHE_SIZE = 2000
SIGNING_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
                "HS256", "HS384", "HS512"}


class SignInError(Exception):
    """The provider's answer cannot be trusted or read; the message is for the log and the screen (French)."""


@dataclass(frozen=True)
class Access:
    role: str  # auth.AGENT or auth.EDITOR
    name: str
    local: bool = False  # no sign-in: this machine's one user

    @property
    def editor(self) -> bool:
        return self.role == auth.EDITOR


# --- the provider, over HTTP ------------------------------------------------------------------------------------

_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict, dict]] = {}
_claims: dict[str, tuple[float, dict]] = {}


def _get(url: str, token: str | None = None) -> tuple[str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json, application/jwt"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.headers.get_content_type(), response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        raise SignInError(f"le fournisseur d'identité a répondu {exc.code} à {url}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SignInError(f"fournisseur d'identité injoignable ({url} : {exc})") from None


def provider_metadata(metadata_url: str) -> tuple[dict, dict]:
    """The provider's discovery document and its public keys (JWKS), cached an hour."""
    with _lock:
        cached = _metadata.get(metadata_url)
    if cached and time.time() - cached[0] < METADATA_TTL:
        return cached[1], cached[2]
    try:
        metadata = json.loads(_get(metadata_url)[1])
        jwks = json.loads(_get(metadata["jwks_uri"])[1]) if metadata.get("jwks_uri") else {"keys": []}
    except (ValueError, KeyError, TypeError) as exc:
        raise SignInError(f"document de découverte illisible ({metadata_url} : {exc})") from None
    with _lock:
        _metadata[metadata_url] = (time.time(), metadata, jwks)
    return metadata, jwks


def verify_jwt(token: str, metadata: Mapping[str, Any], jwks: Mapping[str, Any], client_id: str,
               client_secret: str) -> dict:
    """The claims of a signed userinfo JWT, after checking its signature, issuer, audience and expiry."""
    from joserfc import jws, jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet, OctKey

    try:
        alg = jws.extract_compact(token.encode()).protected.get("alg")
        if alg not in SIGNING_ALGS:
            raise SignInError(f"réponse userinfo signée avec un algorithme refusé ({alg})")
        key = OctKey.import_key(client_secret) if alg.startswith("HS") else KeySet.import_key_set(dict(jwks))
        claims = dict(jwt.decode(token, key, algorithms=[alg]).claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise SignInError(f"signature de la réponse userinfo invalide ({exc})") from None
    if "iss" in claims and claims["iss"] != metadata.get("issuer"):
        raise SignInError("réponse userinfo d'un autre émetteur")
    audience = claims.get("aud")
    if audience is not None and client_id not in ([audience] if isinstance(audience, str) else audience):
        raise SignInError("réponse userinfo destinée à une autre application")
    if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < time.time() - 60:
        raise SignInError("réponse userinfo expirée")
    return claims


def fetch_userinfo(settings: Mapping[str, Any], access_token: str, subject: str) -> dict:
    """The userinfo claims (JSON or signed JWT), for the same person (`sub`) as the ID token."""
    metadata, jwks = provider_metadata(str(settings["server_metadata_url"]))
    endpoint = metadata.get("userinfo_endpoint")
    if not endpoint:
        raise SignInError("le fournisseur d'identité n'annonce pas de point userinfo")
    kind, body = _get(endpoint, access_token)
    if kind == "application/jwt":
        claims = verify_jwt(body.decode("ascii", "replace").strip(), metadata, jwks, str(settings["client_id"]),
                            str(settings["client_secret"]))
    else:
        try:
            claims = json.loads(body)
        except ValueError:
            raise SignInError("réponse userinfo illisible") from None
    if not isinstance(claims, dict) or claims.get("sub") != subject:
        raise SignInError("réponse userinfo pour une autre personne que celle connectée")
    return claims


def claims_for(user: Mapping[str, Any], settings: Mapping[str, Any]) -> dict:
    """ID token claims completed by userinfo, fetched once per access token."""
    token = (user.get("tokens") or {}).get("access")
    if not token:
        raise SignInError("jeton d'accès absent : ajoutez expose_tokens = [\"id\", \"access\"] à [auth]")
    key = hashlib.sha256(token.encode()).hexdigest()
    with _lock:
        cached = _claims.get(key)
    if cached:
        return cached[1]
    identity = {k: v for k, v in user.items() if k not in ("tokens", "is_logged_in")}
    claims = {**identity, **fetch_userinfo(settings, token, str(identity.get("sub")))}
    with _lock:
        if len(_claims) >= CACHE_SIZE:
            del _claims[min(_claims, key=lambda k: _claims[k][0])]
        _claims[key] = (time.time(), claims)
    return claims


# --- the gate ---------------------------------------------------------------------------------------------------

def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception as exc:  # noqa: BLE001  a broken secrets file: nobody gets in, and the editor is told which
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return {}
        log.error("fichier des secrets illisible : %s", exc)  # its path and line: for the server's log only
        raise Refused("Fichier des secrets illisible, accès fermé (le détail est dans le journal du serveur).") \
            from None


def _network_exposed() -> bool:
    """True unless the server listens on this machine alone and this request came straight from it (not through
    a proxy). Unset means every interface; a run with no HTTP request at all (the test harness, bare mode) has
    no network to be exposed to."""
    headers = dict(st.context.headers or {})
    address = st.get_option("server.address")
    if address and not auth.is_loopback(address):
        return True
    if not headers:
        return False
    return not address or not auth.direct_local_request(headers)


def _signed_in() -> bool:
    return st.user.get("is_logged_in") is True  # absent where no sign-in ever happened (and in the test harness)


class Refused(Exception):
    """Nobody, or not this person, may use the app now; the message says why (French)."""

    def __init__(self, message: str, signed_in: bool = False):
        super().__init__(message)
        self.signed_in = signed_in


def current_access() -> Access | None:
    """Who is there, checked on the server; None when nobody is signed in (or the sign-in is too old).
    Raises Refused when the app must not serve this person, or anybody."""
    secrets = _secrets()
    if not auth.configured(secrets):
        if _network_exposed():
            raise Refused("Accès refusé : sans connexion configurée, cet assistant ne sert que le poste où il "
                          "tourne (127.0.0.1, sans proxy). Pour l'ouvrir au réseau, configurez la connexion.")
        return Access(auth.EDITOR, "poste local", local=True)
    found = auth.problems(secrets)
    if found:
        raise Refused("Connexion mal configurée, accès fermé : " + " ; ".join(found))
    policy = auth.load_policy(secrets)
    if not _signed_in():
        return None
    if auth.session_expired(st.user.to_dict(), time.time(), policy.session_hours):
        return None
    try:
        claims = claims_for(st.user.to_dict(), secrets["auth"])
    except SignInError as exc:
        log.warning("connexion refusée : %s", exc)
        raise Refused(f"Connexion impossible à vérifier : {exc}. Déconnectez-vous puis reconnectez-vous.",
                      signed_in=True) from None
    role = policy.role(claims)
    if role is None:
        email, siret = auth.identity_keys(claims)
        who = ", ".join(x for x in (email, f"SIRET {siret}" if siret else None) if x) or "ce compte"
        raise Refused(f"Accès refusé : {who} n'a pas accès à l'assistant. Demandez à votre coordinateur "
                      "France Services de vous ajouter.", signed_in=True)
    return Access(role, auth.display_name(claims))


def _refusal(refused: Refused) -> None:
    st.error(str(refused), icon=":material/lock:")
    if refused.signed_in and st.button("Se déconnecter", key="auth_logout_refused", icon=":material/logout:"):
        st.logout()


def _alone(screen) -> None:
    """Show `screen` as the app's only page (no navigation to other pages), then stop the run."""
    st.navigation([st.Page(screen, title="Assistant France Services", url_path="connexion", default=True)],
                  position="hidden").run()
    st.stop()


def _sign_in_screen() -> None:
    st.title("Assistant France Services", anchor=False)
    st.write("Connectez-vous pour rechercher une démarche.")
    if _signed_in():
        st.caption("Votre connexion a expiré.")
    if st.button(auth.load_policy(_secrets()).button, key="auth_login", type="primary", icon=":material/login:"):
        st.login()


def gate() -> Access:
    """Top of the app: the sign-in screen for a visitor, the signed-in person in the sidebar; returns the access."""
    try:
        access = current_access()
    except Refused as refused:
        _alone(lambda: _refusal(refused))
    if access is None:
        _alone(_sign_in_screen)
    with st.sidebar:
        if access.local:
            st.caption("Mode local, sans connexion : réservé à ce poste (127.0.0.1).")
        else:
            st.caption(f"{access.name} · {auth.ROLE_LABELS[access.role]}")
            if st.button("Se déconnecter", key="auth_logout", icon=":material/logout:"):
                st.logout()
    return access


def require(role: str) -> Access:
    """Top of a page: stops it, on the server, unless the person has `role` (editors have every role)."""
    try:
        access = current_access()
        if access is None:
            raise Refused("Connectez-vous d'abord depuis la page d'accueil de l'assistant.")
        if role == auth.EDITOR and not access.editor:
            raise Refused("Accès refusé : cette page est réservée aux rédacteurs.", signed_in=not access.local)
    except Refused as refused:
        _refusal(refused)
        st.stop()
    return access


def require_editor() -> Access:
    """Top of the editors' pages (Rédaction, logs, exports, rebuild)."""
    return require(auth.EDITOR)


EDITOR_PAGES = {"redaction"}


def allowed(pages: list, access: Access) -> list:
    """The navigation an access may see: editors' pages (url path `redaction`) only for editors."""
    return [page for page in pages if access.editor or getattr(page, "url_path", "") not in EDITOR_PAGES]
