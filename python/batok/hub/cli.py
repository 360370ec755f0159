"""``batok login``, ``logout``, ``whoami`` and ``serve-hub``; wired into ``batok.cli``.

The token is read without echo (or from ``--token``, or piped on stdin) and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from .auth import delete_token, get_credential, save_token, token_path
from .download import whoami
from .errors import HubError

__all__ = ["add_commands"]


def add_commands(subparsers: Any) -> None:
    """Add the hub commands to an argparse ``add_subparsers()`` object."""
    login = subparsers.add_parser(
        "login",
        help="save a hub access token",
        description="Save a token to {BA_HOME}/token (0600). Prompts without echo; a piped "
        "stdin is read too. --token puts the token in your shell history and process list.",
    )
    login.add_argument("--token", help="the token (prefer the prompt)")
    login.add_argument("--endpoint", help="hub URL (default: BA_ENDPOINT or the BOINC AI Hub)")
    login.add_argument(
        "--no-verify", action="store_true", help="save without checking it with the hub"
    )
    login.set_defaults(func=_login)

    logout = subparsers.add_parser("logout", help="delete the saved token")
    logout.set_defaults(func=_logout)

    who = subparsers.add_parser("whoami", help="show who the current token belongs to")
    who.add_argument("--endpoint", help="hub URL (default: BA_ENDPOINT or the BOINC AI Hub)")
    who.set_defaults(func=_whoami)

    from ..testing.hub import add_arguments

    serve = subparsers.add_parser(
        "serve-hub",
        help="run the loopback test hub over a folder of repos",
        description="A local hub for tests: {org}/{name}/ folders under --root, users and gated "
        "or private repos from hub.json (see batok.testing.hub).",
    )
    add_arguments(serve)
    serve.set_defaults(func=_serve_hub)


def _login(args: argparse.Namespace) -> int:
    token = args.token
    if token is None:
        if sys.stdin.isatty():
            token = getpass.getpass("Hub access token (input hidden): ")
        else:
            token = sys.stdin.readline()
    token = (token or "").strip()
    if not token:
        print("batok login: no token given.", file=sys.stderr)
        return 2
    if not args.no_verify:
        try:
            info = whoami(token, endpoint=args.endpoint)
        except HubError as exc:
            print(f"batok login: {exc}", file=sys.stderr)
            return 1
        print(f"Token is valid; it belongs to {info.get('name', '?')}.")
    try:
        path = save_token(token)
    except (ValueError, OSError) as exc:
        print(f"batok login: {exc}", file=sys.stderr)
        return 1
    print(f"Token saved to {path}.")
    if os.environ.get("BA_ACCESS_TOKEN", "").strip():
        print("Note: BA_ACCESS_TOKEN is set and takes precedence over the saved token.")
    return 0


def _logout(args: argparse.Namespace) -> int:
    if delete_token():
        print(f"Deleted {token_path()}.")
    else:
        print("No saved token.")
    if os.environ.get("BA_ACCESS_TOKEN", "").strip():
        print("Note: BA_ACCESS_TOKEN is still set in this environment.")
    return 0


def _whoami(args: argparse.Namespace) -> int:
    cred = get_credential()
    if cred is None:
        print("Not logged in: set BA_ACCESS_TOKEN or run `batok login`.", file=sys.stderr)
        return 1
    try:
        info = whoami(endpoint=args.endpoint)
    except HubError as exc:
        print(f"batok whoami: {exc}", file=sys.stderr)
        return 1
    print(info.get("name", "?"))
    orgs = [org.get("name") for org in info.get("orgs", []) if isinstance(org, dict)]
    if orgs:
        print("orgs: " + ", ".join(str(o) for o in orgs))
    print(f"(token from {cred.source})")
    return 0


def _serve_hub(args: argparse.Namespace) -> int:
    from ..testing.hub import serve

    return serve(args)
