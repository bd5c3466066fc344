"""``python -m tests.signatures.corpus OUTDIR``: write every corpus file, its test PKI and a manifest."""

import json
import os
import sys
from pathlib import Path


def main(argv):
    if len(argv) != 1:
        print(__doc__)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eretraite.settings")
    import django

    django.setup()
    from signatures.testpki import build_pki, write_pki
    from tests.pki import PkiFiles

    from .cases import write_all

    out = Path(argv[0])
    built = build_pki()
    pki = PkiFiles(built, out / "pki", write_pki(built, out / "pki"))
    manifest = write_all(pki, out / "files")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(f"{len(manifest)} files in {out / 'files'}; trust roots in {out / 'pki' / 'trust'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
