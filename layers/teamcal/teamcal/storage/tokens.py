"""Tokens table repository.

Item shapes (table keys ``pk``/``sk``, index ``gsi1`` on ``gsi1pk``/``gsi1sk``):

* a token: ``pk = "TOKEN#<sha256 hex>"``, ``sk = "TOKEN"``, ``gsi1pk = "TOKENS"``,
  ``gsi1sk = <id, 16 digits>``; its other attributes are those of
  :class:`~teamcal.models.token_record.TokenRecord`. The authorizer finds a token with one
  strongly consistent GetItem on its hash; the admin API lists and finds tokens by id with a
  Query on ``gsi1``.

Reads return :class:`~teamcal.models.token_record.TokenRecord` values, writes take them; this
module imports no pydantic (the authorizer loads it).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import NotFoundError
from teamcal.models.token_record import TokenRecord
from teamcal.storage.dynamo import deserialize, query_all, serialize, translate, value

_LIST_PK = "TOKENS"


def _pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


def _sort_key(token_id: int) -> str:
    return f"{token_id:016d}"


class TokenRepository:
    """Stores :class:`TokenRecord` values keyed by the token's SHA-256 hash.

    ``client`` is a boto3 DynamoDB client; ``table`` the tokens table name.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, record: TokenRecord) -> None:
        """Insert a new token.

        Raises:
            TypeError: ``record`` is not a :class:`TokenRecord` (a dict is not written).
            ConflictError: a token with the same hash exists (astronomically unlikely).
        """
        if not isinstance(record, TokenRecord):
            raise TypeError(f"a TokenRecord is written, not {type(record).__name__}")
        item = {
            **record.item(),
            "pk": _pk(record.token_hash),
            "sk": "TOKEN",
            "gsi1pk": _LIST_PK,
            "gsi1sk": _sort_key(record.id),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as e:
            raise translate(e, "token already exists") from e

    def get_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token record stored under ``token_hash``, or None (strongly consistent read)."""
        try:
            out = self._client.get_item(
                TableName=self._table,
                Key={"pk": value(_pk(token_hash)), "sk": value("TOKEN")},
                ConsistentRead=True,
            )
        except ClientError as e:
            raise translate(e) from e
        return _public(deserialize(out["Item"])) if "Item" in out else None

    def list(self) -> list[TokenRecord]:
        """Every token record in creation order (``created`` epoch ms, then id: ids are random, so
        the index order by id is no order a reader expects). A Query on ``gsi1``; no Scan."""
        found = [
            _public(item)
            for item in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": value(_LIST_PK)},
            )
        ]
        return sorted(found, key=lambda r: (r.created or 0, r.id))

    def delete(self, token_id: int) -> TokenRecord:
        """Delete the token with ``token_id`` and return its record.

        Raises:
            NotFoundError: no such token (also when a concurrent revoke got there first).
        """
        found = list(
            query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p AND gsi1sk = :s",
                ExpressionAttributeValues={":p": value(_LIST_PK), ":s": value(_sort_key(token_id))},
            )
        )
        if not found:
            raise NotFoundError(f"token {token_id} not found")
        try:
            out = self._client.delete_item(
                TableName=self._table,
                Key={"pk": value(_pk(found[0]["tokenHash"])), "sk": value("TOKEN")},
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NotFoundError(f"token {token_id} not found") from e
            raise translate(e) from e
        return _public(deserialize(out["Attributes"]))


def _public(item: dict[str, Any]) -> TokenRecord:
    return TokenRecord.from_item({k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")})
