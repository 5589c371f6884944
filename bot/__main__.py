"""`python -m bot` is the same as `bandcoach`."""

import sys

from bot.cli import main

sys.exit(main())
