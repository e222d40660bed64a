"""The catalogue as data: decoding and encoding messages this build has no
compiled class for."""

import pytest

import sil
from sil import sil_control_pb2 as pb
from sil.catalogue import Catalogue, CatalogueError, CatalogueMessage, Decoder, FieldInfo, message_class

from changed_catalogue import EXTRA_VALUE, changed_messages


def test_local_catalogue_describes_the_compiled_classes_and_hashes_like_the_sim():
    local = Catalogue.local()
    assert [info.name for info in local] == [cls.__name__ for cls in sil.message_types()]
    assert local.compute_hash() == sil.catalogue_hash == local.hash
    for cls in sil.message_types():
        info = local[cls.__name__]
        assert (info.id, info.size) == (int(cls.ID), cls.SIZE)
        assert [(f.name, f.kind, f.offset, f.size) for f in info.fields] == cls.fields()


@pytest.mark.parametrize("cls", sil.message_types(), ids=lambda c: c.__name__)
def test_catalogue_classes_read_and_write_the_same_bytes_as_compiled_ones(cls):
    made = message_class(Catalogue.local()[cls.__name__])
    values = {}
    for name, kind, _offset, size in cls.fields():
        values[name] = "abc"[:size] if kind == "text" else 0.5 if kind in ("f32", "f64") else 1
    compiled = cls(**values)
    dynamic = made(**values)
    assert dynamic.to_bytes() == compiled.to_bytes()
    back = made.from_bytes(compiled.to_bytes())
    assert back == dynamic
    assert {name: getattr(back, name) for name in values} == {name: getattr(compiled, name) for name in values}
    assert (made.ID, made.SIZE, made.NAME) == (int(cls.ID), cls.SIZE, cls.NAME)
    assert made.fields() == cls.fields()
    assert repr(back) == repr(compiled)


def test_catalogue_classes_check_values_like_compiled_ones():
    made = message_class(Catalogue.local()["RevisionResponse"])
    with pytest.raises(OverflowError, match=r"RevisionResponse.request_id: -1 is out of range for u32"):
        made(request_id=-1)
    with pytest.raises(ValueError, match="holds at most 40 bytes"):
        made(git_revision="x" * 41)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        made(nope=1)
    with pytest.raises(TypeError, match="keyword arguments only"):
        made(1)
    with pytest.raises(ValueError, match="needs exactly 65 bytes, got 3"):
        made.from_bytes(b"abc")
    with pytest.raises(AttributeError, match="no field"):
        made.zero().other = 1


@pytest.mark.parametrize("cls", sil.message_types(), ids=lambda c: c.__name__)
def test_catalogue_classes_treat_missing_fields_like_compiled_ones(cls):
    made = message_class(Catalogue.local()[cls.__name__])
    first, *rest = [name for name, *_ in cls.fields()]
    given = {first: 1} if cls.fields()[0][1] != "text" else {first: "a"}
    for kwargs in ({}, given) if rest else ({},):
        with pytest.raises(TypeError) as compiled_error:
            cls(**kwargs)
        with pytest.raises(TypeError) as made_error:
            made(**kwargs)
        assert str(made_error.value) == str(compiled_error.value)
    assert made.zero(**given).to_bytes() == cls.zero(**given).to_bytes()
    assert made.zero().to_bytes() == bytes(cls.SIZE)
    with pytest.raises(TypeError, match=r"\.zero\(\) takes keyword arguments only"):
        made.zero(1)


def _proto_of(catalogue: Catalogue, hash_value: int) -> pb.Catalogue:
    out = pb.Catalogue(hash=hash_value)
    for info in catalogue:
        message = out.messages.add(id=info.id, name=info.name, size=info.size)
        for f in info.fields:
            message.fields.add(name=f.name, type=f.kind, offset=f.offset, size=f.size, count=f.count)
    return out


def _changed_catalogue() -> Catalogue:
    return Catalogue(changed_messages((EXTRA_VALUE, FieldInfo("label", "text", 4, 9, 9))))


def test_decoder_uses_compiled_classes_where_the_layout_agrees():
    remote = Catalogue.from_proto(_proto_of(_changed_catalogue(), 1234))
    assert remote.hash == 1234 and remote.compute_hash() != sil.catalogue_hash
    decoder = Decoder(remote)
    assert decoder.class_for(int(sil.RevisionResponse.ID)) is sil.RevisionResponse
    heartbeat = decoder.decode(int(sil.Heartbeat.ID), bytes(20) + b"\x05\x00")
    assert isinstance(heartbeat, CatalogueMessage) and heartbeat.load == 5
    extra = decoder.Extra(value=-3, label="hi")
    assert decoder.decode(2999, extra.to_bytes()) == extra
    assert decoder.mismatched == ["Heartbeat"]
    with pytest.raises(sil.CatalogueMismatchError, match="lays out Heartbeat .* differently"):
        decoder.resolve(sil.Heartbeat)
    assert decoder.resolve(decoder.Heartbeat)[0] == int(sil.Heartbeat.ID)
    assert decoder.resolve("Extra")[0] == 2999


@pytest.mark.parametrize("change, message", [
    (lambda m: m.fields.add(name="late", type="u8", offset=99, size=1, count=1), "is at offset 99"),
    (lambda m: setattr(m, "size", m.size + 1), "fields cover"),
    (lambda m: setattr(m.fields[0], "type", "u128"), "unknown type"),
    (lambda m: setattr(m.fields[0], "name", "to_bytes"), "cannot be a Python attribute"),
    (lambda m: setattr(m.fields[0], "name", "zero"), "cannot be a Python attribute"),
    (lambda m: setattr(m.fields[0], "name", "from"), "cannot be a Python attribute"),
    (lambda m: setattr(m, "name", "not a name"), "not a Python identifier"),
    (lambda m: setattr(m.fields[0], "size", 3), "has size 3"),
])
def test_a_catalogue_that_does_not_describe_valid_messages_is_refused(change, message):
    proto = _proto_of(Catalogue.local(), 1)
    change(proto.messages[0])
    with pytest.raises(CatalogueError, match=message):
        Catalogue.from_proto(proto)


def test_a_peers_catalogue_is_refused_the_field_names_a_system_cannot_compile_with():
    """One rule in two places: the C++ catalogue refuses these names when a
    system compiles (ipc/field_names.hpp), sil.catalogue when a peer sends them."""
    import keyword
    from sil.catalogue import _RESERVED_NAMES
    compiled = set(sil.system_module().RESERVED_FIELD_NAMES)
    assert compiled == set(_RESERVED_NAMES) | set(keyword.kwlist)
    for name in sorted(compiled):
        proto = _proto_of(Catalogue.local(), 1)
        proto.messages[0].fields[0].name = name
        with pytest.raises(CatalogueError, match="cannot be a Python attribute"):
            Catalogue.from_proto(proto)


def test_duplicate_ids_are_refused():
    proto = _proto_of(Catalogue.local(), 1)
    proto.messages[1].id = proto.messages[0].id
    with pytest.raises(CatalogueError, match="two messages have MsgId"):
        Catalogue.from_proto(proto)
