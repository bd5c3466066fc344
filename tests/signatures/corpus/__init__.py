"""The verification corpus: genuine signed PDFs as real producers write them, and the attacks on
them, each with the verdict expected beside it. Nothing binary is committed: every file is made here,
from the test PKI, by pyHanko, pypdf, qpdf (pikepdf) or bytes written by hand.

``CASES`` lists them; ``build(pki)`` makes every file (a few seconds). Each ``Sample`` names its
class (the corpus table's rows and the benchmark's groups), whether it is genuine, the verdict
expected, the signer that must be found (a CIN, or None) and what else the report must say.

    python -m tests.signatures.corpus OUTDIR    # writes every file and a manifest.json there
"""

import dataclasses
from collections.abc import Callable

from signatures.verification import Code


@dataclasses.dataclass
class Sample:
    name: str
    klass: str
    genuine: bool
    expect: Code
    data: bytes = b""
    signer: str | None = None  # CIN of the signer that must be found (verify_pdf signer_must_be)
    pades: dict | None = None  # {signature index: expected pades_level}
    changes: set = dataclasses.field(default_factory=set)  # permitted change kinds the report must list
    refused: set = dataclasses.field(default_factory=set)  # refused change kinds the report must list
    intact: bool | None = None  # expected ``intact`` of every signature
    reason: str | None = None  # expected report.reason


@dataclasses.dataclass
class Case:
    name: str
    klass: str
    genuine: bool
    expect: Code
    make: Callable  # make(pki) -> bytes
    options: dict = dataclasses.field(default_factory=dict)

    def sample(self, pki) -> Sample:
        return Sample(self.name, self.klass, self.genuine, self.expect, self.make(pki), **self.options)


def build(pki, names=None) -> list[Sample]:
    from .cases import CASES

    return [case.sample(pki) for case in CASES if names is None or case.name in names]
