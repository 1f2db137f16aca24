"""Stores ledger events with the typed codec; eventsourcing's cipher/compressor still apply."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger_domain.event_codec import decode_state, encode_state, typed_state


class LedgerMapper(Mapper[UUID]):
    """Domain event <-> stored event, using ``event_codec`` instead of the tagged transcoder."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = encode_state(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(originator_id, originator_version, get_topic(type(domain_event)), data)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        data = stored_event.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            raw = decode_state(data)
            state: dict[str, Any] = typed_state(cls, raw, raw.pop("class_version", 1))
        except Exception as error:
            msg = (
                f"cannot read stored event {stored_event.topic} "
                f"{stored_event.originator_id}#{stored_event.originator_version}: {error}"
            )
            raise MapperDeserialisationError(msg) from error
        state["originator_id"] = UUID(str(stored_event.originator_id))
        state["originator_version"] = stored_event.originator_version
        event: DomainEventProtocol[UUID] = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event
