"""Id tags: authorization, and the idTagInfo they carry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from .. import conf, selectors
from ..clock import format_ocpp_time
from ..models import IdTag, IdTagStatus

# --- id tags --------------------------------------------------------------------------------


def id_tag_authorize(*, id_tag: str, now: datetime | None = None) -> dict[str, Any]:
    """The idTagInfo (OCPP 1.6 IdTagInfo type) for `id_tag`."""
    tag = selectors.id_tag_get(id_tag=id_tag)
    if tag is None:
        accepted = conf.get("OCPP_ACCEPT_UNKNOWN_ID_TAGS")
        return {"status": IdTagStatus.ACCEPTED.value if accepted else IdTagStatus.INVALID.value}
    return id_tag_info(tag=tag, now=now)


def id_tag_info(*, tag: IdTag, now: datetime | None = None) -> dict[str, Any]:
    """The idTagInfo of a known tag: its status (Expired once past its expiry), expiry, parent."""
    now = now or timezone.now()
    status = IdTagStatus(tag.status)
    if status == IdTagStatus.ACCEPTED and tag.expiry_date is not None and tag.expiry_date <= now:
        status = IdTagStatus.EXPIRED
    info: dict[str, Any] = {"status": status.value}
    if tag.expiry_date is not None:
        info["expiryDate"] = format_ocpp_time(tag.expiry_date)
    if tag.parent is not None:
        info["parentIdTag"] = tag.parent.id_tag
    return info
