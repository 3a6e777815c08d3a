import sys

from inr.cli.main import main

sys.exit(main())
