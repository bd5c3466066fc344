"""Active content in a PDF: what a reader would run, launch or unpack, rather than show.

A dossier document is read by officers and by the CMR, and forwarded: it has no business running a
script when opened, launching a program, submitting a form, carrying an attached file, or holding
an XFA form. ``active_content(reader)`` names each such thing in the document as a reader sees it
(its final revision); ``verify_pdf`` refuses the file with ``ACTIVE_CONTENT``, signed or not.

Harmless navigation stays allowed: an opening view (a destination), links to a page of the document
(/GoTo), to a web address (/URI), to a named viewer command (/Named), to an article (/Thread).
"""

from pyhanko.pdf_utils import generic, misc

SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named", "/Thread"})
ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"})
MAX_ITEMS = 20_000  # outline items, name-tree nodes, annotations visited


class _Budget:
    def __init__(self):
        self.left = MAX_ITEMS

    def spend(self):
        self.left -= 1
        if self.left < 0:
            raise ValueError("too many objects to inspect")


def _get(dictionary, key):
    try:
        value = dictionary.raw_get(key)
    except (KeyError, AttributeError):
        return None
    seen = 0
    while isinstance(value, generic.IndirectObject) and seen < 32:
        value = value.get_object()
        seen += 1
    return value


def _actions(value, budget, where) -> list[str]:
    """The active actions in an action dictionary (or array of them), following /Next."""
    found, pending = [], [value]
    while pending:
        budget.spend()
        item = pending.pop()
        while isinstance(item, generic.IndirectObject):
            item = item.get_object()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, generic.DictionaryObject):
            kind = _get(item, "/S")
            if kind is not None and str(kind) not in SAFE_ACTIONS:
                found.append(f"{where}: {kind} action")
            if "/Next" in item:
                pending.append(_get(item, "/Next"))
    return found


def _additional_actions(holder, budget, where) -> list[str]:
    aa = _get(holder, "/AA")
    if not isinstance(aa, generic.DictionaryObject):
        return []
    if not aa:
        return []
    # Actions run on an event (opening a page, leaving a field, printing): refused whatever they do.
    return [f"{where}: actions on {', '.join(str(trigger) for trigger in aa)}"]


def _name_tree_has_entries(node, budget) -> bool:
    pending = [node]
    while pending:
        budget.spend()
        item = pending.pop()
        while isinstance(item, generic.IndirectObject):
            item = item.get_object()
        if not isinstance(item, generic.DictionaryObject):
            continue
        names = _get(item, "/Names")
        if isinstance(names, list) and len(names) > 0:
            return True
        kids = _get(item, "/Kids")
        if isinstance(kids, list):
            pending.extend(kids)
    return False


def active_content(reader) -> list[str]:
    """What in the document would run, launch, submit or unpack (empty: nothing)."""
    budget = _Budget()
    try:
        return _inspect(reader.root, budget)
    except (misc.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        return [f"the document could not be inspected for active content ({type(exc).__name__})"]


def _inspect(root, budget) -> list[str]:
    found = []
    opening = _get(root, "/OpenAction")
    if isinstance(opening, generic.DictionaryObject):
        found += _actions(opening, budget, "opening action")
    found += _additional_actions(root, budget, "document")
    names = _get(root, "/Names")
    if isinstance(names, generic.DictionaryObject):
        for key, label in (("/JavaScript", "document scripts"), ("/EmbeddedFiles", "attached files"),
                           ("/AlternatePresentations", "alternate presentations")):
            tree = _get(names, key)
            if tree is not None and _name_tree_has_entries(tree, budget):
                found.append(label)
    if _get(root, "/AF"):
        found.append("associated files")
    form = _get(root, "/AcroForm")
    if isinstance(form, generic.DictionaryObject):
        if _get(form, "/XFA") is not None:
            found.append("an XFA form")
        found += _fields(form, budget)
    found += _outlines(_get(root, "/Outlines"), budget)
    found += _pages(_get(root, "/Pages"), budget)
    return found


def _fields(form, budget) -> list[str]:
    found, pending, seen = [], list(_get(form, "/Fields") or []), set()
    while pending:
        budget.spend()
        raw = pending.pop()
        key = (raw.idnum, raw.generation) if isinstance(raw, generic.IndirectObject) else None
        if key in seen:
            continue
        if key:
            seen.add(key)
        node = raw.get_object() if isinstance(raw, generic.IndirectObject) else raw
        if not isinstance(node, generic.DictionaryObject):
            continue
        name = _get(node, "/T")
        found += _additional_actions(node, budget, f"form field {name}" if name else "form field")
        action = _get(node, "/A")
        if action is not None:
            found += _actions(action, budget, f"form field {name}" if name else "form field")
        kids = _get(node, "/Kids")
        if isinstance(kids, list):
            pending.extend(kids)
    return found


def _outlines(outlines, budget) -> list[str]:
    found, pending, seen = [], [], set()
    if isinstance(outlines, generic.DictionaryObject):
        pending.append(outlines.raw_get("/First") if "/First" in outlines else None)
    while pending:
        budget.spend()
        raw = pending.pop()
        if raw is None:
            continue
        key = (raw.idnum, raw.generation) if isinstance(raw, generic.IndirectObject) else id(raw)
        if key in seen:
            continue
        seen.add(key)
        item = raw.get_object() if isinstance(raw, generic.IndirectObject) else raw
        if not isinstance(item, generic.DictionaryObject):
            continue
        action = _get(item, "/A")
        if action is not None:
            found += _actions(action, budget, "bookmark")
        for link in ("/Next", "/First"):
            if link in item:
                pending.append(item.raw_get(link))
    return found


def _pages(tree, budget) -> list[str]:
    found, pending, seen, number = [], [tree], set(), 0
    while pending:
        budget.spend()
        raw = pending.pop()
        key = (raw.idnum, raw.generation) if isinstance(raw, generic.IndirectObject) else None
        if key in seen:
            continue
        if key:
            seen.add(key)
        node = raw.get_object() if isinstance(raw, generic.IndirectObject) else raw
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = _get(node, "/Kids")
        if isinstance(kids, list) and _get(node, "/Type") != "/Page":
            pending.extend(reversed(list(list.__iter__(kids))))
            continue
        number += 1
        where = f"page {number}"
        found += _additional_actions(node, budget, where)
        if _get(node, "/AF"):
            found.append(f"{where}: associated files")
        for annot in _get(node, "/Annots") or []:
            budget.spend()
            annot = annot.get_object() if isinstance(annot, generic.IndirectObject) else annot
            if not isinstance(annot, generic.DictionaryObject):
                continue
            subtype = _get(annot, "/Subtype")
            if subtype in ACTIVE_ANNOTATIONS:
                found.append(f"{where}: a {str(subtype)[1:]} annotation")
            action = _get(annot, "/A")
            if action is not None:
                found += _actions(action, budget, f"{where} annotation")
            found += _additional_actions(annot, budget, f"{where} annotation")
    return found
