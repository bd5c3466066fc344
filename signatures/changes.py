"""What changed in a signed PDF after a signature, and whether it was allowed to change.

A signature covers one revision of the file; what a later incremental update may add is the law's
business, not the writer's. So the question is not "which objects did the update write" (writers
rewrite unchanged objects, renumber them, move them into object streams, make an inherited page
box explicit, rewrite a DSS from scratch: none of that changes the document) but "what does the
document say now that it did not say when it was signed". This module answers it by comparing the
signed revision with the final one as documents:

- the pages, in order, each with its effective (inherited) boxes, rotation, resources and content;
- the annotations of each page, matched by object and by value;
- the form fields by their full names, with their values and widgets;
- the document catalogue entry by entry, and the trailer's document information.

Every difference becomes a ``Change`` of one ``Kind``. ``PERMITTED`` is the table of what may follow
each kind of signature (an approval signature, or a certification with DocMDP P = 1, 2 or 3); a
field that a signature locks (FieldMDP) may not change after it whatever the table says.
``judge`` applies the table. Objects are compared as values (numbers as numbers,
content streams by their decoded bytes), iteratively, under a budget: a document too large or too
deep to compare cannot be shown unchanged, and is refused (``AnalysisError``).
"""

import dataclasses
import enum
from decimal import Decimal

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.xref import ObjStreamRef

from . import appearance

# --- the kinds of change, and what may follow each kind of signature ---------------------------------


class Kind(enum.StrEnum):
    # Long-term validation and bookkeeping: allowed after any signature, even "no changes" (P=1).
    VALIDATION_DATA = "validation_data"  # DSS, VRI: certificates, CRLs, OCSP answers
    DOCUMENT_TIMESTAMP = "document_timestamp"
    METADATA = "metadata"  # document information, XMP, /Extensions, /Version, form flags
    # What a signature, a form or a reader adds:
    STRUCTURE = "structure"  # tags (StructTreeRoot), tab order: nothing that is drawn
    SIGNATURE_ADDED = "signature_added"
    FORM_FILLED = "form_filled"  # a value given to a field that was empty when signed
    COMMENT_ADDED = "comment_added"  # a note, highlight, underline... with no action
    ANNOTATION_CHANGED = "annotation_changed"  # any other annotation added, changed or removed
    # Never allowed after a signature:
    PAGE_ADDED = "page_added"
    PAGE_REMOVED = "page_removed"
    PAGE_CONTENT = "page_content"  # what the page draws
    PAGE_CHANGED = "page_changed"  # its resources (fonts, images), boxes, rotation, actions...
    FIELD_ADDED = "field_added"
    FIELD_REMOVED = "field_removed"
    FIELD_VALUE_REPLACED = "field_value_replaced"  # a value that was signed, replaced
    LOCKED_FIELD_CHANGED = "locked_field_changed"  # a field the signature locks (FieldMDP)
    SIGNATURE_REPLACED = "signature_replaced"  # an existing signature or its appearance changed
    FORM_CHANGED = "form_changed"  # the form's structure, options, actions
    ACTIVE_CONTENT = "active_content"  # JavaScript, launch, embedded files, XFA... added
    DOCUMENT_CHANGED = "document_changed"  # any other entry of the catalogue or trailer
    APPENDED_DATA = "appended_data"  # bytes after the last revision that no reader accounts for
    UNANALYSABLE = "unanalysable"  # the comparison could not be completed


APPROVAL = 0  # an approval signature, with no DocMDP restriction of its own
NO_CHANGES, FORM_FILLING, ANNOTATING = 1, 2, 3  # DocMDP P values
ANY = frozenset({APPROVAL, NO_CHANGES, FORM_FILLING, ANNOTATING})

# The policy: for each kind of change, the signatures after which it is legitimate (ISO 32000-2
# 12.8.2.2 for DocMDP; ETSI EN 319 142-1 5.4 for validation data and document timestamps).
# Whatever is not listed is a modification of what was signed.
PERMITTED: dict[Kind, frozenset[int]] = {
    Kind.VALIDATION_DATA: ANY,
    Kind.DOCUMENT_TIMESTAMP: ANY,
    Kind.METADATA: ANY,
    Kind.STRUCTURE: frozenset({APPROVAL, FORM_FILLING, ANNOTATING}),
    Kind.SIGNATURE_ADDED: frozenset({APPROVAL, FORM_FILLING, ANNOTATING}),
    Kind.FORM_FILLED: frozenset({APPROVAL, FORM_FILLING, ANNOTATING}),
    Kind.COMMENT_ADDED: frozenset({APPROVAL, ANNOTATING}),
    Kind.ANNOTATION_CHANGED: frozenset({ANNOTATING}),
}

# Annotations that only comment: they carry a remark, mark up text, or pop up. A free-text box,
# a stamp or a drawing writes on the page, and is an ordinary annotation (P=3 only).
COMMENT_SUBTYPES = frozenset({"/Text", "/Popup", "/Highlight", "/Underline", "/Squiggly", "/StrikeOut",
                              "/Caret"})
# Actions that run something or leave the document (ISO 32000-2 12.6.4): never added after signing.
ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/ResetForm",
                            "/Rendition", "/RichMediaExecute", "/GoToE", "/GoToR", "/Movie", "/Sound",
                            "/Hide", "/SetOCGState", "/Trans", "/GoTo3DView", "/URI", "/Named"})
ACTIVE_SUBTYPES = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"})
INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
PAGE_METADATA = frozenset({"/LastModified", "/PieceInfo"})
PAGE_STRUCTURE = frozenset({"/StructParents", "/Tabs"})


@dataclasses.dataclass(frozen=True)
class Change:
    kind: Kind
    where: str = ""  # what changed, technically: "page 1 /Contents", "field amount"
    field: str | None = None  # the field's full name, for FieldMDP locks
    lockable: bool = False  # whether a FieldMDP lock on ``field`` forbids it
    page: int | None = None  # a visible addition: its page (0-based) and rectangle
    rect: tuple[float, float, float, float] | None = None
    widget: tuple | None = None  # the annotation drawn (object number and generation), if one

    def as_dict(self) -> dict:
        data = {"kind": str(self.kind), "where": self.where}
        if self.page is not None:
            data["page"] = self.page + 1
        if self.widget is not None:
            data["widget"] = list(self.widget)
        return data


class AnalysisError(Exception):
    """The two revisions could not be compared (hostile, damaged or too large)."""


def judge(changes, *, docmdp: int | None, is_locked=None) -> list[tuple[Change, bool]]:
    """Each change with whether the signature's permissions allow it: ``docmdp`` is the DocMDP P
    in force (None: an approval signature), ``is_locked(name)`` whether the signature locks a
    field. A change to a locked field comes back as ``LOCKED_FIELD_CHANGED``."""
    context = APPROVAL if docmdp is None else max(NO_CHANGES, min(int(docmdp), ANNOTATING))
    judged = []
    for change in changes:
        if context not in PERMITTED.get(change.kind, frozenset()):
            judged.append((change, False))
        elif change.lockable and change.field and is_locked is not None and is_locked(change.field):
            judged.append((dataclasses.replace(change, kind=Kind.LOCKED_FIELD_CHANGED), False))
        else:
            judged.append((change, True))
    return judged


def visible_annotations(reader, revision: int) -> dict[int, list]:
    """{page index: [(annotation key, rectangle)] of the annotations visible in ``revision``}."""
    comparison = Comparison(reader, revision)
    try:
        root = _resolve(_trailer(comparison.old).raw_get("/Root"))
        pages = comparison.pages(root)
        return {index: [(k, _rect(a)) for k, a in comparison._annotations(page.node)
                        if isinstance(a, generic.DictionaryObject) and is_visible(a)]
                for index, page in enumerate(pages)}
    except (AnalysisError, misc.PdfError, ValueError, KeyError, TypeError, AttributeError):
        return {}


# --- comparing two revisions ------------------------------------------------------------------------

MAX_OBJECTS = 400_000  # object pairs visited in one comparison
MAX_PAGES = 20_000
MAX_FIELDS = 20_000


def _deref(obj):
    seen = 0
    while isinstance(obj, generic.IndirectObject):
        obj = obj.get_object()
        seen += 1
        if seen > 32:
            raise AnalysisError("reference loop")
    if isinstance(obj, generic.DecryptedObjectProxy):  # pragma: no cover - encrypted files are refused
        obj = obj.decrypted
    return obj


def _resolve(obj):
    """An object's value; a reference to an object that does not exist reads as null (ISO 32000-2
    7.3.10), in the old revision as in the new."""
    try:
        return _deref(obj)
    except AnalysisError:
        raise
    except (misc.PdfReadError, KeyError, IndexError) as exc:
        if isinstance(obj, generic.IndirectObject) and _missing(obj):
            return generic.NullObject()
        raise AnalysisError(f"unreadable object {_key(obj)}: {exc}") from exc
    except (misc.PdfError, ValueError, TypeError) as exc:
        raise AnalysisError(f"unreadable object {_key(obj)}: {exc}") from exc


def _missing(ref) -> bool:
    handler = ref.get_pdf_handler()
    reader = getattr(handler, "reader", handler)
    try:
        return reader.xrefs.get_historical_ref(ref.reference, getattr(handler, "revision", 10**9)) is None
    except Exception:  # noqa: BLE001 - cannot tell: not missing, so the caller refuses
        return False


def _bind(value, handler):
    """A trailer entry read in ``handler``'s revision (the flattened trailer's references point at the
    newest objects)."""
    if isinstance(value, generic.IndirectObject):
        return generic.IndirectObject(value.idnum, value.generation, handler)
    return value


def _trailer(handler) -> generic.DictionaryObject:
    view = handler.trailer_view
    return generic.DictionaryObject({k: _bind(view.raw_get(k), handler) for k in view})


def _key(obj):
    return (obj.idnum, obj.generation) if isinstance(obj, generic.IndirectObject) else None


def _get(dictionary, key, default=None):
    try:
        return _resolve(dictionary.raw_get(key))
    except KeyError:
        return default


def _is_empty_value(value) -> bool:
    if value is None or isinstance(value, generic.NullObject):
        return True
    if isinstance(value, (str, bytes)):
        return len(value) == 0 or value == "/Off"
    if isinstance(value, list):
        return len(value) == 0
    return False


def _rect(annotation):
    try:
        x1, y1, x2, y2 = (float(v) for v in _resolve(annotation.raw_get("/Rect")))
    except (KeyError, TypeError, ValueError, misc.PdfError):
        return None
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def is_visible(annotation) -> bool:
    """Whether an annotation draws something: a rectangle with an area, not hidden."""
    rect = _rect(annotation)
    flags = _flags(annotation)
    return rect is not None and rect[2] - rect[0] > 0 and rect[3] - rect[1] > 0 and not flags & (2 | 32)


def _flags(annotation) -> int:
    """An annotation's /F flags as readers take them: anything but an integer reads as 0 (PDFium
    draws an annotation whose flags are the string (2) though a lax reader would hide it)."""
    value = _get(annotation, "/F", 0)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _active_action(action) -> str | None:
    """The first action in an action dictionary (and its /Next chain) that is active content."""
    pending, seen = [action], 0
    while pending and seen < 256:
        item = _resolve(pending.pop())
        seen += 1
        if isinstance(item, list):
            pending.extend(item)
            continue
        if not isinstance(item, generic.DictionaryObject):
            continue
        kind = _get(item, "/S")
        if kind in ACTIVE_ACTIONS:
            return str(kind)
        nxt = item.get("/Next") if "/Next" in item else None
        if nxt is not None:
            pending.append(item.raw_get("/Next"))
    return None


def annotation_actions(annotation) -> str | None:
    """Why an annotation is active content, or None."""
    subtype = _get(annotation, "/Subtype")
    if subtype in ACTIVE_SUBTYPES:
        return str(subtype)
    for key in ("/A", "/AA"):
        if key not in annotation:
            continue
        value = _get(annotation, key)
        if key == "/AA" and isinstance(value, generic.DictionaryObject):
            for trigger in list(value.keys()):
                found = _active_action(value.raw_get(trigger))
                if found:
                    return found
        else:
            found = _active_action(value)
            if found:
                return found
    return None


@dataclasses.dataclass
class _Page:
    node: generic.DictionaryObject
    key: tuple | None
    inherited: dict


@dataclasses.dataclass
class _Widgets:
    """The widgets of the old and the new form, and those of new signatures: {key: (kind, field)}."""

    old: set
    new: set
    signatures: dict  # {key: (kind, field name)}
    refused: set = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class _Field:
    name: str
    node: generic.DictionaryObject
    key: tuple | None
    kind: str  # /Tx /Btn /Ch /Sig or ""
    value: object
    widgets: list  # (key or None, widget dict)


class Comparison:
    """The signed revision ``old`` against the final revision ``new`` (pyHanko resolvers)."""

    def __init__(self, reader, old_revision: int):
        self.reader = reader
        self.old_revision = old_revision
        self.new_revision = reader.xrefs.total_revisions - 1
        self.old = reader.get_historical_resolver(old_revision)
        self.new = reader.get_historical_resolver(self.new_revision)
        self.visited = 0
        self.equal_pairs: set = set()
        self.changes: list[Change] = []
        # Objects with a role (pages, annotations, fields) are compared by their role's rules; when
        # another structure points at one (a tag at its page, a widget at its field), the pointer
        # is the same if it points at the same object.
        self.role_keys: set = set()
        self.new_pages: list[_Page] = []
        self.widget_pages: dict = {}  # annotation key -> index of the (final) page that shows it

    # --- generic value comparison ------------------------------------------------------------------

    def unchanged_object(self, key) -> bool:
        """Whether the object numbered ``key`` was not rewritten after the signed revision."""
        try:
            last = self.reader.xrefs.get_last_change(generic.Reference(*key))
        except KeyError:
            return False
        return last <= self.old_revision

    def same(self, a, b) -> bool:
        """Whether two values (of the old and the new revision) mean the same thing."""
        stack = [(a, b)]
        pairs = set()
        while stack:
            x, y = stack.pop()
            self.visited += 1
            if self.visited > MAX_OBJECTS:
                raise AnalysisError("document too large to compare")
            kx, ky = _key(x), _key(y)
            if kx is not None and ky is not None:
                pair = (kx, ky)
                if pair in pairs or pair in self.equal_pairs:
                    continue
                if kx == ky and kx in self.role_keys:
                    continue  # the same page, annotation or field: compared by its own rules
                pairs.add(pair)
                x, y = _resolve(x), _resolve(y)
                if kx == ky and self.unchanged_object(kx):
                    # Not rewritten since the signature: only what it points to may differ.
                    stack.extend(zip(_references(x), _references(y), strict=False))
                    continue
            else:
                x, y = _resolve(x), _resolve(y)
            if not self._same_shallow(x, y, stack):
                return False
        self.equal_pairs |= pairs
        return True

    def _same_shallow(self, x, y, stack) -> bool:
        if isinstance(x, generic.StreamObject) or isinstance(y, generic.StreamObject):
            if not (isinstance(x, generic.StreamObject) and isinstance(y, generic.StreamObject)):
                return False
            return self._same_stream(x, y, stack)
        if isinstance(x, generic.DictionaryObject) or isinstance(y, generic.DictionaryObject):
            if not (isinstance(x, generic.DictionaryObject) and isinstance(y, generic.DictionaryObject)):
                return False
            if set(x.keys()) != set(y.keys()):
                return False
            stack.extend((x.raw_get(k), y.raw_get(k)) for k in x)
            return True
        if isinstance(x, list) or isinstance(y, list):
            if not (isinstance(x, list) and isinstance(y, list)) or len(x) != len(y):
                return False
            stack.extend(zip(list.__iter__(x), list.__iter__(y), strict=True))
            return True
        return _same_primitive(x, y)

    def _same_stream(self, x, y, stack) -> bool:
        ignored = {"/Length", "/Filter", "/DecodeParms", "/DL"}
        keys_x, keys_y = set(x.keys()) - ignored, set(y.keys()) - ignored
        if keys_x != keys_y:
            return False
        stack.extend((x.raw_get(k), y.raw_get(k)) for k in keys_x)
        try:
            if x.encoded_data == y.encoded_data and self.same(x.get("/Filter"), y.get("/Filter")) \
                    and self.same(x.get("/DecodeParms"), y.get("/DecodeParms")):
                return True
            return x.data == y.data  # re-encoded by another writer: the same bytes once decoded
        except (misc.PdfError, NotImplementedError, ValueError, TypeError):
            return False

    # --- the document -------------------------------------------------------------------------------

    def run(self) -> list[Change]:
        try:
            old_trailer, new_trailer = _trailer(self.old), _trailer(self.new)
            old_root, new_root = _resolve(old_trailer.raw_get("/Root")), _resolve(new_trailer.raw_get("/Root"))
            if not isinstance(old_root, generic.DictionaryObject) or \
                    not isinstance(new_root, generic.DictionaryObject):
                raise AnalysisError("no document catalogue")
            old_counts, new_counts = [], []
            old_pages, new_pages = self.pages(old_root, old_counts), self.pages(new_root, new_counts)
            if len(old_counts) != len(new_counts) or not all(
                    self.same(a, b) for a, b in zip(old_counts, new_counts, strict=False)):
                self.add(Kind.PAGE_CHANGED, "the page tree's page count")
            self.new_pages = new_pages
            # Pages and the catalogue are compared completely by their own rules below; when another
            # structure points at one (a tag at its page, a lock at the catalogue), the pointer is the
            # same if it points at the same object. Nothing else is taken on trust.
            self.role_keys.update(k for k in (_key(old_trailer.raw_get("/Root")), _key(new_trailer.raw_get("/Root")))
                                  if k)
            # (a page that is also a stream has data no page rule compares: it is compared whole)
            self.role_keys.update(page.key for page in (*old_pages, *new_pages)
                                  if page.key and not isinstance(page.node, generic.StreamObject))
            self.widget_pages = {k: index for index, page in enumerate(new_pages)
                                 for k, _ in self._annotations(page.node) if k}
            old_form, new_form = _get(old_root, "/AcroForm"), _get(new_root, "/AcroForm")
            old_fields, new_fields = self.fields(old_form), self.fields(new_form)
            self._reader_differentials()
            signatures = self.compare_form(old_form, new_form, old_fields, new_fields)
            self.compare_pages(old_pages, new_pages, old_fields, new_fields, signatures)
            self.compare_catalogue(old_root, new_root)
            self.compare_trailer(old_trailer, new_trailer)
        except AnalysisError:
            raise
        except RecursionError as exc:
            raise AnalysisError("structure nested too deeply") from exc
        except (misc.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise AnalysisError(f"{type(exc).__name__}: {exc}") from exc
        return self.changes

    def add(self, kind: Kind, where: str = "", **extra):
        self.changes.append(Change(kind, where, **extra))

    # --- catalogue and trailer ------------------------------------------------------------------------

    CATALOGUE_KINDS = {
        "/DSS": Kind.VALIDATION_DATA,
        "/Metadata": Kind.METADATA,
        "/Extensions": Kind.METADATA,
        "/Version": Kind.METADATA,
        "/StructTreeRoot": Kind.STRUCTURE,
        "/MarkInfo": Kind.STRUCTURE,
        "/OpenAction": Kind.ACTIVE_CONTENT,
        "/AA": Kind.ACTIVE_CONTENT,
    }

    def compare_catalogue(self, old_root, new_root):
        for key in sorted(set(old_root.keys()) | set(new_root.keys())):
            if key in ("/Pages", "/AcroForm"):
                continue
            old_value, new_value = _get(old_root, key), _get(new_root, key)
            if old_value is None and new_value is None:
                continue
            if old_value is not None and new_value is not None and self.same(
                    old_root.raw_get(key), new_root.raw_get(key)):
                continue
            if key == "/Names":
                self._compare_names(old_value, new_value)
                continue
            if key == "/OpenAction" and new_value is not None and not _active_action(new_value) \
                    and isinstance(new_value, list):
                self.add(Kind.DOCUMENT_CHANGED, "/OpenAction")  # a new opening view, not an action
                continue
            self.add(self.CATALOGUE_KINDS.get(key, Kind.DOCUMENT_CHANGED), key)

    def _compare_names(self, old, new):
        old = old if isinstance(old, generic.DictionaryObject) else generic.DictionaryObject()
        new = new if isinstance(new, generic.DictionaryObject) else generic.DictionaryObject()
        for key in sorted(set(old.keys()) | set(new.keys())):
            if key in old and key in new and self.same(old.raw_get(key), new.raw_get(key)):
                continue
            active = key in ("/JavaScript", "/EmbeddedFiles", "/AlternatePresentations")
            self.add(Kind.ACTIVE_CONTENT if active else Kind.DOCUMENT_CHANGED, f"/Names {key}")

    def compare_trailer(self, old, new):
        encrypted = ("/Encrypt" in old, "/Encrypt" in new)
        if any(encrypted) and not (all(encrypted) and self.same(old.raw_get("/Encrypt"), new.raw_get("/Encrypt"))):
            self.add(Kind.DOCUMENT_CHANGED, "/Encrypt")
        old_info, new_info = _get(old, "/Info"), _get(new, "/Info")
        if old_info is None and new_info is None:
            return
        if old_info is None or new_info is None or not self.same(old.raw_get("/Info"), new.raw_get("/Info")):
            self.add(Kind.METADATA, "/Info")

    # --- pages ---------------------------------------------------------------------------------------

    def pages(self, root, counts=None) -> list[_Page]:
        """The pages in order, each with the attributes it inherits from the page tree (and, into
        ``counts``, each tree node's /Count: PDFium believes the root's)."""
        tree = root.raw_get("/Pages") if "/Pages" in root else None
        if tree is None:
            return []
        result, seen = [], set()
        stack = [(tree, {})]
        while stack:
            ref, inherited = stack.pop()
            key = _key(ref)
            if key is not None:
                if key in seen:
                    raise AnalysisError("loop in the page tree")
                seen.add(key)
            node = _resolve(ref)
            if not isinstance(node, generic.DictionaryObject):
                raise AnalysisError("page tree node is not a dictionary")
            mine = dict(inherited)
            for attr in INHERITABLE:
                if attr in node:
                    mine[attr] = node.raw_get(attr)
            if _get(node, "/Type") == "/Pages" or ("/Kids" in node and _get(node, "/Type") != "/Page"):
                kids = _get(node, "/Kids")
                if not isinstance(kids, list):
                    raise AnalysisError("page tree node without kids")
                if counts is not None:
                    counts.append(_get(node, "/Count"))
                stack.extend((kid, mine) for kid in reversed(list(list.__iter__(kids))))
            else:
                result.append(_Page(node, key, mine))
                if len(result) > MAX_PAGES:
                    raise AnalysisError("too many pages")
        return result

    def compare_pages(self, old_pages, new_pages, old_fields, new_fields, signatures):
        if len(new_pages) > len(old_pages):
            self.add(Kind.PAGE_ADDED, f"{len(new_pages) - len(old_pages)} page(s)")
        elif len(new_pages) < len(old_pages):
            self.add(Kind.PAGE_REMOVED, f"{len(old_pages) - len(new_pages)} page(s)")
        widgets = _Widgets({k for f in old_fields.values() for k, _ in f.widgets if k},
                           {k for f in new_fields.values() for k, _ in f.widgets if k},
                           signatures["widgets"], signatures["refused"])
        for index, (old, new) in enumerate(zip(old_pages, new_pages, strict=False)):
            self._compare_page(index, old, new)
            self._compare_annotations(index, old.node, new.node, widgets)

    def _compare_page(self, index, old, new):
        streams = [isinstance(page.node, generic.StreamObject) for page in (old, new)]
        if any(streams) and not (all(streams) and self._same_stream_data(old.node, new.node)):
            self.add(Kind.PAGE_CONTENT, f"page {index + 1}: a page that is a stream", page=index)
        keys = (set(old.node.keys()) | set(new.node.keys()) | set(old.inherited) | set(new.inherited)) \
            - {"/Parent", "/Annots", "/Type"}
        for key in sorted(keys):
            a, b = _page_value(old, key), _page_value(new, key)
            if a is None and b is None:
                continue
            if a is not None and b is not None:
                if key == "/Contents" and self._same_content(a, b):
                    continue
                if key != "/Contents" and self.same(a, b):
                    continue
            where = f"page {index + 1} {key}"
            if key == "/Contents":
                self.add(Kind.PAGE_CONTENT, where, page=index)
            elif key in PAGE_METADATA:
                self.add(Kind.METADATA, where, page=index)
            elif key in PAGE_STRUCTURE:
                self.add(Kind.STRUCTURE, where, page=index)
            elif key == "/AA":
                self.add(Kind.ACTIVE_CONTENT, where, page=index)
            else:
                self.add(Kind.PAGE_CHANGED, where, page=index)

    def _same_stream_data(self, a, b) -> bool:
        try:
            return a.encoded_data == b.encoded_data or a.data == b.data
        except (misc.PdfError, NotImplementedError, ValueError, TypeError):
            return False

    def _same_content(self, a, b) -> bool:
        if self.same(a, b):
            return True
        # The same drawing split or joined into other streams, or compressed otherwise.
        return _content_bytes(a) == _content_bytes(b)

    def _annotations(self, page):
        annots = _get(page, "/Annots")
        if not isinstance(annots, list):
            return []
        return [(_key(raw), _resolve(raw)) for raw in list.__iter__(annots)]

    def _compare_annotations(self, index, old_page, new_page, widgets: "_Widgets"):
        old_list, new_list = self._annotations(old_page), self._annotations(new_page)
        old_by_key = {k: a for k, a in old_list if k}
        new_by_key = {k: a for k, a in new_list if k}
        old_direct = [a for k, a in old_list if not k]
        new_direct = [a for k, a in new_list if not k]
        where = f"page {index + 1}"
        for key, annot in old_by_key.items():
            if key in new_by_key:
                if key in widgets.old and key in widgets.new:
                    continue  # a field's widget, here before and after: compared with its field
                if key in widgets.new:
                    self.add(Kind.FORM_CHANGED, f"{where}: an existing annotation made a field's widget", page=index)
                elif key in widgets.old:
                    self.add(Kind.FORM_CHANGED, f"{where}: a widget taken out of its field", page=index)
                elif not self.same(annot, new_by_key[key]):
                    self._annotation_changed(index, annot, new_by_key[key], "changed")
            elif key in widgets.old:
                self.add(Kind.FORM_CHANGED, f"{where}: a field's widget taken off the page", page=index)
            else:
                self._annotation_changed(index, annot, None, "removed")
        unmatched_new = list(new_direct)
        for annot in old_direct:
            match = next((n for n in unmatched_new if self.same(annot, n)), None)
            if match is not None:
                unmatched_new.remove(match)
            else:
                self._annotation_changed(index, annot, None, "removed")
        added = [(k, a) for k, a in new_by_key.items() if k not in old_by_key] + \
            [(None, a) for a in unmatched_new]
        for key, annot in added:
            self._annotation_added(index, key, annot, widgets)
        # The order of the annotations is the order they are drawn in: the one on top may change.
        kept_old = [k for k, _ in old_list if k and k in new_by_key]
        kept_new = [k for k, _ in new_list if k and k in old_by_key]
        if kept_old != kept_new:
            self.add(Kind.ANNOTATION_CHANGED, f"{where}: annotations drawn in another order", page=index)

    def _annotation_changed(self, index, old, new, how):
        subtype = _get(new if new is not None else old, "/Subtype")
        if new is not None and annotation_actions(new) and not (
                annotation_actions(old) and self.same(old.get("/A"), new.get("/A"))
                and self.same(old.get("/AA"), new.get("/AA"))):
            self.add(Kind.ACTIVE_CONTENT, f"page {index + 1} annotation {subtype} {how}", page=index)
            return
        rect = _rect(new) if new is not None and is_visible(new) else None
        self.add(Kind.ANNOTATION_CHANGED, f"page {index + 1} annotation {subtype} {how}", page=index, rect=rect)

    def _annotation_added(self, index, key, annot, widgets: "_Widgets"):
        subtype = _get(annot, "/Subtype")
        where = f"page {index + 1} {subtype}"
        rect = _rect(annot) if is_visible(annot) else None
        if subtype == "/Widget" or key in widgets.new or key in widgets.old:
            accepted = widgets.signatures.get(key) if key is not None else None
            if accepted is not None:
                kind, name = accepted
                self.add(kind, where, field=name, page=index, rect=rect, widget=key)
            elif key in widgets.new and key not in widgets.old and key in widgets.refused:
                pass  # the new signature field's own refusal says why
            elif key in widgets.new or key in widgets.old:
                self.add(Kind.FORM_CHANGED, f"{where}: a field's widget placed on the page", page=index)
            else:
                self.add(Kind.FIELD_ADDED, f"{where}: a widget of no field", page=index)
            return
        active = annotation_actions(annot)
        if active:
            self.add(Kind.ACTIVE_CONTENT, f"{where} {active}", page=index)
        elif subtype in COMMENT_SUBTYPES and appearance.draws(annot):
            # A note or a highlight is drawn as an icon or a mark: one whose appearance writes text
            # or shows an image writes on the page, whatever its subtype says.
            self.add(Kind.ANNOTATION_CHANGED, f"{where} that writes on the page", page=index, rect=rect)
        elif subtype in COMMENT_SUBTYPES:
            popup_closed = subtype == "/Popup" and not _get(annot, "/Open", False)
            self.add(Kind.COMMENT_ADDED, where, page=index, rect=None if popup_closed else rect)
        else:
            self.add(Kind.ANNOTATION_CHANGED, f"{where} added", page=index, rect=rect)

    def _existed(self, key) -> bool:
        """Whether the object numbered ``key`` was in use in the signed revision."""
        return key is not None and self.reader.xrefs.get_historical_ref(
            generic.Reference(*key), self.old_revision) is not None

    def _reader_differentials(self):
        """Updates that readers can read two ways: an object defined again under another generation
        number (PDFium ignores generations), an object stream that lists an object twice or not where
        the cross-reference says (pyHanko reads the header, PDFium the index)."""
        xrefs = self.reader.xrefs
        generations, signed_streams = {}, set()
        for revision in range(self.old_revision + 1):
            for ref in xrefs.explicit_refs_in_revision(revision):
                generations.setdefault(ref.idnum, set()).add(ref.generation)
            signed_streams |= {ref.idnum for ref in xrefs.object_streams_used_in(revision)}
        for revision in range(self.old_revision + 1, self.new_revision + 1):
            refs = xrefs.explicit_refs_in_revision(revision)
            for ref in refs:
                if ref.idnum in generations and ref.generation not in generations[ref.idnum]:
                    self.add(Kind.DOCUMENT_CHANGED, f"object {ref.idnum} defined again with generation "
                                                    f"{ref.generation}")
                    return
                if ref.idnum in signed_streams:
                    # Its members keep their cross-reference entries, and readers (pyHanko's history
                    # included) read them from the newest copy: the signed objects, silently replaced.
                    self.add(Kind.DOCUMENT_CHANGED, f"object stream {ref.idnum} of the signed revision rewritten")
                    return
            streams = {}
            for ref in refs:
                location = xrefs.get_historical_ref(ref, revision)
                if isinstance(location, ObjStreamRef):
                    streams.setdefault(location.obj_stream_id, []).append((location.ix_in_stream, ref.idnum))
            for stream_id, members in streams.items():
                header = self._object_stream_header(stream_id)
                numbers = [n for n, _ in header]
                if len(set(numbers)) != len(numbers) or any(
                        index >= len(header) or header[index][0] != number for index, number in members):
                    self.add(Kind.DOCUMENT_CHANGED, f"object stream {stream_id} lists its objects inconsistently")
                    return

    def _object_stream_header(self, stream_id) -> list[tuple[int, int]]:
        stream = _resolve(generic.IndirectObject(stream_id, 0, self.reader))
        try:
            count, first = int(stream["/N"]), int(stream["/First"])
            numbers = [int(t) for t in stream.data[:first].split()]
        except (KeyError, TypeError, ValueError, misc.PdfError) as exc:
            raise AnalysisError(f"unreadable object stream {stream_id}: {exc}") from exc
        pairs = list(zip(numbers[0::2], numbers[1::2], strict=False))
        if len(pairs) != count:
            raise AnalysisError(f"object stream {stream_id}: /N {count} but {len(pairs)} entries")
        return pairs

    # --- the form -------------------------------------------------------------------------------------

    def fields(self, form) -> dict[str, _Field]:
        """Terminal fields by full name (inheriting /FT and /V), each with its widgets."""
        if not isinstance(form, generic.DictionaryObject):
            return {}
        top = _get(form, "/Fields")
        if not isinstance(top, list):
            return {}
        result, seen = {}, set()
        stack = [(raw, "", {}) for raw in reversed(list(list.__iter__(top)))]
        while stack:
            raw, prefix, inherited = stack.pop()
            key = _key(raw)
            if key is not None:
                if key in seen:
                    continue  # listed twice: the same field
                seen.add(key)
            node = _resolve(raw)
            if not isinstance(node, generic.DictionaryObject):
                continue
            partial = _get(node, "/T")
            name = f"{prefix}.{partial}" if prefix and partial is not None else (
                str(partial) if partial is not None else prefix)
            mine = dict(inherited)
            for attr in ("/FT", "/V", "/Ff"):
                if attr in node:
                    mine[attr] = _get(node, attr)
            kids = _get(node, "/Kids")
            kid_list = list(list.__iter__(kids)) if isinstance(kids, list) else []
            sub_fields = [k for k in kid_list if isinstance(_resolve(k), generic.DictionaryObject)
                          and "/T" in _resolve(k)]
            if sub_fields:
                stack.extend((k, name, mine) for k in reversed(sub_fields))
                widgets = [(_key(k), _resolve(k)) for k in kid_list if k not in sub_fields]
                if not widgets:
                    continue
            elif kid_list:
                widgets = [(_key(k), _resolve(k)) for k in kid_list]
            else:
                widgets = [(key, node)]  # the field is its own widget
            ft = mine.get("/FT")
            label = name or f"(unnamed {key})"
            while label in result:
                label += "'"
            result[label] = _Field(label, node, key, str(ft) if ft else "", mine.get("/V"), widgets)
            if len(result) > MAX_FIELDS:
                raise AnalysisError("too many form fields")
        return result

    FORM_KINDS = {"/SigFlags": Kind.METADATA, "/XFA": Kind.ACTIVE_CONTENT}
    FIELD_FILL_KEYS = frozenset({"/V", "/I", "/AS", "/AP", "/MK", "/DA", "/Q", "/Ff", "/M", "/RV", "/DS"})
    # What signing an empty signature field may change in it: its value and appearance, the lock the
    # signature applies, its tag, its appearance characteristics; its flags only by adding Print,
    # ReadOnly, Locked or LockedContents (iText adds Locked).
    SIGNING_KEYS = frozenset({"/V", "/AP", "/Lock", "/StructParent", "/MK", "/M"})
    SIGNING_FLAGS = 4 | 64 | 128 | 512

    def compare_form(self, old_form, new_form, old_fields, new_fields) -> dict:
        """Compare the form; return the widgets of new signatures ({key: (kind, field)}) and those
        refused ("refused": set of keys)."""
        old_form = old_form if isinstance(old_form, generic.DictionaryObject) else generic.DictionaryObject()
        new_form = new_form if isinstance(new_form, generic.DictionaryObject) else generic.DictionaryObject()
        regenerated = bool(_get(new_form, "/NeedAppearances", False))
        for key in sorted((set(old_form.keys()) | set(new_form.keys())) - {"/Fields"}):
            if key in old_form and key in new_form and self.same(old_form.raw_get(key), new_form.raw_get(key)):
                continue
            if key == "/DR":
                self._compare_resources(old_form.get("/DR"), new_form.get("/DR"))
            elif key == "/NeedAppearances":
                if regenerated:  # every field is about to be drawn from its value
                    self._regeneration(old_fields, _get(old_form, "/DR"))
                else:
                    self.add(Kind.METADATA, "form /NeedAppearances")  # appearances kept as they are
            elif key in ("/DA", "/Q"):
                # Defaults used only to draw a field anew: harmless unless viewers must redraw them all.
                self.add(Kind.FORM_CHANGED if regenerated else Kind.METADATA, f"form {key}")
            else:
                self.add(self.FORM_KINDS.get(key, Kind.FORM_CHANGED), f"form {key}")

        signatures = {"widgets": {}, "refused": set()}
        for name in old_fields:
            if name not in new_fields:
                self.add(Kind.FIELD_REMOVED, f"field {name}", field=name)
        for name, fld in new_fields.items():
            old = old_fields.get(name)
            if old is None:
                if fld.kind == "/Sig":
                    self._new_signature_field(fld, signatures)
                else:
                    self.add(Kind.FIELD_ADDED, f"field {name}", field=name)
                continue
            self._compare_field(old, fld, signatures)
        return signatures

    def _new_signature_field(self, fld: _Field, signatures):
        """A signature field added after the signature: a new signature, a document timestamp or an
        empty field for the next signer. Its widgets must be new widgets with no action; an empty
        field may draw nothing, a document timestamp nothing at all."""
        kind = _signature_kind(fld.value)
        name = fld.name
        problems = []
        if self._reuses_signature(fld):
            problems.append((Kind.SIGNATURE_REPLACED, f"field {name}: the value of an existing signature"))
        if annotation_actions(fld.node):
            problems.append((Kind.ACTIVE_CONTENT, f"field {name}: an action"))
        for key, widget in fld.widgets:
            if _get(widget, "/Subtype", "/Widget") != "/Widget" and (key != fld.key or "/Subtype" in widget):
                problems.append((Kind.FORM_CHANGED, f"field {name}: a {_get(widget, '/Subtype')} as its widget"))
            elif annotation_actions(widget):
                problems.append((Kind.ACTIVE_CONTENT, f"field {name}: an action on its widget"))
            elif self._existed(key) and key != fld.key:
                problems.append((Kind.FORM_CHANGED, f"field {name}: an existing object made its widget"))
            elif self._existed(key):
                problems.append((Kind.FORM_CHANGED, f"field {name}: an existing object made a signature field"))
            elif is_visible(widget) and kind == Kind.DOCUMENT_TIMESTAMP:
                problems.append((Kind.ANNOTATION_CHANGED, f"field {name}: a visible document timestamp"))
            elif is_visible(widget) and _is_empty_value(fld.value) and appearance.draws(widget):
                problems.append((Kind.ANNOTATION_CHANGED, f"field {name}: an empty signature field that draws"))
        if problems:
            for problem_kind, where in problems:
                self.add(problem_kind, where, field=name)
            signatures["refused"].update(k for k, _ in fld.widgets if k)
            return
        self.add(kind, f"field {name}", field=name, **self._visible_widget(fld))
        for key, _ in fld.widgets:
            signatures["widgets"][key] = (kind, name)

    def _regeneration(self, old_fields, resources):
        """/NeedAppearances switched on: viewers redraw every field from its value. A field that was
        filled when signed must then show what it showed: its value must be the text its appearance
        drew (a "shadow" document stores one value and draws another)."""
        self.add(Kind.FORM_FILLED, "form /NeedAppearances")
        for fld in old_fields.values():
            if fld.kind not in ("/Tx", "/Ch") or _is_empty_value(fld.value):
                continue
            value = appearance.displayed_value(fld.value, _get(fld.node, "/Opt"))
            shown = " ".join(appearance.shown_text(w, resources) for _, w in fld.widgets)
            if not appearance.shows(value, shown):
                self.add(Kind.FIELD_VALUE_REPLACED, f"field {fld.name}: redrawn from a value it did not show",
                         field=fld.name)

    def _compare_resources(self, old, new):
        old = _resolve(old) if old is not None else generic.DictionaryObject()
        new = _resolve(new) if new is not None else generic.DictionaryObject()
        if not isinstance(old, generic.DictionaryObject) or not isinstance(new, generic.DictionaryObject):
            self.add(Kind.FORM_CHANGED, "form /DR")
            return
        for category in sorted(set(old.keys()) | set(new.keys())):
            a, b = _get(old, category), _get(new, category)
            if isinstance(a, generic.DictionaryObject) and isinstance(b, generic.DictionaryObject):
                for name in a:  # existing resources must stay; new ones (a signature's font) may come
                    if name not in b or not self.same(a.raw_get(name), b.raw_get(name)):
                        self.add(Kind.FORM_CHANGED, f"form /DR {category} {name}")
            elif a is not None and not (b is not None and self.same(a, b)):
                self.add(Kind.FORM_CHANGED, f"form /DR {category}")
        self.add(Kind.METADATA, "form /DR")

    def _compare_field(self, old: _Field, new: _Field, signatures):
        name = new.name
        if old.kind != new.kind:
            self.add(Kind.FORM_CHANGED, f"field {name} type", field=name)
            return
        streams = isinstance(old.node, generic.StreamObject) or isinstance(new.node, generic.StreamObject)
        if streams and not self.same(old.node, new.node):  # a field that is also a stream: compared whole
            self.add(Kind.FORM_CHANGED, f"field {name} (a stream)", field=name)
        value_same = (old.value is None and new.value is None) or (
            old.value is not None and new.value is not None and self.same(old.value, new.value))
        signing = False
        if new.kind == "/Sig" and not value_same:
            if not _is_empty_value(old.value):
                self.add(Kind.SIGNATURE_REPLACED, f"field {name}", field=name)
                return
            # An empty signature field signed: its value and its appearance may change, nothing else.
            if self._reuses_signature(new):
                self.add(Kind.SIGNATURE_REPLACED, f"field {name}: the value of an existing signature", field=name)
                return
            signing = True
            kind = _signature_kind(new.value)
            visible = self._visible_widget(new)
            if visible and kind == Kind.DOCUMENT_TIMESTAMP:
                kind = Kind.SIGNATURE_ADDED  # a timestamp is not drawn: one that is, is judged as a signature
            self.add(kind, f"field {name} signed", field=name, lockable=True, **visible)
            for key, _ in new.widgets:
                signatures["widgets"][key] = (kind, name)
        elif new.kind != "/Sig" and not value_same:
            if _is_empty_value(old.value):
                self.add(Kind.FORM_FILLED, f"field {name}", field=name, lockable=True,
                         **self._visible_widget(new))
            else:
                self.add(Kind.FIELD_VALUE_REPLACED, f"field {name}", field=name)
                return
        # The field's own entries (value aside) and its widgets.
        ignored = {"/Kids", "/Parent", "/V", "/P"}
        for key in sorted((set(old.node.keys()) | set(new.node.keys())) - ignored):
            if key in old.node and key in new.node and self.same(old.node.raw_get(key), new.node.raw_get(key)):
                continue
            if not (signing and self._signing_may_change(key, old.node, new.node)):
                self._field_entry_changed(old, new, key, value_same)
        old_widgets = {k: w for k, w in old.widgets if k}
        new_widgets = {k: w for k, w in new.widgets if k}
        if set(old_widgets) != set(new_widgets) or len(old.widgets) != len(new.widgets):
            self.add(Kind.FORM_CHANGED, f"field {name} widgets", field=name)
            return
        for key, widget in new_widgets.items():
            if key == new.key:
                continue  # merged field and widget: compared above
            before = old_widgets[key]
            if isinstance(before, generic.StreamObject) or isinstance(widget, generic.StreamObject):
                if not self.same(before, widget):
                    self.add(Kind.FORM_CHANGED, f"field {name}: a widget that is a stream", field=name)
                continue
            for entry in sorted((set(before.keys()) | set(widget.keys())) - {"/Parent", "/P"}):
                if entry in before and entry in widget and self.same(before.raw_get(entry), widget.raw_get(entry)):
                    continue
                if not (signing and self._signing_may_change(entry, before, widget)):
                    self._field_entry_changed(old, new, entry, value_same, widget=widget)

    def _signing_may_change(self, key, before, after) -> bool:
        if key in self.SIGNING_KEYS:
            return True
        if key == "/F":
            old_flags, new_flags = _flags(before), _flags(after)
            return old_flags & ~new_flags == 0 and (new_flags & ~old_flags) & ~self.SIGNING_FLAGS == 0
        return False

    def _reuses_signature(self, fld) -> bool:
        """Whether a signature field's value is a signature dictionary that existed when signed (a
        keyless "second signature" that shows an earlier one's value under its own appearance)."""
        value = fld.node.raw_get("/V") if "/V" in fld.node else None
        key = _key(value)
        return key is not None and self._existed(key)

    def _field_entry_changed(self, old, new, key, value_same, widget=None):
        name = new.name
        if key in ("/A", "/AA"):
            self.add(Kind.ACTIVE_CONTENT, f"field {name} {key}", field=name)
        elif new.kind == "/Sig":
            self.add(Kind.SIGNATURE_REPLACED, f"field {name} {key}", field=name)
        elif key in self.FIELD_FILL_KEYS and (_is_empty_value(old.value) or (key == "/Ff" and value_same)):
            # Filling an empty field draws its new value; read-only flags may come with a lock.
            self.add(Kind.FORM_FILLED, f"field {name} {key}", field=name, lockable=True,
                     **self._visible_widget(new, widget))
        elif key in self.FIELD_FILL_KEYS:
            # The appearance of a value that was signed, redrawn: what the signer saw is gone.
            self.add(Kind.FIELD_VALUE_REPLACED, f"field {name} {key}", field=name)
        else:
            self.add(Kind.FORM_CHANGED, f"field {name} {key}", field=name)

    def _visible_widget(self, fld, widget=None) -> dict:
        """The page and rectangle of a field's first visible widget (found on the pages that show it,
        whatever its /P says), or {}."""
        candidates = [(None, widget)] if widget is not None else fld.widgets
        for key, candidate in candidates:
            if is_visible(candidate):
                if key is None:
                    key = next((k for k, w in fld.widgets if w is candidate), None)
                page = self.widget_pages.get(key) if key is not None else None
                if page is None:
                    page = self._page_of(candidate)
                if page is not None:
                    return {"rect": _rect(candidate), "page": page, "widget": key}
        return {}

    def _page_of(self, widget):
        key = _key(widget.raw_get("/P")) if "/P" in widget else None
        return next((index for index, page in enumerate(self.new_pages) if key and page.key == key), None)


def _page_value(page: _Page, key):
    if key in INHERITABLE:
        return page.inherited.get(key)
    return page.node.raw_get(key) if key in page.node else None


def _signature_kind(value) -> Kind:
    value = _resolve(value) if value is not None else None
    if isinstance(value, generic.DictionaryObject) and _get(value, "/Type") == "/DocTimeStamp":
        return Kind.DOCUMENT_TIMESTAMP
    return Kind.SIGNATURE_ADDED


def _references(obj):
    """The indirect references directly inside ``obj`` (not through other references)."""
    found, stack = [], [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, generic.IndirectObject):
            found.append(item)
        elif isinstance(item, generic.DictionaryObject):
            stack.extend(item.raw_get(k) for k in item)
        elif isinstance(item, list):
            stack.extend(list.__iter__(item))
    return found


def _same_primitive(x, y) -> bool:
    if isinstance(x, (generic.NumberObject, generic.FloatObject, int, float, Decimal)) and \
            not isinstance(x, bool) and isinstance(y, (generic.NumberObject, generic.FloatObject, int,
                                                       float, Decimal)) and not isinstance(y, bool):
        return Decimal(str(x)) == Decimal(str(y))
    if isinstance(x, generic.NameObject) or isinstance(y, generic.NameObject):
        return isinstance(x, generic.NameObject) and isinstance(y, generic.NameObject) and str(x) == str(y)
    if isinstance(x, (generic.TextStringObject, generic.ByteStringObject)) and \
            isinstance(y, (generic.TextStringObject, generic.ByteStringObject)):
        if isinstance(x, generic.TextStringObject) and isinstance(y, generic.TextStringObject):
            return str(x) == str(y)
        return _string_bytes(x) == _string_bytes(y)
    if isinstance(x, generic.BooleanObject) and isinstance(y, generic.BooleanObject):
        return bool(x) == bool(y)
    if isinstance(x, generic.NullObject) and isinstance(y, generic.NullObject):
        return True
    return type(x) is type(y) and x == y


def _string_bytes(value) -> bytes:
    if isinstance(value, generic.ByteStringObject):
        return bytes(value)
    return value.original_bytes


def _content_bytes(contents) -> bytes:
    """A page's content streams, decoded and joined as a reader joins them."""
    value = _resolve(contents)
    streams = list(list.__iter__(value)) if isinstance(value, list) else [value]
    parts = []
    for stream in streams:
        stream = _resolve(stream)
        if not isinstance(stream, generic.StreamObject):
            return b"\0unreadable"
        try:
            parts.append(stream.data)
        except (misc.PdfError, NotImplementedError, ValueError):
            return b"\0unreadable"
    return b"\n".join(p.strip() for p in parts)


def changes_after(reader, revision: int) -> list[Change]:
    """What the final revision of ``reader`` changes in ``revision`` (raises ``AnalysisError``)."""
    return Comparison(reader, revision).run()
