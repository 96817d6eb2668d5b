from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from crewline.core import translations


class Command(BaseCommand):
    help = ("Bring the message catalogues up to date with the code (needs GNU gettext) and "
            "compile them (polib); --compile only compiles.")

    def add_arguments(self, parser):
        parser.add_argument("--compile", action="store_true",
                            help="only compile the .po files into .mo files")

    def handle(self, *args, compile: bool, **options):
        if not compile:
            if not translations.gettext_available():
                raise CommandError("Extracting strings needs GNU gettext (xgettext, msgmerge): "
                                   "apt-get install gettext. --compile needs only Python.")
            os.chdir(translations.ROOT)
            translations.make_messages(verbosity=options["verbosity"])
        try:
            import polib  # noqa: F401 - a development package
        except ImportError as exc:
            raise CommandError("Compiling needs polib, one of the development packages: "
                               "pip install -e '.[dev]'.") from exc
        for path in translations.compile_messages():
            self.stdout.write(f"compiled {path.relative_to(translations.ROOT)}")
