"""``baton users``: add and list operators, and create the demo logins for ``make run``."""

from __future__ import annotations

import argparse
import getpass


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="operator accounts: add, list, demo")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create an operator (asks for the password unless --password)")
    add.add_argument("email")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=("operator", "supervisor", "admin"), default="operator")
    add.add_argument("--password")
    add.add_argument("--skills", default="", help="comma-separated, e.g. lang:en,topic:billing")
    add.add_argument("--capacity", type=int, default=3)
    add.set_defaults(func=run_add)
    actions.add_parser("list", help="list operators").set_defaults(func=run_list)
    actions.add_parser("demo", help="create the demo operator and admin (idempotent) and print their logins"
                       ).set_defaults(func=run_demo)


def run_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from engine.db import make_engine, session_scope
    from engine.models import OperatorCreate
    from engine.service.errors import ServiceError
    from engine.service.operators import create_operator
    from engine.settings import get_settings
    from knowledge.errors import InputError

    password = args.password or getpass.getpass(f"password for {args.email}: ")
    skills = [skill.strip() for skill in args.skills.split(",") if skill.strip()]
    try:
        data = OperatorCreate(email=args.email, name=args.name, role=args.role, password=password,
                              capacity=args.capacity, skills=skills)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(first["msg"], field=".".join(map(str, first["loc"]))) from None
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            operator = create_operator(session, data)
            print(f"created {operator.role} {operator.email} (id {operator.id})")
    except ServiceError as exc:
        raise InputError(exc.message, field="email") from None
    finally:
        engine.dispose()
    return 0


def run_list(args: argparse.Namespace) -> int:
    from sqlmodel import Session, col, select

    from engine.db import make_engine
    from engine.models import Operator
    from engine.settings import get_settings

    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        for operator in session.exec(select(Operator).order_by(col(Operator.id))):
            print(f"{operator.id}\t{operator.email}\t{operator.name}\t{operator.role}\t{operator.status}")
    engine.dispose()
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from engine.db import make_engine, session_scope
    from engine.service.operators import ensure_demo_operators
    from engine.settings import get_settings

    engine = make_engine(get_settings().database_url)
    with session_scope(engine) as session:
        for operator, password in ensure_demo_operators(session):
            print(f"{operator.role:8} login: {operator.email}  password: {password}")
    engine.dispose()
    return 0
