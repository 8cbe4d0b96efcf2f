"""``baton serve``: run the API, WebSockets and pages with uvicorn (SQLite unless BATON_DATABASE_URL says
otherwise)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the server (REST, WebSocket, pages)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from engine.app import create_app
    from engine.settings import get_settings

    settings = get_settings()
    print(f"baton: database {settings.database_url.split('@')[-1]}, index {settings.index_dir}")
    print(f"baton: chat at http://{args.host}:{args.port}/ , API docs at http://{args.host}:{args.port}/docs")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level,
                ws_max_size=settings.max_request_bytes)  # a socket frame obeys the request size limit
    return 0
