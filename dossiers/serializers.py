"""What the dossier API reads and answers: plain serializers, no business rules."""

from rest_framework import serializers

from . import selectors, timeline
from .workflow import TEXT_MAX_LENGTH


class OpenDossierSerializer(serializers.Serializer):
    affiliate = serializers.IntegerField()
    kind = serializers.CharField(max_length=32)
    parent = serializers.IntegerField(required=False, allow_null=True)


class SignedSlipSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The transmittal slip from slip-to-sign, signed with the certifier's token.")


class DocumentUploadSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40, help_text="Checklist item code, e.g. 'rib'.")
    file = serializers.FileField()
    member = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="Family member, for per-child items.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file = serializers.CharField(source="original_name")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    round = serializers.IntegerField()
    verdict = serializers.CharField()
    signer = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    signed_on_behalf_of = serializers.CharField(source="signed_on_behalf_of.code", allow_null=True, default=None,
                                                help_text="The commune a provincial office signed for.")
    pades_level = serializers.CharField()
    changed_after_signing = serializers.SerializerMethodField(
        help_text="What the file gained after the officer's signature and that the signature allows "
                  "(a later signature, a filled field, a comment), in the request's language.")
    uploaded_at = serializers.DateTimeField()

    def get_changed_after_signing(self, document) -> list[str]:
        return [str(label) for label in selectors.changes_after_signing(document)]


class ChecklistLineSerializer(serializers.Serializer):
    item = serializers.CharField(source="item.code")
    label = serializers.CharField(source="item.label")
    required = serializers.BooleanField()
    member = serializers.IntegerField(source="member.pk", allow_null=True, default=None)
    satisfied = serializers.BooleanField()
    documents = DocumentSerializer(many=True)


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.SerializerMethodField(help_text="Who acted, in the request's language.")
    text = serializers.CharField(help_text="A reason, an observation or the CMR's words, as written.")
    detail = serializers.SerializerMethodField(
        help_text="What the timeline says under the event, in the request's language (Accept-Language): "
                  "a document event's checklist item, else the text.")
    item = serializers.SerializerMethodField(help_text="A document event's checklist item code.")
    label_fr = serializers.SerializerMethodField(help_text="A document event's checklist item, in French.")
    label_ar = serializers.SerializerMethodField(help_text="A document event's checklist item, in Arabic.")
    on_behalf_of = serializers.CharField(source="on_behalf_of.code", allow_null=True, default=None)

    def get_actor(self, event) -> str:
        return timeline.event_actor(event)

    def get_detail(self, event) -> str:
        return timeline.event_detail(event)

    def _document(self, event, key):
        return (event.data or {}).get(key) if event.action in timeline.DOCUMENT_ACTIONS else None

    def get_item(self, event) -> str | None:
        return self._document(event, "item")

    def get_label_fr(self, event) -> str | None:
        return self._document(event, "label_fr")

    def get_label_ar(self, event) -> str | None:
        return self._document(event, "label_ar")


class StepSerializer(serializers.Serializer):
    action = serializers.CharField(source="name")
    label = serializers.CharField(source="transition.label")
    allowed = serializers.BooleanField(help_text="Whether the account asking may take it now.")
    offered = serializers.BooleanField(help_text="Whether the dossier page offers it to the account asking: its "
                                                 "to take, no rule about who acts refusing it (what the dossier "
                                                 "lacks is in 'missing').")
    reasons = serializers.ListField(child=serializers.CharField(),
                                    help_text="Why the account asking may not take it now: its rights, the guards "
                                              "about who acts (four eyes), what the dossier lacks.")
    who = serializers.ListField(child=serializers.CharField(),
                                help_text="Who may take it: the collectivity's officers by name, or the CMR, or "
                                          "the platform.")


class NextStepSerializer(serializers.Serializer):
    missing = serializers.ListField(child=serializers.CharField(),
                                    help_text="What the dossier lacks before its next step.")
    actions = StepSerializer(many=True, source="options",
                             help_text="Each workflow action from the dossier's state, as the account asking "
                                       "sees it (the page's buttons are the offered ones).")


class DossierSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.UUIDField()
    kind = serializers.CharField(source="kind.code")
    affiliate = serializers.IntegerField(source="affiliate_id")
    collectivity = serializers.CharField(source="collectivity.code")
    status = serializers.CharField(source="state")
    state_changed_at = serializers.DateTimeField()
    due_date = serializers.DateField(allow_null=True)
    round = serializers.IntegerField()
    cmr_reference = serializers.CharField()


class DossierDetailSerializer(DossierSummarySerializer):
    status_label = serializers.CharField(source="get_state_display")
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    certified_at = serializers.DateTimeField(allow_null=True)
    second_certifier = serializers.CharField(source="second_certifier.get_full_name", allow_null=True, default=None,
                                             help_text="Whom the council named to certify beside its officers.")
    delegated_to = serializers.CharField(source="delegated_to.code", allow_null=True, default=None,
                                         help_text="The prefecture or province whose provincial office holds "
                                                   "the dossier (locked for the commune meanwhile).")
    checklist = ChecklistLineSerializer(many=True)
    timeline = EventSerializer(many=True)
    next_step = NextStepSerializer()
