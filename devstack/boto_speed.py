"""Cheaper parsing of DynamoDB item reads inside the local stack's function workers (dev tooling:
nothing here runs on AWS).

Where a large search's time went in the events function on the local stack (300 masters, 3,000
singles, one 91-day ``POST /event/search``, sampled with py-spy): about 30 % of the worker's time
in botocore's response parser, which walks every attribute value of every item of the Query
answers against the service model (``botocore.parsers.BaseJSONParser._handle_structure``). On
Lambda the same parser reads the same answers from DynamoDB; only its speed differs here.

:func:`install` registers one handler on botocore's ``before-parse.dynamodb.<Operation>`` event
for Query, Scan, GetItem and BatchGetItem (the hook botocore gives to customize a response before
its parser runs). The handler takes the items out of the JSON body, converts them with a short
loop (base64 → ``bytes`` for ``B`` and ``BS``, recursion into ``M`` and ``L``, everything else as
JSON gave it: what botocore's parser does to an AttributeValue) and hands them back through
``customized_response_dict``; botocore's own parser still reads the rest (Count, LastEvaluatedKey,
UnprocessedKeys, ConsumedCapacity, ResponseMetadata). Any attribute value of another form (several
or no type keys, a null, an unknown type) is parsed by botocore's parser itself. Errors (status
not 200) are left to botocore whole.

``tests/unit/test_devstack_boto_speed.py`` checks that the parsed answers equal botocore's own on
every attribute type, on the four operations, with and without pagination.
"""

from __future__ import annotations

import base64
import importlib.abc
import importlib.machinery
import json
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

#: The DynamoDB reads whose answers carry items, and the members of their output that hold them.
ITEM_MEMBERS = {"Query": "Items", "Scan": "Items", "GetItem": "Item", "BatchGetItem": "Responses"}

#: A ``B`` or ``BS`` key (any white space before its colon) or a null.
_NOT_PLAIN = re.compile(rb'"BS?"\s*:|null')
_SCALARS = frozenset({"S", "N", "SS", "NS", "NULL", "BOOL"})
_state: dict[str, Any] = {}


class _Fallback(Exception):
    """An attribute value this module does not convert itself (botocore's parser does)."""


def _value(av: Any) -> Any:
    if type(av) is not dict or len(av) != 1:
        raise _Fallback
    ((kind, raw),) = av.items()
    if raw is None:
        raise _Fallback
    if kind in _SCALARS:
        return {kind: raw}
    if kind == "M":
        return {"M": _item(raw)}
    if kind == "L":
        if type(raw) is not list:
            raise _Fallback
        return {"L": [_value(v) for v in raw]}
    if kind == "B":
        return {"B": base64.b64decode(raw)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in raw]}
    raise _Fallback


def _item(raw: Any) -> dict[str, Any]:
    if type(raw) is not dict:
        raise _Fallback
    return {name: _value(av) for name, av in raw.items()}


def parse_items(operation: str, member: Any) -> Any:
    """The parsed form of the item-carrying member of ``operation``'s answer (as JSON gave it).

    Raises:
        _Fallback: something this module does not convert itself.
    """
    if operation == "GetItem":
        return _item(member)
    if operation == "BatchGetItem":
        if type(member) is not dict:
            raise _Fallback
        return {table: _items(items) for table, items in member.items()}
    return _items(member)


def _items(raw: Any) -> list[dict[str, Any]]:
    if type(raw) is not list:
        raise _Fallback
    return [_item(i) for i in raw]


def _plain_json(body: bytes | str) -> bool:
    """Whether a DynamoDB answer's JSON has no ``B``/``BS`` key and no null anywhere.

    Inside a JSON string a quote is escaped, so ``"B":`` in the text is a key (a ``B`` attribute
    value, or an attribute named ``B``: then the slower walk runs, and gives the same result);
    ``null`` outside a string is a null (inside one, the walk runs too). An answer without either
    is what botocore's parser returns as it is: every other attribute value type keeps its JSON
    form there.
    """
    text = body if isinstance(body, bytes) else body.encode("utf-8")
    return _NOT_PLAIN.search(text) is None


def before_parse(
    operation_model: Any, response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore ``before-parse.dynamodb.*`` handler: move the items out of a 200 answer's body into
    ``customized_response_dict``, parsed (see the module docstring)."""
    member_name = ITEM_MEMBERS.get(operation_model.name)
    if member_name is None or response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes | str) or not body:
        return
    try:
        data = json.loads(body)
    except ValueError:
        return
    if type(data) is not dict or data.get(member_name) is None:
        return
    raw = data.pop(member_name)
    if _plain_json(body):
        parsed = raw  # no binary value, no null: botocore's parser would return the JSON as it is
    else:
        try:
            parsed = parse_items(operation_model.name, raw)
        except (_Fallback, ValueError, TypeError):
            return  # botocore parses the untouched body
    response_dict["body"] = json.dumps(data).encode("utf-8")
    customized_response_dict[member_name] = parsed


def _register(handlers: ModuleType) -> None:
    builtin: list[Any] = handlers.BUILTIN_HANDLERS
    for operation in ITEM_MEMBERS:
        spec = (f"before-parse.dynamodb.{operation}", before_parse)
        if spec not in builtin:
            builtin.append(spec)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Registers the handler as soon as ``botocore.handlers`` is imported (before any session)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != "botocore.handlers":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_register(module: ModuleType) -> None:
            exec_module(module)
            _register(module)

        loader.exec_module = exec_and_register  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Register the handler for every botocore session created from now on, without importing
    botocore (a worker's cold start stays what the function's own imports cost). Idempotent;
    :func:`uninstall` undoes it (tests). Sessions created before the call are not changed."""
    if _state:
        return
    handlers = sys.modules.get("botocore.handlers")
    if handlers is not None:
        _register(handlers)
    else:
        finder = _PatchOnImport()
        sys.meta_path.insert(0, finder)
        _state["finder"] = finder
    _state["installed"] = True


def uninstall() -> None:
    """Remove the handler from botocore's built-in list (sessions already created keep it)."""
    finder = _state.pop("finder", None)
    if finder is not None and finder in sys.meta_path:
        sys.meta_path.remove(finder)
    _state.clear()
    handlers = sys.modules.get("botocore.handlers")
    if handlers is not None:
        handlers.BUILTIN_HANDLERS[:] = [s for s in handlers.BUILTIN_HANDLERS if s[1:2] != (before_parse,)]
