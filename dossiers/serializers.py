"""What the dossier API reads and answers: plain serializers, no business rules."""

from rest_framework import serializers


class OpenDossierSerializer(serializers.Serializer):
    affiliate = serializers.IntegerField()
    kind = serializers.CharField(max_length=32)
    parent = serializers.IntegerField(required=False, allow_null=True)


class DocumentUploadSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40, help_text="Checklist item code, e.g. 'rib'.")
    file = serializers.FileField()
    member = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="Family member, for per-child items.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file = serializers.CharField(source="original_name")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    round = serializers.IntegerField()
    verdict = serializers.CharField()
    signer = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    pades_level = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


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
    actor = serializers.CharField(source="actor_repr")
    text = serializers.CharField()
    on_behalf_of = serializers.CharField(source="on_behalf_of.code", allow_null=True, default=None)


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
    checklist = ChecklistLineSerializer(many=True)
    timeline = EventSerializer(many=True)
