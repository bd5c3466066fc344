"""Stored files follow their transaction: a file is deleted only once the deletion is committed, and a
file written for a row that fails to be saved is removed again. A rollback never leaves a row
without its file.

- ``delete_on_commit(field_file)``: in a transaction that drops or replaces a row's file;
- ``written(field_file, name, content)``: write a file for a row about to be saved in the block; if
  the block raises, the file is removed. (Files are written before the commit, never after: a
  failure to write must refuse the act, not leave a committed row without its file. A transaction
  rolled back further out can leave a file that no row names: harmless, and never served.)
"""

import contextlib
import logging

from django.db import transaction

log = logging.getLogger(__name__)


def delete_on_commit(field_file) -> None:
    """Delete the stored file of ``field_file`` when (and if) the current transaction commits."""
    if not field_file:
        return
    storage, name = field_file.storage, field_file.name

    def delete():
        try:
            storage.delete(name)
        except OSError:
            log.warning("Could not delete the stored file %s", name, exc_info=True)

    transaction.on_commit(delete)


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
        except OSError:
            log.warning("Could not remove the orphan file %s", stored, exc_info=True)
        raise
