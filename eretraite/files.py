"""Stored files follow their transaction: a file is deleted only once the deletion is committed, and a
file written for a row that fails to be saved is removed again. A rollback never leaves a row
without its file.

- ``delete_on_commit(field_file)``: in a transaction that drops or replaces a row's file;
- ``download(field_file, filename)``: the answer that serves a stored PDF, always as an attachment;
- ``written(field_file, name, content)``: write a file for a row about to be saved in the block; if
  the block raises, the file is removed. (Files are written before the commit, never after: a
  failure to write must refuse the act, not leave a committed row without its file. A transaction
  rolled back further out can leave a file that no row names: harmless, and never served.)
- ``written_at_commit()``: a transaction whose new files are written as its last act, just before it
  commits (a transmittal slip, made in the middle of a workflow transition): nothing is written for
  work that fails, a failed write rolls the transaction back, a failed commit removes what was written.

Only Django's storage API is used (``open``, ``save``, ``delete``, never a file's ``.path``): the same code
works on the local disk and on S3-compatible storage (``eretraite/storage.py``). A clean-up that fails
(a disk error, an object store out of reach) is logged and never fails the act it follows.
"""

import contextlib
import logging

from django.db import transaction
from django.http import FileResponse, Http404

log = logging.getLogger(__name__)


def delete_on_commit(field_file) -> None:
    """Delete the stored file of ``field_file`` when (and if) the current transaction commits."""
    if not field_file:
        return
    storage, name = field_file.storage, field_file.name

    def delete():
        try:
            storage.delete(name)
        except Exception:  # noqa: BLE001 (OSError on disk, botocore's errors on S3: the commit stands)
            log.warning("Could not delete the stored file %s", name, exc_info=True)

    transaction.on_commit(delete)


def download(field_file, filename) -> FileResponse:
    """Serve a stored PDF: as a download (never displayed in the browser's own viewer, where its
    scripts would run), as application/pdf, not sniffed. A file missing from storage is a 404 for the
    reader (and an error in the log), not a crash."""
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        log.error("Stored file missing: %s", getattr(field_file, "name", "?"))
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@contextlib.contextmanager
def written(field_file, name, content):
    """Save ``content`` as ``field_file`` (not the row); remove it if the block raises."""
    field_file.save(name, content, save=False)
    storage, stored = field_file.storage, field_file.name
    try:
        yield field_file
    except BaseException:
        try:
            storage.delete(stored)
        except Exception:  # noqa: BLE001 (the block's own error is the one to raise)
            log.warning("Could not remove the orphan file %s", stored, exc_info=True)
        raise


class _AtCommit:
    """The files of a ``written_at_commit`` block: named at once, written at its end."""

    def __init__(self):
        self.pending, self.stored = [], []

    def add(self, field_file, name, content):
        """Name ``field_file`` now (its row may be saved naming it) and write ``content`` as the block's
        last act. The name must be one nobody else takes (a random one): a name taken refuses the act."""
        field_file.name = field_file.field.generate_filename(field_file.instance, name)
        self.pending.append((field_file.storage, field_file.name, content, field_file.field.max_length))
        return field_file

    def write(self):
        for storage, name, content, max_length in self.pending:
            stored = storage.save(name, content, max_length=max_length)
            self.stored.append((storage, stored))
            if stored != name:  # the storage chose another name: the row would name no file
                raise FileExistsError(name)

    def remove(self):
        for storage, name in self.stored:
            try:
                storage.delete(name)
            except Exception:  # noqa: BLE001 (the block's own error is the one to raise)
                log.warning("Could not remove the orphan file %s", name, exc_info=True)


@contextlib.contextmanager
def written_at_commit():
    """``transaction.atomic()``, whose new files (``files.add(field_file, name, content)``) are written
    to storage as its last act, just before the commit. Nothing is written for work that fails; a write
    that fails rolls the transaction back (no row without its file); a commit that fails removes what
    was written (no file without its row). No one else sees the row before the commit, so no one sees it
    without its file. (Inside a caller's transaction, the files are committed with it; one rolled back
    further out can leave a file no row names, as with ``written``: harmless, never served.)"""
    files = _AtCommit()
    try:
        with transaction.atomic():
            yield files
            files.write()
    except BaseException:
        files.remove()
        raise
