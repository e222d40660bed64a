"""The catalogue of a sim built from different sources than this package:
Heartbeat grown by a u16 `load` field, and a message this build lacks
(`Extra`, id 2999). Tests of catalogue mismatch handling share it."""

from sil.catalogue import Catalogue, FieldInfo, MessageInfo

EXTRA_ID = 2999
EXTRA_VALUE = FieldInfo("value", "i32", 0, 4, 1)


def changed_messages(extra_fields=(EXTRA_VALUE,)) -> list[MessageInfo]:
    messages = []
    for info in Catalogue.local():
        if info.name == "Heartbeat":
            info = MessageInfo(info.id, info.name, info.size + 2,
                               info.fields + (FieldInfo("load", "u16", info.size, 2, 1),))
        messages.append(info)
    size = max(f.offset + f.size for f in extra_fields)
    messages.append(MessageInfo(EXTRA_ID, "Extra", size, tuple(extra_fields)))
    return messages
