from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vigil.accounts.actions import issue_api_token
from vigil.accounts.models import User


class Command(BaseCommand):
    help = "Issue a personal API token for a staff user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError("No active staff user with that username.") from None
        token = issue_api_token(user, options["name"], acting_user="manage.py")
        self.stdout.write(token)
