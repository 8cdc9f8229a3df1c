"""Who may do what: sign-in settings checked, roles matched on the signed-in person's claims. Pure, no I/O.

Settings live in Streamlit's secrets file (`.streamlit/secrets.toml`): `[auth]` is Streamlit's own OpenID Connect
client (st.login, backed by Authlib), `[access]` is ours: who is an editor, who is an agent, how long a sign-in lasts.
A role entry is an e-mail (`marie.martin@anct.gouv.fr`), a domain (`@france-services.gouv.fr`), a SIRET (14 digits,
one establishment) or a SIREN (9 digits, every establishment of the organisation), matched on the claims `email`
and `siret` (ProConnect sends both). Editors may do everything agents do.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

AGENT = "agent"
EDITOR = "editor"
ROLE_LABELS = {AGENT: "agent", EDITOR: "rédacteur"}
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
MIN_COOKIE_SECRET = 32
DEFAULT_SESSION_HOURS = 12.0  # a ProConnect session lasts 12 hours too
DEFAULT_BUTTON = "Se connecter"

_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+\.)+[a-z0-9-]+$")
_DOMAIN = re.compile(r"^@([a-z0-9-]+\.)+[a-z0-9-]+$")


class AuthConfigError(ValueError):
    """The sign-in settings are unusable; the message says which setting and why, in French."""


@dataclass(frozen=True)
class Rule:
    kind: str  # "email", "domain", "siret" or "siren"
    value: str

    def matches(self, email: str | None, siret: str | None) -> bool:
        if self.kind == "email":
            return email == self.value
        if self.kind == "domain":
            return email is not None and email.rpartition("@")[2] == self.value[1:]
        if self.kind == "siret":
            return siret == self.value
        return siret is not None and siret[:9] == self.value


def parse_rule(entry: Any, where: str) -> Rule:
    """One role entry, recognised by its shape; anything else is an error naming the setting."""
    text = str(entry).strip().lower() if isinstance(entry, str) else ""
    digits = re.sub(r"[\s.]", "", text)
    if _EMAIL.match(text):
        return Rule("email", text)
    if _DOMAIN.match(text):
        return Rule("domain", text)
    if digits.isdigit() and len(digits) == 14:
        return Rule("siret", digits)
    if digits.isdigit() and len(digits) == 9:
        return Rule("siren", digits)
    raise AuthConfigError(f"{where} : entrée « {entry} » non reconnue (attendu : une adresse e-mail, @domaine, "
                          f"un SIRET à 14 chiffres ou un SIREN à 9 chiffres)")


@dataclass(frozen=True)
class Policy:
    """The `[access]` settings: role rules, sign-in lifetime, the sign-in button's label."""

    editors: tuple[Rule, ...]
    agents: tuple[Rule, ...]
    session_hours: float = DEFAULT_SESSION_HOURS
    button: str = DEFAULT_BUTTON

    def role(self, claims: Mapping[str, Any]) -> str | None:
        """`editor`, `agent`, or None (signed in, but not allowed here)."""
        email, siret = identity_keys(claims)
        if any(rule.matches(email, siret) for rule in self.editors):
            return EDITOR
        if any(rule.matches(email, siret) for rule in self.agents):
            return AGENT
        return None


def identity_keys(claims: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The e-mail (lower case; ignored when the provider says it is not verified) and the SIRET (digits only)."""
    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) and _EMAIL.match(email.strip().lower()) else None
    if claims.get("email_verified") is False or claims.get("email_verified") == "false":
        email = None
    siret = claims.get("siret")
    siret = re.sub(r"\s", "", siret) if isinstance(siret, str) else None
    return email, (siret if siret and siret.isdigit() and len(siret) == 14 else None)


def display_name(claims: Mapping[str, Any]) -> str:
    """« Prénom Nom » from ProConnect's given_name/usual_name or the standard claims; else the e-mail."""
    family = claims.get("usual_name") or claims.get("family_name")
    parts = [str(p) for p in (claims.get("given_name"), family) if p]
    return " ".join(parts) or str(claims.get("name") or claims.get("email") or claims.get("sub") or "?")


def session_expired(claims: Mapping[str, Any], now: float, hours: float) -> bool:
    """True once the sign-in (auth_time, else the ID token's iat) is older than `hours`; without a date, True."""
    when = claims.get("auth_time") or claims.get("iat")
    try:
        return now - float(when) > hours * 3600
    except (TypeError, ValueError):
        return True


def _section(secrets: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    section = secrets.get(name)
    return section if isinstance(section, Mapping) else None


def configured(secrets: Mapping[str, Any]) -> bool:
    """Sign-in is on as soon as the secrets have an `[auth]` section (then it must be complete)."""
    return "auth" in secrets


def _rules(access: Mapping[str, Any], key: str) -> tuple[Rule, ...]:
    entries = access.get(key, [])
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, Iterable):
        raise AuthConfigError(f"[access] {key} : une liste est attendue")
    return tuple(parse_rule(entry, f"[access] {key}") for entry in entries)


def load_policy(secrets: Mapping[str, Any]) -> Policy:
    """The `[access]` section as a Policy; AuthConfigError names the faulty setting."""
    access = _section(secrets, "access")
    if access is None:
        raise AuthConfigError("section [access] absente : indiquez qui est rédacteur (editors) et qui est agent "
                              "(agents)")
    editors, agents = _rules(access, "editors"), _rules(access, "agents")
    if not editors and not agents:
        raise AuthConfigError("[access] : ni editors ni agents ; personne ne pourrait entrer")
    try:
        hours = float(access.get("session_hours", DEFAULT_SESSION_HOURS))
    except (TypeError, ValueError):
        hours = -1.0
    if not 0 < hours <= 24 * 31:
        raise AuthConfigError(f"[access] session_hours : « {access.get('session_hours')} » n'est pas une durée "
                              "en heures (entre 0 et 744)")
    return Policy(editors, agents, hours, str(access.get("button") or DEFAULT_BUTTON))


def problems(secrets: Mapping[str, Any]) -> list[str]:
    """Everything wrong with configured sign-in settings, in French (empty: usable)."""
    auth = _section(secrets, "auth")
    if auth is None:
        return ["[auth] doit être une section"]
    found = [f"[auth] {key} manquant" for key in AUTH_KEYS if not auth.get(key)]
    if auth.get("cookie_secret") and len(str(auth["cookie_secret"])) < MIN_COOKIE_SECRET:
        found.append(f"[auth] cookie_secret trop court (au moins {MIN_COOKIE_SECRET} caractères aléatoires)")
    if auth.get("redirect_uri") and not str(auth["redirect_uri"]).endswith("/oauth2callback"):
        found.append("[auth] redirect_uri doit finir par /oauth2callback")
    tokens = auth.get("expose_tokens", [])
    tokens = [tokens] if isinstance(tokens, str) else list(tokens) if isinstance(tokens, (list, tuple)) else []
    if "access" not in tokens:
        found.append('[auth] expose_tokens doit contenir "access" (les informations de l\'agent sont lues sur '
                     "le point userinfo du fournisseur)")
    try:
        load_policy(secrets)
    except AuthConfigError as exc:
        found.append(str(exc))
    return found


def is_loopback(address: str | None) -> bool:
    """True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost); empty means every interface."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[] ")).is_loopback
    except ValueError:
        return False


PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def direct_local_request(headers: Mapping[str, str]) -> bool:
    """True when a request came straight from this machine: no proxy header, and a Host naming the loopback.
    The local mode (no sign-in) serves only such requests, so a proxy put in front of it opens nothing."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if any(name in lowered for name in PROXY_HEADERS):
        return False
    host = lowered.get("host", "").strip()
    host = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
    return is_loopback(host)


def exposure_problems(address: str, secrets: Mapping[str, Any]) -> list[str]:
    """Why the app must not start on `address` with these settings (empty: it may)."""
    if configured(secrets):
        found = problems(secrets)
        redirect = str((_section(secrets, "auth") or {}).get("redirect_uri", ""))
        if not is_loopback(address) and redirect and not redirect.startswith("https://"):
            found.append("[auth] redirect_uri doit être en https:// pour servir le réseau (mettez un proxy TLS "
                         "devant l'assistant)")
        return found
    if is_loopback(address):
        return []
    return [f"l'adresse « {address or 'toutes les interfaces'} » ouvre l'assistant au réseau, mais la connexion "
            "(OpenID Connect) n'est pas configurée : ajoutez les sections [auth] et [access] au fichier des secrets, "
            "ou gardez l'adresse 127.0.0.1"]
