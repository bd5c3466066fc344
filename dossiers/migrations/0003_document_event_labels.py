"""Document events written before the timeline spoke the reader's language carry the French label of
their checklist item in ``text`` and only its code in ``data["item"]``. Give them the shape they have
had since: ``data["label_fr"]`` and ``data["label_ar"]`` from the checklist item (by the dossier's
kind and the item code), ``text`` empty. An event whose item is no longer in the checklist keeps its
text (the timeline still shows it). Backwards: ``text`` gets the French label again.
"""

from django.db import migrations
from django.db.models import F

DOCUMENT_ACTIONS = ("document_added", "document_replaced", "document_removed")
CHUNK = 1000


def _chunks(queryset, size):
    """Rows in primary-key order, ``size`` at a time (no long-lived cursor, bounded memory)."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def label_document_events(apps, schema_editor, *, chunk=CHUNK):
    Event = apps.get_model("dossiers", "Event")
    ChecklistItem = apps.get_model("dossiers", "ChecklistItem")
    labels = {(kind, code): (fr, ar) for kind, code, fr, ar in
              ChecklistItem.objects.values_list("kind_id", "code", "label_fr", "label_ar")}
    legacy = (Event.objects.filter(action__in=DOCUMENT_ACTIONS).exclude(data__has_key="label_fr")
              .annotate(kind_id=F("dossier__kind_id")).only("pk", "text", "data"))
    for rows in _chunks(legacy, chunk):
        changed = []
        for event in rows:
            data = event.data if isinstance(event.data, dict) else {}
            found = labels.get((event.kind_id, data.get("item")))
            if found is None:
                continue
            event.data = {**data, "label_fr": found[0], "label_ar": found[1]}
            event.text = ""
            changed.append(event)
        Event.objects.bulk_update(changed, ["data", "text"])


def restore_text(apps, schema_editor, *, chunk=CHUNK):
    Event = apps.get_model("dossiers", "Event")
    labelled = (Event.objects.filter(action__in=DOCUMENT_ACTIONS, text="", data__has_key="label_fr")
                .only("pk", "text", "data"))
    for rows in _chunks(labelled, chunk):
        for event in rows:
            event.text = event.data["label_fr"]
        Event.objects.bulk_update(rows, ["text"])


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0002_seed_checklists")]
    operations = [migrations.RunPython(label_document_events, restore_text, elidable=True)]
