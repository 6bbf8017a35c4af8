"""Faster DynamoDB reads for the local stack's moto server (dev tooling: nothing here runs on AWS).

Where a large search's time went on the local stack (300 masters, 3,000 singles, one 91-day
``POST /event/search``, measured with cProfile in moto 5.2): about 70 % in moto's generic response
serializer, which walks every attribute value of every item against botocore's shape model
(``moto.core.serialize``), and most of the rest in moto's Query comparing ``DynamoType`` keys
(``cast_value`` builds a ``Decimal`` or a copy for each comparison) while it scans every item of
the table for each Query. teamcal's own reads are the same few Queries as on AWS.

:func:`install` changes these things inside the moto process only, without changing any answer:

* the answers of the item-carrying reads (Query, Scan, GetItem, BatchGetItem) are written with
  ``json.dumps`` (binary values base64-encoded, as the AWS JSON protocol does) instead of the
  shape-walking serializer;
* a Query on the table's own key reads only the items of its partition, not every item of the
  table, and sorts by a plain key;
* such a Query no longer deep-copies the items it returns (nothing after the copy changes them;
  see :func:`_shared_item`) and sizes each item once, not twice; a stored item's size is
  remembered until the next DynamoDB call that is not an item read (:func:`stored_item_size`:
  each page of a search reads the same items again, and sizing was a third of a Query's work);
* moto's ``dynamo_to_dict``, which turns every answer into plain dicts, is replaced by
  :func:`fast_to_dict` (same result, a fraction of the time);
* a Query's answer is remembered, like item sizes, until the next call that is not an item read
  (:func:`remembered_query`): each page of a search runs the same Queries again, and the later
  pages get the first one's answers (about a third of the local stack's time for a 3-page search
  went into these repeated Queries, on both sides of the HTTP hop).

Measured after the first two (300 masters, 3,000 singles, 16,095 occurrences in 3 pages, py-spy on
the moto server): the deep copy was 23 %, ``dynamo_to_dict`` 33 % and ``Item.size`` 12 % of the
server's time.

Answers are byte-for-byte what boto3 parses from moto's own serializer
(``tests/unit/test_devstack_moto_speed.py`` compares them on every attribute type, with and
without pagination, on the table and on indexes, with filters and projections).
"""

from __future__ import annotations

import base64
import inspect
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

#: The DynamoDB operations whose answers carry items (the ones worth a faster serializer).
ITEM_READS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem"})

_installed: dict[str, Any] = {}


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dump_result(result: Any) -> str:
    """A DynamoDB read's result (plain dicts, attribute values in their wire form, ``bytes`` for
    binary) as the body of an AWS JSON 1.0 answer."""
    return json.dumps(result, default=_json_default, separators=(",", ":"))


def install() -> None:
    """Install both speed-ups in this process (idempotent). Call it in the moto server process
    before it serves; :func:`uninstall` restores moto's own code (tests)."""
    if _installed:
        return
    from moto.dynamodb import responses
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    original_result = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in ITEM_READS:
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, dump_result(self.result)
        return original_result(self, context)

    signature = inspect.signature(Table.query)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, hash_key, *args, **kwargs).arguments
        candidates = _candidates(self, hash_key, arguments.get("index_name"), arguments.get("hash_key_conditions"))
        target: Any = self if candidates is None else _PartitionView(self, candidates)
        return original_query(target, hash_key, *args, **kwargs)

    original_query = Table.query
    original_call = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        action = self._get_action()
        if action == "Query":
            return remembered_query(self, original_call)
        if action in ITEM_READS:
            return original_call(self)
        forget_sizes()  # anything else may change items: sizes and answers are made again after it
        try:
            return original_call(self)
        finally:
            forget_sizes()

    setattr(DynamoResult, "execute_result", execute_result)  # noqa: B010 - a patch, on purpose
    setattr(Table, "query", query)  # noqa: B010
    setattr(DynamoHandler, "call_action", call_action)  # noqa: B010
    original_to_dict = getattr(responses, "dynamo_to_dict")  # noqa: B009 - moto does not re-export it
    _installed.update(result=original_result, query=original_query, to_dict=original_to_dict, call=original_call)
    setattr(responses, "dynamo_to_dict", fast_to_dict(original_to_dict))  # noqa: B010


def uninstall() -> None:
    """Restore moto's own serializer and Query (no-op when not installed)."""
    if not _installed:
        return
    from moto.dynamodb import responses
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    setattr(DynamoHandler, "call_action", _installed["call"])  # noqa: B010
    forget_sizes()
    setattr(responses, "dynamo_to_dict", _installed["to_dict"])  # noqa: B010
    setattr(DynamoResult, "execute_result", _installed["result"])  # noqa: B010
    setattr(Table, "query", _installed["query"])  # noqa: B010
    _installed.clear()


def fast_to_dict(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A drop-in for moto's ``dynamo_to_dict`` (``original``) with the same result for every input.

    moto's converts every node of every item through a chain of ``isinstance`` and ``hasattr``
    tests (a third of the moto server's time on a large Query). This one handles the nodes an
    item is made of (plain strings, numbers, booleans, ``None``, lists, dicts and moto's own
    dict subclass, ``DynamoType`` values other than binary) directly and hands every other node
    (binary values, datetimes, objects with ``to_json``, other subclasses) to ``original``.
    """
    from moto.dynamodb.models.dynamo_type import DynamoType

    plain = (str, int, float, bool, type(None))

    def convert(obj: Any) -> Any:
        kind = type(obj)
        if kind in plain:
            return obj
        if kind is DynamoType:
            tag = obj.type
            if tag == "B" or tag == "BS":
                return original(obj)
            return {tag: convert(obj.value)}
        if kind is dict or kind is list:
            pass
        elif isinstance(obj, datetime | DynamoType) or hasattr(obj, "to_json"):
            return original(obj)
        if isinstance(obj, dict):
            return {k: convert(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [convert(v) for v in obj]
        return obj

    return convert


def _candidates(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
    """The only items a Query can return, or None to let moto look at every item.

    On the table's key: the items of the partition (moto's own dict). On an index: the items whose
    index hash attributes hold exactly the queried strings (other key types are left to moto,
    whose equality is numeric for numbers).
    """
    if index_name is None:
        if hash_key is None or not table.range_key_attr:
            return None
        partition = table.items.get(hash_key)
        return list(partition.values()) if partition else []
    wanted = [(name, v.type, v.value) for name, v in conditions or () if v.type == "S"]
    if not wanted or len(wanted) != len(conditions):
        return None
    out = []
    for item in _unsorted_items(table):
        attrs = getattr(item, "attrs", None)
        if attrs is None:
            continue
        for name, kind, raw in wanted:
            found = attrs.get(name)
            if found is None or found.type != kind or found.value != raw:
                break
        else:
            out.append(item)
    # moto's all_items() sorts the whole table by key (DynamoType comparisons, the largest cost
    # of a GSI Query here); sorting only the matches by the same key gives the same list
    out.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    return out


def _unsorted_items(table: Any) -> list[Any]:
    """Every item of ``table``, in no particular order (moto's ``all_items`` without its sort)."""
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def item_size(item: Any) -> int:
    """``item.size()`` (moto's count of an item's bytes, which pages a Query at 1 MB), computed
    without building a ``DynamoType`` for every map value and set member as moto's does."""
    return sum(bytesize(name) + value_size(value) for name, value in item.attrs.items())


def value_size(value: Any) -> int:
    """``value.size()`` of a moto ``DynamoType``, the same number by the same rules."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if type(value) is not DynamoType:
        return int(value.size())
    kind, raw = value.type, value.value
    if kind == "N":
        return len(str(raw))
    if kind in ("SS", "NS", "BS"):
        if kind == "NS":
            return sum(len(str(v)) for v in raw)
        return sum(1 if isinstance(v, bool) else bytesize(v) for v in raw)
    if kind == "L":
        return sum(value_size(v) for v in raw)
    if kind == "M":
        return sum(bytesize(k) + value_size(v if type(v) is DynamoType else DynamoType(v)) for k, v in raw.items())
    if isinstance(raw, bool):
        return 1
    return bytesize(raw)


#: id(stored item) → (the item, its size), valid until the next call that is not an item read
_sizes: dict[int, tuple[Any, int]] = {}
_sizes_generation = [0]
_sizes_lock = threading.Lock()


def forget_sizes() -> None:
    """Drop every remembered item size and Query answer (any DynamoDB call other than an item
    read may change items; it is called before and after each such call, so that a size measured
    or an answer made while one ran is not kept)."""
    with _sizes_lock:
        _sizes_generation[0] += 1
        _sizes.clear()
        _answers.clear()


#: (the account and region's backend, the request's JSON) → (status, headers, body) of a Query's answer, valid until the
#: next DynamoDB call that is not an item read; at most :data:`ANSWERS_KEPT` of them, the oldest
#: dropped first.
_answers: OrderedDict[tuple[int, str], tuple[int, dict[str, Any], str]] = OrderedDict()
ANSWERS_KEPT = 64


def remembered_query(handler: Any, original_call: Callable[[Any], Any]) -> Any:
    """Answer a Query as moto does (``original_call``), or with the answer moto gave the same
    request (byte for byte) when no call that may change items has run since: each page of a
    search runs the same Queries again. Only successful answers are kept; a remembered one gets a
    fresh request id, as every answer does."""
    # the backend's identity too: a reset of moto's state makes new backends
    key = (id(handler.dynamodb_backend), _raw_body(handler))
    with _sizes_lock:
        hit = _answers.get(key)
        if hit is not None:
            _answers.move_to_end(key)
    if hit is not None:
        from moto.utilities.aws_headers import gen_amzn_requestid_long

        status, headers, body = hit[0], dict(hit[1]), hit[2]
        gen_amzn_requestid_long(headers)
        return status, headers, body
    generation = _sizes_generation[0]
    status, headers, body = original_call(handler)
    if status == 200 and isinstance(body, str):
        with _sizes_lock:
            if _sizes_generation[0] == generation:
                _answers[key] = (status, dict(headers), body)
                while len(_answers) > ANSWERS_KEPT:
                    _answers.popitem(last=False)
    return status, headers, body


def _raw_body(handler: Any) -> str:
    raw = getattr(handler, "raw_body", None)
    if raw is None:
        raw = handler.body
    return raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else str(raw)


def stored_item_size(item: Any) -> int:
    """:func:`item_size` of a stored item, measured once between two calls that may change items
    (each page of a search's Queries reads the same items again)."""
    hit = _sizes.get(id(item))
    if hit is not None and hit[0] is item:
        return hit[1]
    generation = _sizes_generation[0]
    size = item_size(item)
    with _sizes_lock:
        if _sizes_generation[0] == generation:
            _sizes[id(item)] = (item, size)
    return size


def bytesize(text: Any) -> int:
    """moto's ``bytesize``: UTF-8 length of a string, length of bytes."""
    return len(text if isinstance(text, bytes) else text.encode("utf-8"))


_shared_class: list[Any] = []


def _shared_item(item: Any) -> Any:
    """A stand-in for a stored moto ``Item`` during one Query: an ``Item`` (subclass) whose
    ``attrs``, ``hash_key`` and ``range_key`` are the stored item's, whose ``size()`` is computed
    once (moto's Query asks twice per item), and whose deep copy is the stored item itself.

    moto's Query deep-copies every item it returns before projecting and filtering them; nothing
    after that copy changes an item (an index projection or a ProjectionExpression builds a new
    ``Item``, a FilterExpression only reads, the answer is converted to new dicts), so the copy
    only costs time (a quarter of the server's on a large Query) and memory: every copied
    ``Item`` is also appended to moto's ``Item.instances_tracked`` list and never freed. The
    stand-in is made with ``object.__new__``, so it is not tracked either.
    """
    if not _shared_class:
        from moto.dynamodb.models.dynamo_type import Item

        def size(self: Any) -> int:
            if self._size is None:
                self._size = stored_item_size(self._item)
            return int(self._size)

        namespace = {
            "__slots__": ("_item", "_size"),
            "__module__": __name__,
            "attrs": property(lambda self: self._item.attrs),
            "hash_key": property(lambda self: self._item.hash_key),
            "range_key": property(lambda self: self._item.range_key),
            "size": size,
            "__deepcopy__": lambda self, memo: self._item,
        }
        # type.__new__, not a class statement: moto's metaclass would register the class in its
        # model registry (moto-api data) as if it were one of moto's own models
        _shared_class.append(type.__new__(type(Item), "_SharedItem", (Item,), namespace))
    stand_in = object.__new__(_shared_class[0])
    stand_in._item = item
    stand_in._size = None
    return stand_in


class _PartitionView:
    """The table as moto's Query sees it, except that ``all_items`` is one partition's items,
    each behind a :func:`_shared_item` stand-in."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Any]:
        return [_shared_item(item) for item in self._items]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)
