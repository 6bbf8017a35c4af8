"""Bootstrap and administration commands, run against whatever endpoint boto3 points at.

    python -m teamcal.admin create-token --name bootstrap --user admin --admin --all-calendars \
        [--stack teamcal | --table TOKENS_TABLE_NAME] [--token FIXED_PLAINTEXT]

The tokens table is found, in order, from ``--table``, from ``--stack`` (the physical id of the
stack's ``TokensTable`` resource, through CloudFormation), or from ``TOKENS_TABLE``. The plaintext
is printed once on stdout (as JSON with ``--json``); only its SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from teamcal import aws
from teamcal.errors import TeamcalError
from teamcal.models.tokens import TokenCreate
from teamcal.services.tokens import create_token, list_tokens
from teamcal.storage.tokens import TokenRepository


def _table(args: argparse.Namespace) -> str:
    if args.table:
        return str(args.table)
    if args.stack:
        out = aws.client("cloudformation").describe_stack_resource(
            StackName=args.stack, LogicalResourceId="TokensTable"
        )
        return str(out["StackResourceDetail"]["PhysicalResourceId"])
    table = os.environ.get("TOKENS_TABLE")
    if not table:
        raise SystemExit("name the tokens table: --table NAME, --stack STACK_NAME or TOKENS_TABLE")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m teamcal.admin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", help="tokens table name")
    parser.add_argument("--stack", help="CloudFormation stack name (looks up TokensTable)")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-token", help="create a token and print its plaintext once")
    create.add_argument("--name", default="bootstrap admin")
    create.add_argument("--user", default="admin")
    create.add_argument("--admin", action="store_true", help="may manage tokens")
    create.add_argument("--all-calendars", action="store_true")
    create.add_argument("--calendar-id", type=int, action="append", default=[], dest="calendar_ids")
    create.add_argument("--edit", action="store_true", help="may edit calendars and sources")
    create.add_argument("--delete", action="store_true", help="may delete calendars and sources")
    create.add_argument("--token", help="use this plaintext (at least 20 characters) instead of a random one")
    create.add_argument("--json", action="store_true", help="print the created token as JSON")
    sub.add_parser("list-tokens", help="list tokens (no secrets)")
    args = parser.parse_args(argv)

    repo = TokenRepository(aws.client("dynamodb"), _table(args))
    try:
        if args.command == "list-tokens":
            for token in list_tokens(repo):
                print(token.model_dump_json(by_alias=True))
            return 0
        request = TokenCreate.model_validate(
            {
                "name": args.name,
                "user": args.user,
                "allCalendars": args.all_calendars,
                "calendarIds": args.calendar_ids,
                "editCalendars": args.edit,
                "deleteCalendars": args.delete,
                "editSources": args.edit,
                "deleteSources": args.delete,
                "admin": args.admin,
            }
        )
        created = create_token(repo, request, created_by=None, plaintext=args.token)
    except TeamcalError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    print(created.model_dump_json(by_alias=True) if args.json else created.token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
