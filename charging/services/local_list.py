"""The local authorization list (OCPP 1.6 §3.5.2, §5.15 SendLocalList): derived from the IdTag
rows, versioned, so that a charger gets only what changed since the version it has."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import IdTag, IdTagRemoval, LocalList
from .id_tags import id_tag_info

FULL = "Full"
DIFFERENTIAL = "Differential"


@dataclass(frozen=True)
class LocalListUpdate:
    """A SendLocalList.req to bring a charger from `since` to `version` (`entries` in the
    spec's AuthorizationData form; an entry without idTagInfo removes the tag)."""

    version: int
    update_type: str
    entries: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {
            "listVersion": self.version,
            "updateType": self.update_type,
            "localAuthorizationList": self.entries,
        }


def _locked_state() -> LocalList:
    # Version 1 is the list before any change (0 means "no list" to a charger, §5.10).
    state, _ = LocalList.objects.select_for_update().get_or_create(pk=1, defaults={"version": 1})
    return state


def _next_version() -> int:
    """Bump the list version; the row lock orders every change and every update computed."""
    state = _locked_state()
    state.version += 1
    state.save(update_fields=["version"])
    return state.version


def id_tag_save(*, id_tag: IdTag) -> IdTag:
    """Save an id tag (made or edited by an operator) in a new list version, with the tags whose
    parent it is (their idTagInfo names it)."""
    with transaction.atomic():
        version = _next_version()
        id_tag.list_version = version
        id_tag.save()
        IdTag.objects.filter(parent=id_tag).update(list_version=version)
        # A tag made again after a removal is no longer removed.
        IdTagRemoval.objects.filter(id_tag__iexact=id_tag.id_tag).delete()
    return id_tag


def id_tag_delete(*, id_tag: IdTag) -> None:
    """Delete an id tag; chargers drop it from their lists at their next differential update."""
    with transaction.atomic():
        version = _next_version()
        IdTag.objects.filter(parent=id_tag).update(list_version=version)
        IdTagRemoval.objects.create(id_tag=id_tag.id_tag, list_version=version)
        id_tag.delete()


def local_list_update(*, since: int | None) -> LocalListUpdate | None:
    """What a charger at list version `since` needs: None when it is up to date; a full list
    when its version is unknown (None), 0 (no list) or not one of ours; else the differences."""
    with transaction.atomic():
        version = _locked_state().version
        if since == version:
            return None
        tags = IdTag.objects.select_related("parent").order_by(Lower("id_tag"))
        now = timezone.now()
        if since is None or since <= 0 or since > version:
            entries = [
                {"idTag": tag.id_tag, "idTagInfo": id_tag_info(tag=tag, now=now)} for tag in tags
            ]
            return LocalListUpdate(version, FULL, entries)
        changed = [
            {"idTag": tag.id_tag, "idTagInfo": id_tag_info(tag=tag, now=now)}
            for tag in tags.filter(list_version__gt=since)
        ]
        kept = {entry["idTag"].lower() for entry in changed}
        removed = sorted(
            {
                removal.id_tag
                for removal in IdTagRemoval.objects.filter(list_version__gt=since)
                if removal.id_tag.lower() not in kept
                and not IdTag.objects.filter(Q(id_tag__iexact=removal.id_tag)).exists()
            }
        )
        return LocalListUpdate(version, DIFFERENTIAL, changed + [{"idTag": t} for t in removed])
