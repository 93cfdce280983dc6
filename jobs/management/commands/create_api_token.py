"""Print an API token for a user, creating the user with `--create-user` (e.g. for scripts and demos)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print the API token of USERNAME (created if missing with --create-user)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--create-user", action="store_true", help="create the user when it does not exist"
        )
        parser.add_argument("--staff", action="store_true", help="make the user staff (admin access)")
        parser.add_argument(
            "--password", default=None, help="set this password (for the admin and the web page)"
        )
        parser.add_argument("--rotate", action="store_true", help="replace an existing token with a new one")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        if not username:
            raise CommandError("username must not be empty")
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            if not options["create_user"]:
                raise CommandError(f"no user named {username!r}; pass --create-user to create it")
            user = user_model.objects.create_user(username=username)
        if options["staff"]:
            user.is_staff = user.is_superuser = True
        if options["password"]:
            user.set_password(options["password"])
        user.save()
        if options["rotate"]:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
