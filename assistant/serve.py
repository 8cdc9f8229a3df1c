"""Start the assistant's Streamlit server, safely: `python -m assistant.serve [--address A] [--port P]`.

Listens on 127.0.0.1 unless told otherwise (ASSISTANT_ADDRESS or --address). Any other address serves the
network, which needs sign-in configured in the secrets file (ASSISTANT_SECRETS, default .streamlit/secrets.toml):
otherwise it refuses to start, says why in French and exits with status 2. Then it becomes `streamlit run`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

from assistant.auth import exposure_problems

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "assistant_app.py"
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_SECRETS = ".streamlit/secrets.toml"


class SettingsError(Exception):
    """The secrets file cannot be read; the message names it."""


def read_secrets(path: Path) -> dict:
    """The secrets file as a dict ({} when it does not exist); bad TOML names the file and the line."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} : illisible ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} : TOML invalide ({exc})") from None


def streamlit_command(address: str, port: int, secrets: Path, extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", address,
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--secrets.files", str(secrets)]  # only this file: the app and this check read the same settings
    return command + extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--address", default=os.environ.get("ASSISTANT_ADDRESS") or DEFAULT_ADDRESS,
                        help="adresse d'écoute (défaut 127.0.0.1 : ce poste seulement)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ASSISTANT_PORT") or 8501))
    parser.add_argument("--secrets", type=Path, default=Path(os.environ.get("ASSISTANT_SECRETS") or DEFAULT_SECRETS),
                        help="fichier des secrets de Streamlit, avec [auth] et [access]")
    args, extra = parser.parse_known_args(argv)
    try:
        secrets = read_secrets(args.secrets)
    except SettingsError as exc:
        print(f"Refus de démarrer : {exc}", file=sys.stderr)
        return 2
    found = exposure_problems(args.address, secrets)
    if found:
        print(f"Refus de démarrer l'assistant sur {args.address or 'toutes les interfaces'} :", file=sys.stderr)
        for problem in found:
            print(f"  - {args.secrets} : {problem}" if problem.startswith("[") else f"  - {problem}",
                  file=sys.stderr)
        print("Voir la section « Security: sign-in and network exposure » du README.", file=sys.stderr)
        return 2
    command = streamlit_command(args.address, args.port, args.secrets, extra)
    sys.stdout.flush()
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
