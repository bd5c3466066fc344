from tests.pki import pki, pki_settings, signed_pdf  # noqa: F401


def pytest_terminal_summary(terminalreporter):
    """The corpus's confusion table: genuine files accepted or refused, attacks refused or accepted."""
    from .test_corpus import RESULTS

    if not RESULTS:
        return
    rows = {}
    for klass, genuine, accepted, _ in RESULTS.values():
        row = rows.setdefault(klass, [0, 0, 0, 0])
        row[(0 if accepted else 1) if genuine else (2 if not accepted else 3)] += 1
    write = terminalreporter.write_line
    write("")
    write(f"Signature corpus: {len(RESULTS)} files")
    write(f"{'class':44} {'genuine ok':>10} {'genuine refused':>15} {'attack refused':>14} {'attack accepted':>15}")
    for klass, row in sorted(rows.items()):
        write(f"{klass:44} {row[0]:>10} {row[1]:>15} {row[2]:>14} {row[3]:>15}")
    totals = [sum(r[i] for r in rows.values()) for i in range(4)]
    write(f"{'total':44} {totals[0]:>10} {totals[1]:>15} {totals[2]:>14} {totals[3]:>15}")
